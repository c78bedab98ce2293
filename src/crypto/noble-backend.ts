/**
 * CryptoBackend on @noble/* (curves, hashes, post-quantum) with BigInt RSA and MODP: the
 * portable reference implementation. It passes the same known-answer tests as the node:crypto
 * backend (test/crypto/backend-kat.test.ts); bench/crypto.ts shows why production uses node.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { hmac } from '@noble/hashes/hmac.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { DisconnectReason, SshProtocolError } from '../wire/index.js';
import type { CryptoBackend, DhKeyPair, EcCurve, HashAlgorithm, IncrementalHash, ModpGroup } from './backend.js';
import { bigIntToBytes, bytesToBigInt, isAllZero, modPow, padMagnitude, stripLeadingZeros } from './bigint-bytes.js';
import { mlkem768Encapsulate, mlkem768KeyPair } from './mlkem.js';
import { MODP_GENERATOR, modpByteLength, modpPrime } from './modp-groups.js';
import { NOBLE_HASHES } from './noble-symmetric.js';
import { rsaGenerateBigInt, rsaSignDigest, rsaVerifyDigest } from './rsa-bigint.js';

const NOBLE_CURVES = { p256, p384, p521 } as const;
const FIELD_BYTES: Record<EcCurve, number> = { p256: 32, p384: 48, p521: 66 };

/**
 * Private exponent sizes for the MODP groups: at least twice the group's security strength
 * (NIST SP 800-56A rev. 3 §5.6.1.1.1; RFC 3526 §8 estimates).
 */
const MODP_EXPONENT_BITS: Record<ModpGroup, number> = { 14: 256, 16: 384, 18: 512 };

function kexFailed(msg: string): SshProtocolError {
  return new SshProtocolError(DisconnectReason.KEY_EXCHANGE_FAILED, msg);
}

/** X25519; `secret` fixes the private key for known-answer tests only. */
export function nobleX25519(secret?: Uint8Array): DhKeyPair {
  const priv = secret === undefined ? x25519.utils.randomSecretKey() : Uint8Array.from(secret);
  return {
    publicKey: x25519.getPublicKey(priv),
    computeSecret(peerPublic: Uint8Array): Uint8Array {
      if (peerPublic.length !== 32) throw kexFailed('x25519 public value must be 32 bytes');
      let k: Uint8Array;
      try {
        k = x25519.getSharedSecret(priv, peerPublic);
      } catch {
        throw kexFailed('x25519 shared secret is invalid');
      }
      // RFC 7748 §6.1, RFC 8731 §3
      if (isAllZero(k)) throw kexFailed('x25519 shared secret is all zero');
      return k;
    },
  };
}

/** ECDH; `scalar` fixes the private key for known-answer tests only. */
export function nobleEcdh(curve: EcCurve, scalar?: Uint8Array): DhKeyPair {
  const c = NOBLE_CURVES[curve];
  const len = FIELD_BYTES[curve];
  const priv = scalar === undefined ? c.utils.randomSecretKey() : padMagnitude(scalar, len);
  if (priv === null) throw new RangeError('ECDH scalar too long');
  return {
    publicKey: c.getPublicKey(priv, false),
    computeSecret(peerPublic: Uint8Array): Uint8Array {
      if (peerPublic.length !== 1 + 2 * len || peerPublic[0] !== 0x04) {
        throw kexFailed('ECDH public value is not an uncompressed point');
      }
      try {
        // fromBytes checks that the point is on the curve; the secret is the x coordinate (SEC1 §3.3.1)
        return c.getSharedSecret(priv, peerPublic, false).slice(1, 1 + len);
      } catch {
        throw kexFailed('ECDH public value is not on the curve');
      }
    },
  };
}

