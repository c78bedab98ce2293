/**
 * Private keys as values: the secret material per key type, the public key derived from it,
 * and signing into SSH signature blobs (RFC 4253 §6.6, RFC 5656 §3.1.2, RFC 8332 §3,
 * RFC 8709 §6). Every operation goes through the crypto port (defaultBackend).
 */
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { bigIntToFixed, bytesToBigInt } from '../crypto/bigint-bytes.js';
import type { EcCurve, RsaPrivateComponents } from '../crypto/backend.js';
import { defaultBackend } from '../crypto/index.js';
import { KeyFormatError } from './errors.js';
import { CURVE_OF, type EcdsaKeyType, type PlainKeyType, type PlainPublicKey, RSA_MAX_BITS } from './key-types.js';
import { bitLength, checkRsaPublic, encodePublicKeyBlob, stripLeadingZeros } from './public-key.js';
import {
  RSA_HASH,
  type RsaSignatureAlgorithm,
  type SignatureAlgorithm,
  encodeEcdsaSignature,
  encodeSignatureBlob,
  plainSignatureAlgorithms,
} from './signature.js';

export type PrivateMaterial =
  | { readonly type: 'ssh-ed25519'; readonly seed: Uint8Array }
  | { readonly type: EcdsaKeyType; readonly scalar: Uint8Array }
  | { readonly type: 'ssh-rsa'; readonly rsa: RsaPrivateComponents };

export interface PrivateKey {
  readonly type: PlainKeyType;
  readonly material: PrivateMaterial;
  readonly publicKey: PlainPublicKey;
  readonly publicKeyBlob: Uint8Array;
  readonly comment: string;
  /** Signature algorithms this key signs with, strongest first (rsa-sha2-512, rsa-sha2-256 for RSA). */
  readonly algorithms: readonly SignatureAlgorithm[];
  /** Signs `data` and returns the SSH signature blob; throws KeyFormatError for an algorithm that does not fit the key. */
  sign(algorithm: string, data: Uint8Array): Uint8Array;
}

const ORDERS: Readonly<Record<EcCurve, bigint>> = {
  p256: p256.Point.Fn.ORDER,
  p384: p384.Point.Fn.ORDER,
  p521: p521.Point.Fn.ORDER,
};

function checkEcScalar(type: EcdsaKeyType, scalar: Uint8Array): Uint8Array {
  const c = CURVE_OF[type];
  if (scalar.length > c.fieldBytes + 1) throw new KeyFormatError(`${type} private scalar too long`);
  const d = bytesToBigInt(scalar);
  if (d <= 0n || d >= ORDERS[c.curve]) throw new KeyFormatError(`${type} private scalar out of range`);
  return bigIntToFixed(d, c.fieldBytes);
}

function checkRsaPrivate(k: RsaPrivateComponents): RsaPrivateComponents {
  const n = stripLeadingZeros(k.n);
  const e = stripLeadingZeros(k.e);
  checkRsaPublic(e, n);
  const p = bytesToBigInt(k.p);
  const q = bytesToBigInt(k.q);
  if (p <= 1n || q <= 1n || p * q !== bytesToBigInt(n)) throw new KeyFormatError('RSA private key: p*q does not equal n');
  if (((bytesToBigInt(k.iqmp) * q) % p) !== 1n) throw new KeyFormatError('RSA private key: iqmp is not q^-1 mod p');
  return {
    n,
    e,
    d: stripLeadingZeros(k.d),
    p: stripLeadingZeros(k.p),
    q: stripLeadingZeros(k.q),
    iqmp: stripLeadingZeros(k.iqmp),
  };
}

function derivePublic(m: PrivateMaterial): PlainPublicKey {
  switch (m.type) {
    case 'ssh-ed25519':
      return { type: m.type, key: defaultBackend.ed25519PublicKey(m.seed) };
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      const curve = CURVE_OF[m.type].curve;
      return { type: m.type, curve, point: defaultBackend.ecdsaPublicKey(curve, m.scalar) };
    }
    case 'ssh-rsa':
      return { type: m.type, n: m.rsa.n, e: m.rsa.e, bits: bitLength(m.rsa.n) };
    default: {
      const never: never = m;
      throw new KeyFormatError(String(never));
    }
  }
}

