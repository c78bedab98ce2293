// Full ID token validation (OIDC Core §3.1.3.7 and §3.3.2.12 for the device grant's token
// endpoint response). openid-client checks iss/aud/azp/exp and the presence of iat/sub, but by
// default it does not verify the signature of a token received from the token endpoint (it
// relies on TLS, Core §3.1.3.7 step 6), does not bound iat, and accepts an "alg" the provider's
// metadata lists (which may include "none" or HS256). We check everything here, independently.
import { constants, createHmac, type KeyObject, timingSafeEqual, verify } from 'node:crypto';
import type { Secret } from './config.js';
import { IdTokenError } from './errors.js';

const MAX_TOKEN_LENGTH = 64 * 1024;

export interface DecodedJwt {
  readonly header: Readonly<Record<string, unknown>> & { readonly alg: string; readonly kid?: string };
  readonly claims: Readonly<Record<string, unknown>>;
  readonly signingInput: Uint8Array;
  readonly signature: Uint8Array;
}

export interface IdTokenClaims extends Readonly<Record<string, unknown>> {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly iat: number;
}

export interface IdTokenExpectations {
  readonly issuer: string;
  readonly clientId: string;
  /** The nonce we sent; `undefined` means we sent none, so the token must carry none. */
  readonly nonce: string | undefined;
  readonly nowSeconds: number;
  readonly clockSkewSeconds: number;
  /** Refuse tokens whose iat is older than this. */
  readonly maxAgeSeconds: number;
}

export interface IdTokenKeys {
  keyFor(alg: string, kid: string | undefined): Promise<KeyObject>;
}