/** Finite-field DH; `exponent` fixes the private key for known-answer tests only. */
export function nobleModp(group: ModpGroup, exponent?: Uint8Array): DhKeyPair {
  const p = modpPrime(group);
  const bits = MODP_EXPONENT_BITS[group];
  let x = exponent === undefined ? 0n : bytesToBigInt(exponent);
  while (x < 2n) x = bytesToBigInt(randomBytes(bits / 8));
  return {
    publicKey: bigIntToBytes(modPow(MODP_GENERATOR, x, p)),
    computeSecret(peerPublic: Uint8Array): Uint8Array {
      // RFC 4253 §8: 1 < f < p-1
      if (stripLeadingZeros(peerPublic).length > modpByteLength(group)) throw kexFailed('DH public value out of range');
      const y = bytesToBigInt(peerPublic);
      if (y <= 1n || y >= p - 1n) throw kexFailed('DH public value out of range');
      const k = modPow(y, x, p);
      if (k <= 1n) throw kexFailed('DH shared secret is degenerate');
      return bigIntToBytes(k);
    },
  };
}

function nobleHash(alg: HashAlgorithm): IncrementalHash {
  const h = NOBLE_HASHES[alg].create();
  const api: IncrementalHash = {
    update(data: Uint8Array): IncrementalHash {
      h.update(data);
      return api;
    },
    digest: () => h.digest(),
  };
  return api;
}

function ecdsaScalar(curve: EcCurve, privateScalar: Uint8Array): Uint8Array {
  const d = padMagnitude(privateScalar, FIELD_BYTES[curve]);
  if (d === null) throw new RangeError('ECDSA private scalar too long');
  return d;
}

export const nobleBackend: CryptoBackend = {
  name: 'noble',
  randomBytes: (n) => randomBytes(n),
  hash: (alg, data) => NOBLE_HASHES[alg](data),
  createHash: nobleHash,
  hmac: (alg, key, data) => hmac(NOBLE_HASHES[alg], key, data),

  x25519: () => nobleX25519(),
  ecdh: (curve) => nobleEcdh(curve),
  modp: (group) => nobleModp(group),
  mlkem768KeyPair: () => mlkem768KeyPair(),
  mlkem768Encapsulate,

  ed25519Generate() {
    const seed = ed25519.utils.randomSecretKey();
    return { seed, publicKey: ed25519.getPublicKey(seed) };
  },
  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  ed25519Sign: (seed, message) => ed25519.sign(message, seed),
  ed25519Verify(publicKey, message, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      // RFC 8032 §5.1.7 strict checks (as OpenSSL does), not ZIP-215's relaxed ones
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },

  ecdsaPublicKey: (curve, privateScalar) => NOBLE_CURVES[curve].getPublicKey(ecdsaScalar(curve, privateScalar), false),
  ecdsaSign(curve, privateScalar, message) {
    const len = FIELD_BYTES[curve];
    // each curve's default hash is the one RFC 5656 §6.2.1 names; low-S is not an SSH rule
    const sig = NOBLE_CURVES[curve].sign(message, ecdsaScalar(curve, privateScalar), { lowS: false });
    return { r: stripLeadingZeros(sig.slice(0, len)), s: stripLeadingZeros(sig.slice(len)) };
  },
  ecdsaVerify(curve, publicPoint, message, r, s) {
    const len = FIELD_BYTES[curve];
    const rp = padMagnitude(r, len);
    const sp = padMagnitude(s, len);
    if (rp === null || sp === null || publicPoint[0] !== 0x04 || publicPoint.length !== 1 + 2 * len) return false;
    const sig = new Uint8Array(2 * len);
    sig.set(rp, 0);
    sig.set(sp, len);
    try {
      return NOBLE_CURVES[curve].verify(sig, message, publicPoint, { lowS: false });
    } catch {
      return false;
    }
  },

  rsaSign: (key, hash, message) => rsaSignDigest(key, hash, NOBLE_HASHES[hash](message)),
  rsaVerify: (key, hash, message, signature) => rsaVerifyDigest(key, hash, NOBLE_HASHES[hash](message), signature),
  rsaGenerate: (bits) => rsaGenerateBigInt(bits, randomBytes),
};
