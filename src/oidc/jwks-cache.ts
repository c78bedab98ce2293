// The provider's signing keys (JWKS, RFC 7517), cached and refreshed when a token names a key id
// we do not know (the provider rotated its keys), with a floor on refreshes so that a stream of
// forged tokens with random kids cannot make us hammer the provider.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { CustomFetch } from 'openid-client';
import { IdTokenError } from './errors.js';

const MAX_JWKS_BYTES = 512 * 1024;
const MAX_JWKS_KEYS = 100;

export interface JwksCacheOptions {
  readonly jwksUri: URL;
  readonly timeoutMs: number;
  /** A refresh because of an unknown kid happens at most this often (default 30 s). */
  readonly minRefreshIntervalMs?: number;
  /** Keys older than this are fetched again before use (default 10 min). */
  readonly maxAgeMs?: number;
  /** Same shape as openid-client's customFetch, so one test hook serves both. */
  readonly fetch?: CustomFetch;
  readonly now?: () => number;
}

interface CachedJwk {
  readonly jwk: JsonWebKey & { kid?: string; alg?: string; use?: string; key_ops?: string[] };
  key: KeyObject | undefined;
}

/** JWS alg → the JWK kty (and curve) that can verify it (RFC 7518 §3.1, RFC 8037). */
function keyTypeFor(alg: string): { kty: string; crv?: string } | undefined {
  switch (alg) {
    case 'RS256':
    case 'RS384':
    case 'RS512':
    case 'PS256':
    case 'PS384':
    case 'PS512':
      return { kty: 'RSA' };
    case 'ES256':
      return { kty: 'EC', crv: 'P-256' };
    case 'ES384':
      return { kty: 'EC', crv: 'P-384' };
    case 'ES512':
      return { kty: 'EC', crv: 'P-521' };
    case 'EdDSA':
    case 'Ed25519':
      return { kty: 'OKP', crv: 'Ed25519' };
    default:
      return undefined;
  }
}

export class JwksCache {
  readonly #opts: JwksCacheOptions;
  #keys: CachedJwk[] = [];
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;

  constructor(opts: JwksCacheOptions) {
    this.#opts = opts;
  }

  get fetchedAt(): number {
    return this.#fetchedAt;
  }

  /** Fetch the JWKS now; returns how many usable keys it holds. */
  async refreshNow(): Promise<number> {
    await this.#refresh();
    return this.#keys.length;
  }

  /** The public key that verifies a JWS with this header, fetching or refreshing the JWKS as needed. */
  async keyFor(alg: string, kid: string | undefined): Promise<KeyObject> {
    const now = this.#now();
    const maxAge = this.#opts.maxAgeMs ?? 600_000;
    if (now - this.#fetchedAt > maxAge) {
      try {
        await this.#refresh();
      } catch (err) {
        // A provider hiccup at the periodic refresh must not lock everyone out: keep the keys we have.
        if (this.#keys.length === 0) throw err;
      }
    }
    let found = this.#select(alg, kid);
    if (found === undefined && this.#now() - this.#fetchedAt >= (this.#opts.minRefreshIntervalMs ?? 30_000)) {
      await this.#refresh();
      found = this.#select(alg, kid);
    }
    if (found === undefined) {
      throw new IdTokenError('unknown-key', `no key in the provider's JWKS matches alg ${alg}${kid === undefined ? '' : ` kid ${JSON.stringify(kid).slice(0, 80)}`}`);
    }
    found.key ??= importJwk(found.jwk, alg);
    return found.key;
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }

  #select(alg: string, kid: string | undefined): CachedJwk | undefined {
    const want = keyTypeFor(alg);
    if (want === undefined) return undefined;
    const candidates = this.#keys.filter(({ jwk }) => {
      if (jwk.kty !== want.kty) return false;
      if (want.crv !== undefined && jwk.crv !== want.crv) return false;
      if (kid !== undefined && jwk.kid !== kid) return false;
      if (jwk.alg !== undefined && jwk.alg !== alg) return false;
      if (jwk.use !== undefined && jwk.use !== 'sig') return false;
      if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) return false;
      return true;
    });
    // Without a kid the choice must be unambiguous (OIDC Core §10.1).
    if (candidates.length !== 1) return undefined;
    return candidates[0];
  }

  async #refresh(): Promise<void> {
    this.#inflight ??= this.#download().finally(() => {
      this.#inflight = undefined;
    });
    await this.#inflight;
  }

  async #download(): Promise<void> {
    const doFetch: CustomFetch = this.#opts.fetch ?? ((url, init) => fetch(url, { method: init.method, headers: init.headers, redirect: init.redirect, ...(init.signal === undefined ? {} : { signal: init.signal }) }));
    let text: string;
    try {
      // Redirects are not followed: a 3xx is an error, like any status but 200.
      const response = await doFetch(this.#opts.jwksUri.href, {
        method: 'GET',
        body: undefined,
        headers: { accept: 'application/jwk-set+json, application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#opts.timeoutMs),
      });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      const declared = Number(response.headers.get('content-length') ?? '0');
      if (declared > MAX_JWKS_BYTES) throw new Error('JWKS too large');
      text = await response.text();
      if (text.length > MAX_JWKS_BYTES) throw new Error('JWKS too large');
    } catch (err) {
      // Keep the old keys: a provider hiccup must not invalidate keys we already trust.
      throw new IdTokenError('unknown-key', `cannot fetch the provider's JWKS from ${this.#opts.jwksUri.href}: ${(err as Error).message}`);
    }
    this.#keys = parseJwks(text);
    this.#fetchedAt = this.#now();
  }
}

/** Parse a JWKS document, keeping only well-formed public key entries (bounded). */
export function parseJwks(text: string): CachedJwk[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new IdTokenError('unknown-key', 'the provider JWKS is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { keys?: unknown }).keys)) {
    throw new IdTokenError('unknown-key', 'the provider JWKS has no "keys" array');
  }
  const out: CachedJwk[] = [];
  for (const entry of (doc as { keys: unknown[] }).keys.slice(0, MAX_JWKS_KEYS)) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue;
    const jwk = entry as Record<string, unknown>;
    if (typeof jwk['kty'] !== 'string') continue;
    // A private or symmetric key in a public JWKS is a provider bug; never use it.
    if ('d' in jwk || jwk['kty'] === 'oct') continue;
    out.push({ jwk: jwk as CachedJwk['jwk'], key: undefined });
  }
  return out;
}

function importJwk(jwk: CachedJwk['jwk'], alg: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk, format: 'jwk' });
  } catch (err) {
    throw new IdTokenError('unknown-key', `the provider JWKS key for ${alg} cannot be imported: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new IdTokenError('alg-not-allowed', `RSA key of ${bits} bits is too small (2048 minimum)`);
  }
  return key;
}