export interface IdTokenVerifyOptions extends IdTokenExpectations {
  readonly keys: IdTokenKeys;
  readonly allowHmac: boolean;
  readonly clientSecret: Secret | undefined;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

function b64urlDecode(part: string): Buffer {
  if (!B64URL.test(part) || part.length % 4 === 1) throw new IdTokenError('malformed', 'ID token is not base64url');
  return Buffer.from(part, 'base64url');
}

function jsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new IdTokenError('malformed', `ID token ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new IdTokenError('malformed', `ID token ${what} is not an object`);
  return value as Record<string, unknown>;
}

/** Split and decode a compact JWS (RFC 7515 §7.1). Total: any input gives a value or an IdTokenError. */
export function decodeJwt(token: string): DecodedJwt {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new IdTokenError('malformed', 'ID token missing or too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw new IdTokenError('malformed', `ID token has ${parts.length} parts, expected 3 (encrypted tokens are not supported)`);
  const [h, p, s] = parts as [string, string, string];
  const header = jsonObject(b64urlDecode(h), 'header');
  const claims = jsonObject(b64urlDecode(p), 'payload');
  const alg = header['alg'];
  if (typeof alg !== 'string') throw new IdTokenError('malformed', 'ID token header has no alg');
  const kid = header['kid'];
  if (kid !== undefined && typeof kid !== 'string') throw new IdTokenError('malformed', 'ID token kid is not a string');
  if (header['crit'] !== undefined) throw new IdTokenError('malformed', 'ID token uses unsupported "crit" extensions');
  return {
    header: header as DecodedJwt['header'],
    claims,
    signingInput: new TextEncoder().encode(`${h}.${p}`),
    signature: new Uint8Array(b64urlDecode(s)),
  };
}

function hashFor(alg: string): 'sha256' | 'sha384' | 'sha512' | undefined {
  switch (alg.slice(2)) {
    case '256':
      return 'sha256';
    case '384':
      return 'sha384';
    case '512':
      return 'sha512';
    default:
      return undefined;
  }
}

/** Check the JWS signature. `none` is always refused; HS* only when configured, keyed by the client secret. */
export async function verifyJwtSignature(jwt: DecodedJwt, opts: Pick<IdTokenVerifyOptions, 'keys' | 'allowHmac' | 'clientSecret'>): Promise<void> {
  const { alg, kid } = jwt.header;
  if (alg.toLowerCase() === 'none') throw new IdTokenError('alg-none', 'ID token is unsigned (alg "none")');
  const hash = hashFor(alg);
  if (alg.startsWith('HS') && hash !== undefined) {
    if (!opts.allowHmac || opts.clientSecret === undefined) {
      throw new IdTokenError('hmac-not-allowed', `ID token signed with ${alg} (shared secret); not allowed by configuration`);
    }
    const mac = createHmac(hash, opts.clientSecret.reveal()).update(jwt.signingInput).digest();
    if (mac.length !== jwt.signature.length || !timingSafeEqual(mac, jwt.signature)) throw new IdTokenError('bad-signature', `ID token ${alg} signature does not verify`);
    return;
  }
  const family = alg.slice(0, 2);
  if (!(['RS', 'PS', 'ES'].includes(family) && hash !== undefined) && alg !== 'EdDSA' && alg !== 'Ed25519') {
    throw new IdTokenError('alg-not-allowed', `ID token alg ${JSON.stringify(alg).slice(0, 40)} is not supported`);
  }
  const key = await opts.keys.keyFor(alg, kid);
  let ok: boolean;
  try {
    if (family === 'RS') ok = verify(hash ?? null, jwt.signingInput, key, jwt.signature);
    else if (family === 'PS') {
      const saltLength = Number(alg.slice(2)) / 8;
      ok = verify(hash ?? null, jwt.signingInput, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, jwt.signature);
    } else if (family === 'ES') ok = verify(hash ?? null, jwt.signingInput, { key, dsaEncoding: 'ieee-p1363' }, jwt.signature);
    else ok = verify(null, jwt.signingInput, key, jwt.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new IdTokenError('bad-signature', `ID token signature does not verify with the provider's key${kid === undefined ? '' : ` ${kid}`}`);
}

function num(claims: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const v = claims[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new IdTokenError('malformed', `ID token "${name}" is not a number`);
  return v;
}

/** The claim checks of OIDC Core §3.1.3.7 steps 2–4, 9–11 (pure). */
export function checkIdTokenClaims(claims: Readonly<Record<string, unknown>>, x: IdTokenExpectations): IdTokenClaims {
  if (claims['iss'] !== x.issuer) throw new IdTokenError('issuer', `ID token issuer ${JSON.stringify(claims['iss'])?.slice(0, 200)} is not ${x.issuer}`);
  const aud = claims['aud'];
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === 'string') ? (aud as string[]) : undefined;
  if (audiences === undefined || !audiences.includes(x.clientId)) {
    throw new IdTokenError('audience', `ID token audience ${JSON.stringify(aud)?.slice(0, 200)} does not include ${x.clientId}`);
  }
  const azp = claims['azp'];
  // Core §3.1.3.7 steps 4–5: with several audiences azp must be present and name us.
  if (audiences.length > 1 && azp !== x.clientId) throw new IdTokenError('azp', `ID token has several audiences and azp ${JSON.stringify(azp)?.slice(0, 100)} is not ${x.clientId}`);
  if (azp !== undefined && azp !== x.clientId) throw new IdTokenError('azp', `ID token azp ${JSON.stringify(azp).slice(0, 100)} is not ${x.clientId}`);
  const sub = claims['sub'];
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255) throw new IdTokenError('subject', 'ID token has no usable "sub"');
  const exp = num(claims, 'exp');
  const iat = num(claims, 'iat');
  if (exp === undefined || iat === undefined) throw new IdTokenError('malformed', 'ID token lacks exp or iat');
  const skew = x.clockSkewSeconds;
  if (exp <= x.nowSeconds - skew) throw new IdTokenError('expired', `ID token expired at ${new Date(exp * 1000).toISOString()}`);
  if (iat > x.nowSeconds + skew) throw new IdTokenError('issued-in-future', `ID token issued in the future (${new Date(iat * 1000).toISOString()})`);
  if (iat < x.nowSeconds - skew - x.maxAgeSeconds) throw new IdTokenError('too-old', `ID token issued at ${new Date(iat * 1000).toISOString()}, too long ago`);
  const nbf = num(claims, 'nbf');
  if (nbf !== undefined && nbf > x.nowSeconds + skew) throw new IdTokenError('not-yet-valid', 'ID token not valid yet (nbf)');
  if (claims['nonce'] !== x.nonce) {
    throw new IdTokenError('nonce', x.nonce === undefined ? 'ID token carries a nonce although this sign-in sent none' : 'ID token nonce does not match this sign-in');
  }
  return claims as IdTokenClaims;
}

/** Decode, verify the signature, then check the claims. */
export async function verifyIdToken(token: string, opts: IdTokenVerifyOptions): Promise<IdTokenClaims> {
  const jwt = decodeJwt(token);
  await verifyJwtSignature(jwt, opts);
  return checkIdTokenClaims(jwt.claims, opts);
}
