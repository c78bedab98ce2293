/**
 * The exchange hash H (RFC 4253 §8, RFC 5656 §4, RFC 8731 §3.1, draft-ietf-sshm-mlkem-hybrid-kex)
 * and the key derivation of RFC 4253 §7.2.
 */
import type { CryptoBackend } from '../crypto/backend.js';
import { SshWriter } from '../wire/index.js';
import { findCipher, findMac } from './ciphers/registry.js';
import type { KexMethod } from './kex-methods.js';
import type { DirectionKeys } from './packet-protection.js';
import type { NegotiatedAlgorithms } from './transport-types.js';

export interface ExchangeHashInput {
  readonly clientVersion: string;
  readonly serverVersion: string;
  /** The KEXINIT payloads, message id included. */
  readonly clientKexInit: Uint8Array;
  readonly serverKexInit: Uint8Array;
  readonly hostKeyBlob: Uint8Array;
  readonly clientValue: Uint8Array;
  readonly serverValue: Uint8Array;
  readonly sharedSecret: Uint8Array;
}

function putValue(w: SshWriter, encoding: 'string' | 'mpint', v: Uint8Array): void {
  if (encoding === 'mpint') w.mpintFromBytes(v);
  else w.string(v);
}

/** K as it enters the hash and the key derivation (mpint, or string for the hybrid method). */
export function encodeSharedSecret(method: KexMethod, k: Uint8Array): Uint8Array {
  const w = new SshWriter(k.length + 8);
  putValue(w, method.secretEncoding, k);
  return w.finish();
}

export function exchangeHash(backend: CryptoBackend, method: KexMethod, x: ExchangeHashInput): Uint8Array {
  const w = new SshWriter(2048);
  w.string(x.clientVersion).string(x.serverVersion);
  w.string(x.clientKexInit).string(x.serverKexInit);
  w.string(x.hostKeyBlob);
  putValue(w, method.valueEncoding, x.clientValue);
  putValue(w, method.valueEncoding, x.serverValue);
  w.raw(encodeSharedSecret(method, x.sharedSecret));
  return backend.hash(method.hash, w.finish());
}

/**
 * RFC 4253 §7.2: key = HASH(K || H || letter || session_id), extended by
 * K1..Kn with Kn+1 = HASH(K || H || K1 || ... || Kn) until long enough.
 */
export function deriveKey(
  backend: CryptoBackend,
  method: KexMethod,
  encodedK: Uint8Array,
  h: Uint8Array,
  sessionId: Uint8Array,
  letter: string,
  length: number,
): Uint8Array {
  if (length === 0) return new Uint8Array(0);
  const first = backend.createHash(method.hash).update(encodedK).update(h).update(Uint8Array.of(letter.charCodeAt(0))).update(sessionId).digest();
  if (first.length >= length) return first.slice(0, length);
  const out = new Uint8Array(length + first.length);
  out.set(first, 0);
  let have = first.length;
  while (have < length) {
    const next = backend.createHash(method.hash).update(encodedK).update(h).update(out.subarray(0, have)).digest();
    out.set(next, have);
    have += next.length;
  }
  return out.slice(0, length);
}

export interface SessionKeys {
  readonly clientToServer: DirectionKeys;
  readonly serverToClient: DirectionKeys;
}

/** Keys for both directions, sized by the negotiated cipher and MAC rows. */
export function deriveSessionKeys(
  backend: CryptoBackend,
  method: KexMethod,
  encodedK: Uint8Array,
  h: Uint8Array,
  sessionId: Uint8Array,
  alg: NegotiatedAlgorithms,
): SessionKeys {
  const dir = (cipher: string, mac: string | null, iv: string, enc: string, integ: string): DirectionKeys => {
    const c = findCipher(cipher);
    const m = mac === null ? undefined : findMac(mac);
    return {
      iv: deriveKey(backend, method, encodedK, h, sessionId, iv, c?.ivLength ?? 0),
      encKey: deriveKey(backend, method, encodedK, h, sessionId, enc, c?.keyLength ?? 0),
      macKey: deriveKey(backend, method, encodedK, h, sessionId, integ, m?.keyLength ?? 0),
    };
  };
  return {
    clientToServer: dir(alg.cipherClientToServer, alg.macClientToServer, 'A', 'C', 'E'),
    serverToClient: dir(alg.cipherServerToClient, alg.macServerToClient, 'B', 'D', 'F'),
  };
}
