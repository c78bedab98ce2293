/**
 * CryptoBackend on node:crypto (OpenSSL). The fast path for hashing, DH, signatures and keys.
 * ML-KEM-768 comes from @noble/post-quantum: Node 20 has none.
 *
 * Raw keys are imported into KeyObjects once and cached (bounded LRU): the import costs more
 * than the operation for x25519/ed25519.
 */
import {
  type KeyObject,
  createDiffieHellman,
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  getDiffieHellman,
  randomBytes as nodeRandomBytes,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { DisconnectReason, SshProtocolError } from '../wire/index.js';
import type {
  CryptoBackend,
  DhKeyPair,
  EcCurve,
  HashAlgorithm,
  IncrementalHash,
  ModpGroup,
  RsaPrivateComponents,
  RsaPublicComponents,
} from './backend.js';
import { bigIntToBytes, bytesToBigInt, isAllZero, padMagnitude, stripLeadingZeros } from './bigint-bytes.js';
import { KeyCache, cacheKeyOf, secretCacheKeyOf } from './key-cache.js';
import { mlkem768NodeBackendEncapsulate, mlkem768NodeBackendKeyPair } from './mlkem.js';
import { modpByteLength, modpPrime } from './modp-groups.js';

/** The SSH hash and sizes of each NIST curve (RFC 5656 §6.2.1). */
export const CURVES: Record<EcCurve, { openssl: string; jwk: string; hash: HashAlgorithm; fieldBytes: number }> = {
  p256: { openssl: 'prime256v1', jwk: 'P-256', hash: 'sha256', fieldBytes: 32 },
  p384: { openssl: 'secp384r1', jwk: 'P-384', hash: 'sha384', fieldBytes: 48 },
  p521: { openssl: 'secp521r1', jwk: 'P-521', hash: 'sha512', fieldBytes: 66 },
};

// PKCS#8 prefixes for raw 32-byte private keys (RFC 8410 §7). Node 20 has no raw private-key
// import, and a JWK private key would need its public half, which is what we derive from it.
const X25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);
const ED25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

function withPrefix(prefix: Uint8Array, raw: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(prefix.length + raw.length);
  out.set(prefix, 0);
  out.set(raw, prefix.length);
  return out;
}

