/**
 * Public key blobs and lines: parse, encode, fingerprint. Blob layouts: RFC 4253 §6.6
 * (ssh-rsa), RFC 5656 §3.1 (ecdsa-sha2-*), RFC 8709 §4 (ssh-ed25519) and PROTOCOL.certkeys for
 * the -cert-v01@openssh.com forms. Every parser is bounded and throws KeyFormatError.
 */
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { defaultBackend } from '../crypto/index.js';
import { SshReader, SshWriter } from '../wire/index.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { encodeCertificateBlob, readCertificateBody } from './certificate-codec.js';
import { KeyFormatError, decodeWith } from './errors.js';
import {
  CURVE_OF,
  type EcdsaKeyType,
  type PlainKeyType,
  type PlainPublicKey,
  type PublicKey,
  RSA_MAX_BITS,
  RSA_MIN_PARSE_BITS,
  isCertKeyType,
  isCertificateKey,
  isPlainKeyType,
} from './key-types.js';

export * from './key-types.js';

/** Longest public key blob accepted (a 16384-bit RSA certificate with generous options fits). */
export const MAX_KEY_BLOB = 16 * 1024;
/** Longest authorized_keys / known_hosts / .pub line accepted. */
export const MAX_KEY_LINE = 32 * 1024;

const POINTS = { p256: p256.Point, p384: p384.Point, p521: p521.Point } as const;

export function bitLength(magnitude: Uint8Array): number {
  let i = 0;
  while (i < magnitude.length && magnitude[i] === 0) i++;
  if (i === magnitude.length) return 0;
  return (magnitude.length - i - 1) * 8 + (32 - Math.clz32(magnitude[i] ?? 0));
}

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return b.subarray(i);
}

/** Checks an EC point is uncompressed, the right size and on the curve. */
export function checkEcPoint(type: EcdsaKeyType, point: Uint8Array): void {
  const c = CURVE_OF[type];
  if (point.length !== 1 + 2 * c.fieldBytes || point[0] !== 0x04) throw new KeyFormatError(`${type} point is not an uncompressed ${c.name} point`);
  try {
    POINTS[c.curve].fromBytes(point);
  } catch {
    throw new KeyFormatError(`${type} point is not on the curve`);
  }
}

/** Checks RSA public parameters against the parse bounds. */
export function checkRsaPublic(e: Uint8Array, n: Uint8Array): number {
  const bits = bitLength(n);
  if (bits < RSA_MIN_PARSE_BITS || bits > RSA_MAX_BITS) throw new KeyFormatError(`RSA modulus of ${bits} bits is outside ${RSA_MIN_PARSE_BITS}..${RSA_MAX_BITS}`);
  if (((n[n.length - 1] ?? 0) & 1) === 0) throw new KeyFormatError('RSA modulus is even');
  const eBits = bitLength(e);
  if (eBits < 2 || eBits > 64 || ((e[e.length - 1] ?? 0) & 1) === 0) throw new KeyFormatError('RSA public exponent is invalid');
  return bits;
}

/** Reads the key fields that follow the type name, for a plain key type (shared with certificates and private keys). */
export function readPlainKeyFields(r: SshReader, type: PlainKeyType): PlainPublicKey {
  switch (type) {
    case 'ssh-ed25519': {
      const key = r.bytes(64);
      if (key.length !== 32) throw new KeyFormatError('ssh-ed25519 key must be 32 bytes');
      return { type, key: key.slice() };
    }
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      const c = CURVE_OF[type];
      const name = r.ascii(32);
      if (name !== c.name) throw new KeyFormatError(`${type} key names curve ${name}`);
      const point = r.bytes(1 + 2 * c.fieldBytes).slice();
      checkEcPoint(type, point);
      return { type, curve: c.curve, point };
    }
    case 'ssh-rsa': {
      const e = r.mpintBytes(16).slice();
      const n = r.mpintBytes(RSA_MAX_BITS / 8 + 1).slice();
      const bits = checkRsaPublic(e, n);
      return { type, e, n, bits };
    }
    default: {
      const never: never = type;
      throw new KeyFormatError(`unsupported key type ${String(never)}`);
    }
  }
}

/** Writes the key fields that follow the type name. */
export function writePlainKeyFields(w: SshWriter, key: PlainPublicKey): SshWriter {
  switch (key.type) {
    case 'ssh-ed25519':
      return w.string(key.key);
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521':
      return w.string(CURVE_OF[key.type].name).string(key.point);
    case 'ssh-rsa':
      return w.mpintFromBytes(key.e).mpintFromBytes(key.n);
    default: {
      const never: never = key;
      throw new KeyFormatError(`unsupported key ${String(never)}`);
    }
  }
}

