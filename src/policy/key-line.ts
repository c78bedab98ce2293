/**
 * Public key lines in the policy ("ssh-ed25519 AAAA... comment"), parsed by src/keys so a
 * key is checked as strictly here (on-curve points, RSA sizes, strict base64) as on the wire.
 * Keys are compared by their blob (RFC 4253 §6.6), never by the text, so comments and base64
 * spelling do not matter. Certificates are refused: a policy names keys and CAs, not
 * certificates.
 */
import { KeyFormatError } from '../keys/errors.js';
import { fingerprintSha256, isCertificateKey, parsePublicKeyLine } from '../keys/public-key.js';
import { KeyLineError } from './errors.js';
import type { PolicyKey } from './types.js';

/**
 * Parsed lines by text. Reloads parse the same keys again and ed25519/ECDSA point checks cost
 * about a millisecond each; bounded so hostile policies cannot grow it.
 */
const cache = new Map<string, PolicyKey>();
const CACHE_MAX = 4096;

export function parseKeyLine(line: string): PolicyKey {
  const hit = cache.get(line);
  if (hit) return hit;
  const key = parseUncached(line);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(line, key);
  return key;
}

function parseUncached(line: string): PolicyKey {
  let parsed: ReturnType<typeof parsePublicKeyLine>;
  try {
    parsed = parsePublicKeyLine(line);
  } catch (e) {
    if (e instanceof KeyFormatError) throw new KeyLineError(printable(e.message), { cause: e });
    throw e;
  }
  if (isCertificateKey(parsed.key)) throw new KeyLineError(`${parsed.key.type} is a certificate; list the key or the CA instead`);
  const blob = Uint8Array.from(parsed.blob);
  return Object.freeze({ type: parsed.key.type, blob, comment: parsed.comment, fingerprint: fingerprintSha256(blob) });
}

/** The SHA-256 fingerprint in the form ssh-keygen -l prints (unpadded base64). */
export function fingerprintOf(blob: Uint8Array): string {
  return fingerprintSha256(blob);
}

export function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, 200);
}