function u8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function b64u(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

function fromB64u(s: string | undefined): Uint8Array {
  if (s === undefined) throw new Error('JWK field missing');
  return u8(Buffer.from(s, 'base64url'));
}

function kexFailed(msg: string): SshProtocolError {
  return new SshProtocolError(DisconnectReason.KEY_EXCHANGE_FAILED, msg);
}

const edPrivateKeys = new KeyCache<KeyObject>(64);
const edPublicKeys = new KeyCache<KeyObject>(512);
const ecPrivateKeys = new KeyCache<KeyObject>(64);
const ecPublicKeys = new KeyCache<KeyObject | null>(512);
const rsaPrivateKeys = new KeyCache<KeyObject>(64);
const rsaPublicKeys = new KeyCache<KeyObject | null>(512);
const edPublicFromSeed = new KeyCache<Uint8Array>(64);

function edPrivateKey(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new RangeError('ed25519 seed must be 32 bytes');
  return edPrivateKeys.get(secretCacheKeyOf(seed), () =>
    createPrivateKey({ key: withPrefix(ED25519_PKCS8_PREFIX, seed), format: 'der', type: 'pkcs8' }),
  );
}

function ecPrivateKey(curve: EcCurve, scalar: Uint8Array): KeyObject {
  const c = CURVES[curve];
  return ecPrivateKeys.get(`${curve}:${secretCacheKeyOf(scalar)}`, () => {
    const d = padMagnitude(scalar, c.fieldBytes);
    if (d === null) throw new RangeError('ECDSA private scalar too long');
    const pub = ecPublicFromScalar(curve, d);
    return createPrivateKey({
      key: {
        kty: 'EC',
        crv: c.jwk,
        d: b64u(d),
        x: b64u(pub.subarray(1, 1 + c.fieldBytes)),
        y: b64u(pub.subarray(1 + c.fieldBytes)),
      },
      format: 'jwk',
    });
  });
}

function ecPublicFromScalar(curve: EcCurve, scalar: Uint8Array): Uint8Array {
  const ecdh = createECDH(CURVES[curve].openssl);
  ecdh.setPrivateKey(Buffer.from(stripLeadingZeros(scalar)));
  return u8(ecdh.getPublicKey());
}

/** Imports a SEC1 uncompressed point; null when it is not a valid point on the curve. */
function ecPublicKey(curve: EcCurve, point: Uint8Array): KeyObject | null {
  const c = CURVES[curve];
  if (point.length !== 1 + 2 * c.fieldBytes || point[0] !== 0x04) return null;
  return ecPublicKeys.get(`${curve}:${cacheKeyOf(point)}`, () => {
    try {
      // OpenSSL checks that the point lies on the curve when it is imported
      return createPublicKey({
        key: {
          kty: 'EC',
          crv: c.jwk,
          x: b64u(point.subarray(1, 1 + c.fieldBytes)),
          y: b64u(point.subarray(1 + c.fieldBytes)),
        },
        format: 'jwk',
      });
    } catch {
      return null;
    }
  });
}

function rsaPrivateKey(k: RsaPrivateComponents): KeyObject {
  return rsaPrivateKeys.get(secretCacheKeyOf(k.n, k.e, k.d), () => {
    const d = bytesToBigInt(k.d);
    const p = bytesToBigInt(k.p);
    const q = bytesToBigInt(k.q);
    // OpenSSH key files carry only iqmp; JWK also needs the CRT exponents (RFC 8017 §3.2)
    return createPrivateKey({
      key: {
        kty: 'RSA',
        n: b64u(stripLeadingZeros(k.n)),
        e: b64u(stripLeadingZeros(k.e)),
        d: b64u(stripLeadingZeros(k.d)),
        p: b64u(stripLeadingZeros(k.p)),
        q: b64u(stripLeadingZeros(k.q)),
        dp: b64u(bigIntToBytes(d % (p - 1n))),
        dq: b64u(bigIntToBytes(d % (q - 1n))),
        qi: b64u(stripLeadingZeros(k.iqmp)),
      },
      format: 'jwk',
    });
  });
}

function rsaPublicKey(k: RsaPublicComponents): KeyObject | null {
  return rsaPublicKeys.get(cacheKeyOf(k.n, k.e), () => {
    try {
      return createPublicKey({
        key: { kty: 'RSA', n: b64u(stripLeadingZeros(k.n)), e: b64u(stripLeadingZeros(k.e)) },
        format: 'jwk',
      });
    } catch {
      return null;
    }
  });
}

/**
 * A raw X25519/Ed25519 public value as a KeyObject. JWK import (EVP_PKEY_new_raw_public_key)
 * costs ~20 µs where the SPKI DER import goes through OpenSSL 3's decoder framework (~120 µs),
 * and it runs once per key exchange (bench/kex.ts).
 */
function okpPublicKey(crv: 'X25519' | 'Ed25519', raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv, x: b64u(raw) }, format: 'jwk' });
}

/**
 * A fresh X25519 or Ed25519 private key, its 32 private bytes and its raw public value, made
 * without generateKeyPairSync. In Node 20 the generator's job object, when the GC finalises it
 * during a JWK export of the key it made, locks the key's mutex that the export already holds:
 * the thread deadlocks (a test worker hung so in CI; a loop of generateKeyPairSync('x25519') and
 * a JWK export hangs within 2,000-6,000 keys at --max-semi-space-size=1). Here the private bytes
 * come from randomBytes (RFC 7748 §5 and RFC 8032 §5.1.5 ask no more) and are imported as a JWK
 * (EVP_PKEY_new_raw_private_key; Node reads no `x` from a private OKP JWK, though its argument
 * check wants a string), and OpenSSL derives the public value. Same cost: 37 against 35 µs.
 */
function freshOkpKey(crv: 'X25519' | 'Ed25519'): { privateKey: KeyObject; seed: Uint8Array; publicKey: Uint8Array } {
  const seed = u8(nodeRandomBytes(32));
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv, d: b64u(seed), x: '' }, format: 'jwk' });
  return { privateKey, seed, publicKey: okpRawPublic(createPublicKey(privateKey)) };
}

/** The raw 32-byte public value of an OKP KeyObject (JWK export: ~1 µs, SPKI DER: ~80 µs). */
function okpRawPublic(key: KeyObject): Uint8Array {
  const raw = fromB64u(key.export({ format: 'jwk' }).x);
  if (raw.length !== 32) throw new Error('unexpected OKP public key length');
  return raw;
}