/** Parses a plain (non-certificate) key blob; certificates are refused (e.g. as CA keys). */
export function parsePlainPublicKeyBlob(blob: Uint8Array): PlainPublicKey {
  const k = parsePublicKeyBlob(blob);
  if (isCertificateKey(k)) throw new KeyFormatError('a certificate is not allowed here');
  return k;
}

/** Parses an SSH public key blob (plain key or certificate). */
export function parsePublicKeyBlob(blob: Uint8Array): PublicKey {
  if (blob.length > MAX_KEY_BLOB) throw new KeyFormatError(`key blob of ${blob.length} bytes exceeds ${MAX_KEY_BLOB}`);
  return decodeWith('public key blob', () => {
    const r = new SshReader(blob);
    const type = r.ascii(64);
    let key: PublicKey;
    if (isPlainKeyType(type)) key = readPlainKeyFields(r, type);
    else if (isCertKeyType(type)) key = { type, certificate: readCertificateBody(r, blob, type) };
    else throw new KeyFormatError(`unsupported key type ${JSON.stringify(type)}`);
    r.expectEnd('public key blob');
    return key;
  });
}

/** Encodes a public key (or certificate) as its SSH blob. */
export function encodePublicKeyBlob(key: PublicKey): Uint8Array {
  if (isCertificateKey(key)) return encodeCertificateBlob(key.certificate);
  return writePlainKeyFields(new SshWriter(64).string(key.type), key).finish();
}

export interface PublicKeyLine {
  readonly key: PublicKey;
  readonly blob: Uint8Array;
  readonly comment: string;
}

/** Parses "type base64 [comment]" (a .pub file line, or the key part of authorized_keys). */
export function parsePublicKeyLine(line: string): PublicKeyLine {
  if (line.length > MAX_KEY_LINE) throw new KeyFormatError(`key line exceeds ${MAX_KEY_LINE} characters`);
  const m = /^[ \t]*(\S+)[ \t]+(\S+)(?:[ \t]+(.*?))?[ \t\r\n]*$/s.exec(line);
  if (m === null) throw new KeyFormatError('key line must be "type base64 [comment]"');
  const [, type = '', b64 = '', comment = ''] = m;
  const blob = decodeBase64(b64, MAX_KEY_BLOB);
  const key = parsePublicKeyBlob(blob);
  if (key.type !== type) throw new KeyFormatError(`key line says ${type} but the blob holds ${key.type}`);
  return { key, blob, comment };
}

/** Formats "type base64 [comment]". */
export function formatPublicKeyLine(key: PublicKey | Uint8Array, comment = ''): string {
  const k = key instanceof Uint8Array ? parsePublicKeyBlob(key) : key;
  const blob = key instanceof Uint8Array ? key : encodePublicKeyBlob(key);
  const line = `${k.type} ${encodeBase64(blob)}`;
  return comment === '' ? line : `${line} ${comment}`;
}

/** "SHA256:" + unpadded base64 of SHA-256(blob), as `ssh-keygen -lf` prints it. */
export function fingerprintSha256(blob: Uint8Array | PublicKey): string {
  const b = blob instanceof Uint8Array ? blob : encodePublicKeyBlob(blob);
  return `SHA256:${encodeBase64(defaultBackend.hash('sha256', b), false)}`;
}

/** The blob of the plain key behind `key` (the certified key for a certificate). */
export function plainKeyBlob(key: PublicKey): Uint8Array {
  return encodePublicKeyBlob(isCertificateKey(key) ? key.certificate.key : key);
}

/** Key size as ssh-keygen -l reports it. */
export function keyBits(key: PlainPublicKey): number {
  switch (key.type) {
    case 'ssh-ed25519':
      return 256;
    case 'ecdsa-sha2-nistp256':
      return 256;
    case 'ecdsa-sha2-nistp384':
      return 384;
    case 'ecdsa-sha2-nistp521':
      return 521;
    case 'ssh-rsa':
      return key.bits;
    default: {
      const never: never = key;
      throw new KeyFormatError(String(never));
    }
  }
}

/** Equality of two plain keys by their encodings. */
export function plainKeysEqual(a: PlainPublicKey, b: PlainPublicKey): boolean {
  const x = encodePublicKeyBlob(a);
  const y = encodePublicKeyBlob(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

export { stripZeros as stripLeadingZeros };
