/**
 * The public key and certificate types, shared by the codecs (public-key.ts,
 * certificate-codec.ts) and the operations on them. Key blob layouts: RFC 4253 §6.6 (ssh-rsa),
 * RFC 5656 §3.1 (ecdsa-sha2-*), RFC 8709 §4 (ssh-ed25519), PROTOCOL.certkeys (certificates).
 */
import type { EcCurve } from '../crypto/backend.js';

export type EcdsaKeyType = 'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384' | 'ecdsa-sha2-nistp521';
export type PlainKeyType = 'ssh-ed25519' | EcdsaKeyType | 'ssh-rsa';
export type CertKeyType = `${PlainKeyType}-cert-v01@openssh.com`;
export type KeyType = PlainKeyType | CertKeyType;

export interface Ed25519PublicKey {
  readonly type: 'ssh-ed25519';
  /** The 32-byte public key. */
  readonly key: Uint8Array;
}

export interface EcdsaPublicKey {
  readonly type: EcdsaKeyType;
  readonly curve: EcCurve;
  /** SEC1 uncompressed point, validated on the curve. */
  readonly point: Uint8Array;
}

export interface RsaPublicKey {
  readonly type: 'ssh-rsa';
  /** Big-endian magnitudes without leading zeros. */
  readonly e: Uint8Array;
  readonly n: Uint8Array;
  /** Modulus size in bits. */
  readonly bits: number;
}

export type PlainPublicKey = Ed25519PublicKey | EcdsaPublicKey | RsaPublicKey;

export type CertificateType = 'user' | 'host';

/** A critical option or extension: name plus its raw data (an SSH string holding the value, or empty for flags). */
export interface CertificateOption {
  readonly name: string;
  readonly data: Uint8Array;
}

/** An OpenSSH certificate (PROTOCOL.certkeys), as parsed; `signedData` is what the CA signed. */
export interface Certificate {
  readonly nonce: Uint8Array;
  /** The certified key. */
  readonly key: PlainPublicKey;
  readonly serial: bigint;
  readonly certType: CertificateType;
  readonly keyId: string;
  /** Empty means "any principal" for host certificates and is refused for user certificates. */
  readonly principals: readonly string[];
  /** Seconds since the epoch; validBefore 2^64-1 means forever. */
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly criticalOptions: readonly CertificateOption[];
  readonly extensions: readonly CertificateOption[];
  readonly reserved: Uint8Array;
  /** The CA key, plain (a certificate may not sign a certificate). */
  readonly signatureKey: PlainPublicKey;
  readonly signatureKeyBlob: Uint8Array;
  /** The SSH signature blob (string algorithm, string signature). */
  readonly signature: Uint8Array;
  /** Every byte of the certificate before the signature field. */
  readonly signedData: Uint8Array;
}

export interface CertificatePublicKey {
  readonly type: CertKeyType;
  readonly certificate: Certificate;
}

export type PublicKey = PlainPublicKey | CertificatePublicKey;

export const CURVE_OF: Readonly<Record<EcdsaKeyType, { curve: EcCurve; name: string; fieldBytes: number }>> = {
  'ecdsa-sha2-nistp256': { curve: 'p256', name: 'nistp256', fieldBytes: 32 },
  'ecdsa-sha2-nistp384': { curve: 'p384', name: 'nistp384', fieldBytes: 48 },
  'ecdsa-sha2-nistp521': { curve: 'p521', name: 'nistp521', fieldBytes: 66 },
};

export const CERT_SUFFIX = '-cert-v01@openssh.com';

export const PLAIN_KEY_TYPES: readonly PlainKeyType[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
];

export function isPlainKeyType(t: string): t is PlainKeyType {
  return (PLAIN_KEY_TYPES as readonly string[]).includes(t);
}

export function isCertKeyType(t: string): t is CertKeyType {
  return t.endsWith(CERT_SUFFIX) && isPlainKeyType(t.slice(0, -CERT_SUFFIX.length));
}

export function isCertificateKey(k: PublicKey): k is CertificatePublicKey {
  return 'certificate' in k;
}

/** The plain key a public key stands for: itself, or the key a certificate certifies. */
export function plainKeyOf(k: PublicKey): PlainPublicKey {
  return isCertificateKey(k) ? k.certificate.key : k;
}

export function certTypeFor(t: PlainKeyType): CertKeyType {
  return `${t}${CERT_SUFFIX}`;
}

/** Accepted RSA modulus sizes when parsing; signatures additionally need 2048 bits unless legacy. */
export const RSA_MIN_PARSE_BITS = 1024;
export const RSA_MAX_BITS = 16384;
export const RSA_MIN_SIGNATURE_BITS = 2048;