/** X25519; `secret` (32 bytes) fixes the private key for known-answer tests only. */
export function nodeX25519(secret?: Uint8Array): DhKeyPair {
  let privateKey: KeyObject;
  let pub: Uint8Array;
  if (secret === undefined) {
    ({ privateKey, publicKey: pub } = freshOkpKey('X25519'));
  } else {
    if (secret.length !== 32) throw new RangeError('x25519 secret must be 32 bytes');
    privateKey = createPrivateKey({ key: withPrefix(X25519_PKCS8_PREFIX, secret), format: 'der', type: 'pkcs8' });
    pub = okpRawPublic(createPublicKey(privateKey));
  }
  return {
    publicKey: pub,
    computeSecret(peerPublic: Uint8Array): Uint8Array {
      if (peerPublic.length !== 32) throw kexFailed('x25519 public value must be 32 bytes');
      let secret: Uint8Array;
      try {
        secret = u8(diffieHellman({ privateKey, publicKey: okpPublicKey('X25519', peerPublic) }));
      } catch {
        // OpenSSL refuses a small-order peer value (all-zero result) with an error
        throw kexFailed('x25519 shared secret is invalid');
      }
      // RFC 7748 §6.1: abort on an all-zero shared secret (RFC 8731 §3)
      if (isAllZero(secret)) throw kexFailed('x25519 shared secret is all zero');
      return secret;
    },
  };
}

/**
 * A fresh Ed25519 key (freshOkpKey). Its KeyObject and public value go into the caches, so
 * deriving the public key and the first signature skip the PKCS#8 import (~500 µs through
 * OpenSSL 3's decoders), which a per-session certificate key would otherwise pay.
 */
function nodeEd25519Generate(): { seed: Uint8Array; publicKey: Uint8Array } {
  const { privateKey, seed, publicKey } = freshOkpKey('Ed25519');
  const id = secretCacheKeyOf(seed);
  edPrivateKeys.get(id, () => privateKey);
  edPublicFromSeed.get(id, () => publicKey);
  return { seed, publicKey };
}

/** ECDH; `scalar` fixes the private key for known-answer tests only. */
export function nodeEcdh(curve: EcCurve, scalar?: Uint8Array): DhKeyPair {
  const c = CURVES[curve];
  const ecdh = createECDH(c.openssl);
  let pub: Uint8Array;
  if (scalar === undefined) pub = u8(ecdh.generateKeys());
  else {
    ecdh.setPrivateKey(Buffer.from(stripLeadingZeros(scalar)));
    pub = u8(ecdh.getPublicKey());
  }
  return {
    publicKey: pub,
    computeSecret(peerPublic: Uint8Array): Uint8Array {
      // RFC 5656 §4: uncompressed points only; OpenSSL's oct2point rejects points off the curve
      if (peerPublic.length !== 1 + 2 * c.fieldBytes || peerPublic[0] !== 0x04) {
        throw kexFailed('ECDH public value is not an uncompressed point');
      }
      try {
        return u8(ecdh.computeSecret(Buffer.from(peerPublic.buffer, peerPublic.byteOffset, peerPublic.byteLength)));
      } catch {
        throw kexFailed('ECDH public value is not on the curve');
      }
    },
  };
}

/** RFC 4253 §8: 1 < e, f < p-1. */
export function checkModpPublic(group: ModpGroup, y: Uint8Array): void {
  if (stripLeadingZeros(y).length > modpByteLength(group)) throw kexFailed('DH public value out of range');
  const v = bytesToBigInt(y);
  const p = modpPrime(group);
  if (v <= 1n || v >= p - 1n) throw kexFailed('DH public value out of range');
}

/** Finite-field DH; `exponent` fixes the private key for known-answer tests only. */
export function nodeModp(group: ModpGroup, exponent?: Uint8Array): DhKeyPair {
  // OpenSSL picks a private exponent sized to the group's security strength (NIST SP 800-56A)
  const dh = getDiffieHellman(`modp${group}`);
  let pub: Uint8Array;
  if (exponent === undefined) pub = u8(dh.generateKeys());
  else {
    const fixed = createDiffieHellman(dh.getPrime(), dh.getGenerator());
    fixed.setPrivateKey(Buffer.from(exponent));
    pub = u8(fixed.generateKeys());
    return modpPair(group, pub, (peer) => u8(fixed.computeSecret(peer)));
  }
  return modpPair(group, pub, (peer) => u8(dh.computeSecret(peer)));
}