function signRaw(m: PrivateMaterial, algorithm: SignatureAlgorithm, data: Uint8Array): Uint8Array {
  switch (m.type) {
    case 'ssh-ed25519':
      return defaultBackend.ed25519Sign(m.seed, data);
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      const { r, s } = defaultBackend.ecdsaSign(CURVE_OF[m.type].curve, m.scalar, data);
      return encodeEcdsaSignature(r, s);
    }
    case 'ssh-rsa': {
      const sig = defaultBackend.rsaSign(m.rsa, RSA_HASH[algorithm as RsaSignatureAlgorithm], data);
      // RFC 8332 §3: the signature is exactly as long as the modulus
      const len = m.rsa.n.length;
      if (sig.length >= len) return sig;
      const out = new Uint8Array(len);
      out.set(sig, len - sig.length);
      return out;
    }
    default: {
      const never: never = m;
      throw new KeyFormatError(String(never));
    }
  }
}

/**
 * Builds a PrivateKey from its secret material, validating it (scalar range, p*q = n, seed
 * size). `expectedPublic`, when the file also stores the public key, must match the derived one.
 */
export function privateKeyFromMaterial(material: PrivateMaterial, comment = '', expectedPublic?: Uint8Array): PrivateKey {
  let m: PrivateMaterial;
  switch (material.type) {
    case 'ssh-ed25519':
      if (material.seed.length !== 32) throw new KeyFormatError('ed25519 seed must be 32 bytes');
      m = { type: material.type, seed: material.seed.slice() };
      break;
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521':
      m = { type: material.type, scalar: checkEcScalar(material.type, material.scalar) };
      break;
    case 'ssh-rsa':
      m = { type: material.type, rsa: checkRsaPrivate(material.rsa) };
      break;
    default: {
      const never: never = material;
      throw new KeyFormatError(String(never));
    }
  }
  const publicKey = derivePublic(m);
  const publicKeyBlob = encodePublicKeyBlob(publicKey);
  if (expectedPublic !== undefined) {
    const same = expectedPublic.length === publicKeyBlob.length && expectedPublic.every((v, i) => v === publicKeyBlob[i]);
    if (!same) throw new KeyFormatError('private key does not match its public key');
  }
  // SHA-1 RSA stays signable (old targets ask for it); verifiers refuse it unless configured
  const signable = plainSignatureAlgorithms(publicKey, { allowSha1Rsa: true }) as string[];
  return {
    type: m.type,
    material: m,
    publicKey,
    publicKeyBlob,
    comment,
    algorithms: plainSignatureAlgorithms(publicKey),
    sign(algorithm: string, data: Uint8Array): Uint8Array {
      if (!signable.includes(algorithm)) throw new KeyFormatError(`a ${m.type} key cannot sign with ${algorithm}`);
      const alg = algorithm as SignatureAlgorithm;
      return encodeSignatureBlob(alg, signRaw(m, alg, data));
    },
  };
}

/** Generates a fresh key with the backend's randomness. RSA `bits` defaults to 3072 (2048..16384). */
export function generatePrivateKey(type: PlainKeyType, bits?: number, comment = ''): PrivateKey {
  switch (type) {
    case 'ssh-ed25519':
      // the backend's generator: node:crypto then skips importing the seed again (issue 7)
      return privateKeyFromMaterial({ type, seed: defaultBackend.ed25519Generate().seed }, comment);
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      const c = CURVE_OF[type];
      // 64 extra bits make the modular bias negligible (FIPS 186-5 A.2.1)
      const d = (bytesToBigInt(defaultBackend.randomBytes(c.fieldBytes + 8)) % (ORDERS[c.curve] - 1n)) + 1n;
      return privateKeyFromMaterial({ type, scalar: bigIntToFixed(d, c.fieldBytes) }, comment);
    }
    case 'ssh-rsa': {
      const b = bits ?? 3072;
      if (!Number.isInteger(b) || b < 2048 || b > RSA_MAX_BITS) throw new KeyFormatError(`RSA key size ${b} outside 2048..${RSA_MAX_BITS}`);
      return privateKeyFromMaterial({ type, rsa: defaultBackend.rsaGenerate(b) }, comment);
    }
    default: {
      const never: never = type;
      throw new KeyFormatError(String(never));
    }
  }
}
