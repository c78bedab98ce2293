/**
 * SSH signature blobs (RFC 4253 §6.6): verification for the transport's SignatureVerifier and
 * for user authentication, and the encoding used by signers. Algorithms per key type:
 * ssh-ed25519 (RFC 8709 §6), ecdsa-sha2-* with (mpint r, mpint s) (RFC 5656 §3.1.2),
 * rsa-sha2-256/512 (RFC 8332 §3); SHA-1 ssh-rsa only behind the legacy option.
 */
import type { HashAlgorithm } from '../crypto/backend.js';
import { defaultBackend } from '../crypto/index.js';
import type { SignatureVerifier } from '../transport/host-key.js';
import { SshReader, SshWriter } from '../wire/index.js';
import { KeyFormatError, decodeWith } from './errors.js';
import {
  CERT_SUFFIX,
  CURVE_OF,
  type PlainPublicKey,
  type PublicKey,
  RSA_MIN_SIGNATURE_BITS,
  isCertificateKey,
  plainKeyOf,
} from './key-types.js';
import { parsePublicKeyBlob } from './public-key.js';

export type RsaSignatureAlgorithm = 'rsa-sha2-512' | 'rsa-sha2-256' | 'ssh-rsa';
export type SignatureAlgorithm =
  | 'ssh-ed25519'
  | 'ecdsa-sha2-nistp256'
  | 'ecdsa-sha2-nistp384'
  | 'ecdsa-sha2-nistp521'
  | RsaSignatureAlgorithm;

export interface SignatureOptions {
  /** Accept SHA-1 `ssh-rsa` signatures (old targets only). */
  readonly allowSha1Rsa?: boolean;
  /** Accept RSA keys below 2048 bits (down to the 1024-bit parse floor). */
  readonly allowSmallRsa?: boolean;
}

export const RSA_HASH: Readonly<Record<RsaSignatureAlgorithm, HashAlgorithm>> = {
  'rsa-sha2-512': 'sha512',
  'rsa-sha2-256': 'sha256',
  'ssh-rsa': 'sha1',
};

/** Plain signature algorithms a key can produce or be verified with, strongest first. */
export function plainSignatureAlgorithms(key: PlainPublicKey, opts: SignatureOptions = {}): SignatureAlgorithm[] {
  switch (key.type) {
    case 'ssh-ed25519':
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521':
      return [key.type];
    case 'ssh-rsa':
      return opts.allowSha1Rsa === true ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : ['rsa-sha2-512', 'rsa-sha2-256'];
    default: {
      const never: never = key;
      throw new KeyFormatError(String(never));
    }
  }
}

/**
 * Algorithm names usable with `key` as negotiated in KEXINIT or named in userauth: plain names
 * for plain keys, the -cert-v01@openssh.com names (rsa-sha2-512-cert-v01@openssh.com…) for certificates.
 */
export function signatureAlgorithmsFor(key: PublicKey, opts: SignatureOptions = {}): string[] {
  const plain = plainSignatureAlgorithms(plainKeyOf(key), opts);
  return isCertificateKey(key) ? plain.map((a) => `${a}${CERT_SUFFIX}`) : plain;
}

/** The plain signature algorithm behind a (possibly certificate) algorithm name. */
export function baseSignatureAlgorithm(algorithm: string): string {
  return algorithm.endsWith(CERT_SUFFIX) ? algorithm.slice(0, -CERT_SUFFIX.length) : algorithm;
}

/** Encodes a signature blob: string algorithm, string signature. */
export function encodeSignatureBlob(algorithm: SignatureAlgorithm, signature: Uint8Array): Uint8Array {
  return new SshWriter(signature.length + 32).string(algorithm).string(signature).finish();
}

/** Encodes an ECDSA signature's inner data as (mpint r, mpint s). */
export function encodeEcdsaSignature(r: Uint8Array, s: Uint8Array): Uint8Array {
  return new SshWriter(140).mpintFromBytes(r).mpintFromBytes(s).finish();
}

/** Splits a signature blob into its algorithm name and signature bytes. */
export function parseSignatureBlob(blob: Uint8Array): { algorithm: string; signature: Uint8Array } {
  return decodeWith('signature blob', () => {
    const r = new SshReader(blob);
    const algorithm = r.ascii(64);
    const signature = r.bytes(4096);
    r.expectEnd('signature blob');
    return { algorithm, signature };
  });
}

/** Verifies `signatureBlob` over `data` with a plain key; `algorithm` is the plain name that must also head the blob. */
export function verifyWithPlainKey(
  key: PlainPublicKey,
  algorithm: string,
  signatureBlob: Uint8Array,
  data: Uint8Array,
  opts: SignatureOptions = {},
): boolean {
  try {
    if (!(plainSignatureAlgorithms(key, opts) as string[]).includes(algorithm)) return false;
    const sig = parseSignatureBlob(signatureBlob);
    if (sig.algorithm !== algorithm) return false;
    switch (key.type) {
      case 'ssh-ed25519':
        return sig.signature.length === 64 && defaultBackend.ed25519Verify(key.key, data, sig.signature);
      case 'ecdsa-sha2-nistp256':
      case 'ecdsa-sha2-nistp384':
      case 'ecdsa-sha2-nistp521': {
        const c = CURVE_OF[key.type];
        const r = new SshReader(sig.signature);
        const rr = r.mpintBytes(c.fieldBytes + 1);
        const ss = r.mpintBytes(c.fieldBytes + 1);
        r.expectEnd('ECDSA signature');
        if (rr.length === 0 || ss.length === 0) return false;
        return defaultBackend.ecdsaVerify(c.curve, key.point, data, rr, ss);
      }
      case 'ssh-rsa': {
        if (key.bits < RSA_MIN_SIGNATURE_BITS && opts.allowSmallRsa !== true) return false;
        if (sig.signature.length > key.n.length) return false;
        return defaultBackend.rsaVerify({ n: key.n, e: key.e }, RSA_HASH[algorithm as RsaSignatureAlgorithm], data, sig.signature);
      }
      default: {
        const never: never = key;
        return Boolean(never);
      }
    }
  } catch {
    return false;
  }
}

/**
 * Verifies a signature made with `algorithm` by the key or certificate in `publicKeyBlob`.
 * For a certificate the certified key verifies (the certificate itself is checked separately,
 * with verifyCertificate). Never throws.
 */
export function verifySignature(
  algorithm: string,
  publicKeyBlob: Uint8Array,
  signatureBlob: Uint8Array,
  data: Uint8Array,
  opts: SignatureOptions = {},
): boolean {
  let key: PublicKey;
  try {
    key = parsePublicKeyBlob(publicKeyBlob);
  } catch {
    return false;
  }
  if (algorithm.endsWith(CERT_SUFFIX) && !isCertificateKey(key)) return false;
  return verifyWithPlainKey(plainKeyOf(key), baseSignatureAlgorithm(algorithm), signatureBlob, data, opts);
}

/** A SignatureVerifier for the transport with fixed options (e.g. legacy SHA-1 RSA for an old target). */
export function createSignatureVerifier(opts: SignatureOptions = {}): SignatureVerifier {
  return (algorithm, publicKeyBlob, signature, data) => verifySignature(algorithm, publicKeyBlob, signature, data, opts);
}

/** The strict default verifier: no SHA-1, no RSA under 2048 bits. */
export const defaultSignatureVerifier: SignatureVerifier = createSignatureVerifier();