function modpPair(group: ModpGroup, pub: Uint8Array, derive: (peer: Buffer) => Uint8Array): DhKeyPair {
  return {
    publicKey: stripLeadingZeros(pub),
    computeSecret(peerPublic: Uint8Array): Uint8Array {
      checkModpPublic(group, peerPublic);
      const secret = derive(Buffer.from(stripLeadingZeros(peerPublic)));
      const k = stripLeadingZeros(secret);
      if (k.length === 0 || (k.length === 1 && k[0] === 1)) throw kexFailed('DH shared secret is degenerate');
      return k;
    },
  };
}

function nodeHash(alg: HashAlgorithm): IncrementalHash {
  const h = createHash(alg);
  const api: IncrementalHash = {
    update(data: Uint8Array): IncrementalHash {
      h.update(data);
      return api;
    },
    digest(): Uint8Array {
      return u8(h.digest());
    },
  };
  return api;
}

export const nodeBackend: CryptoBackend = {
  name: 'node',
  randomBytes: (n) => u8(nodeRandomBytes(n)),
  hash: (alg, data) => u8(createHash(alg).update(data).digest()),
  createHash: nodeHash,
  hmac: (alg, key, data) => u8(createHmac(alg, key).update(data).digest()),

  x25519: () => nodeX25519(),
  ecdh: (curve) => nodeEcdh(curve),
  modp: (group) => nodeModp(group),
  mlkem768KeyPair: () => mlkem768NodeBackendKeyPair(),
  mlkem768Encapsulate: mlkem768NodeBackendEncapsulate,

  ed25519Generate: nodeEd25519Generate,
  ed25519PublicKey(seed) {
    return edPublicFromSeed.get(secretCacheKeyOf(seed), () => okpRawPublic(createPublicKey(edPrivateKey(seed))));
  },
  ed25519Sign(seed, message) {
    return u8(nodeSign(null, message, edPrivateKey(seed)));
  },
  ed25519Verify(publicKey, message, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      const key = edPublicKeys.get(cacheKeyOf(publicKey), () => okpPublicKey('Ed25519', publicKey));
      return nodeVerify(null, message, key, signature);
    } catch {
      return false;
    }
  },

  ecdsaPublicKey(curve, privateScalar) {
    return ecPublicFromScalar(curve, privateScalar);
  },
  ecdsaSign(curve, privateScalar, message) {
    const c = CURVES[curve];
    const sig = nodeSign(c.hash, message, { key: ecPrivateKey(curve, privateScalar), dsaEncoding: 'ieee-p1363' });
    return {
      r: stripLeadingZeros(u8(sig).slice(0, c.fieldBytes)),
      s: stripLeadingZeros(u8(sig).slice(c.fieldBytes)),
    };
  },
  ecdsaVerify(curve, publicPoint, message, r, s) {
    const c = CURVES[curve];
    const key = ecPublicKey(curve, publicPoint);
    const rp = padMagnitude(r, c.fieldBytes);
    const sp = padMagnitude(s, c.fieldBytes);
    if (key === null || rp === null || sp === null) return false;
    const sig = new Uint8Array(2 * c.fieldBytes);
    sig.set(rp, 0);
    sig.set(sp, c.fieldBytes);
    try {
      return nodeVerify(c.hash, message, { key, dsaEncoding: 'ieee-p1363' }, sig);
    } catch {
      return false;
    }
  },

  rsaSign(key, hash, message) {
    return u8(nodeSign(hash, message, rsaPrivateKey(key)));
  },
  rsaVerify(key, hash, message, signature) {
    const k = rsaPublicKey(key);
    if (k === null) return false;
    // Some signers strip leading zeros from the signature; RFC 8017 §8.2.2 wants k octets
    const sig = padMagnitude(signature, stripLeadingZeros(key.n).length);
    if (sig === null) return false;
    try {
      return nodeVerify(hash, message, k, sig);
    } catch {
      return false;
    }
  },
  rsaGenerate(bits) {
    // Encoded by the generator and imported anew, so the JWK export below is of a key the
    // generator's job does not share (see freshOkpKey for the deadlock that sharing can cause).
    const { privateKey: der } = generateKeyPairSync('rsa', {
      modulusLength: bits,
      publicExponent: 65537,
      publicKeyEncoding: { type: 'pkcs1', format: 'der' },
      privateKeyEncoding: { type: 'pkcs1', format: 'der' },
    });
    const j = createPrivateKey({ key: der, format: 'der', type: 'pkcs1' }).export({ format: 'jwk' });
    return {
      n: fromB64u(j.n),
      e: fromB64u(j.e),
      d: fromB64u(j.d),
      p: fromB64u(j.p),
      q: fromB64u(j.q),
      iqmp: fromB64u(j.qi),
    };
  },
};
