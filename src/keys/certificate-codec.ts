/**
 * The OpenSSH certificate wire format (PROTOCOL.certkeys): the fields after the type name, the
 * packed principal and option lists, and the bytes the CA signs. Signing and verification live
 * in certificate.ts.
 */
import { SshReader, SshWriter } from '../wire/index.js';
import { KeyFormatError } from './errors.js';
import {
  CERT_SUFFIX,
  type CertKeyType,
  type Certificate,
  type CertificateOption,
  type CertificateType,
  type PlainKeyType,
  type PlainPublicKey,
  certTypeFor,
  isPlainKeyType,
} from './key-types.js';
import { encodePublicKeyBlob, parsePlainPublicKeyBlob, readPlainKeyFields, writePlainKeyFields } from './public-key.js';

export const MAX_PRINCIPALS = 256;
export const MAX_OPTIONS = 64;

/** SSH2_CERT_TYPE_USER / SSH2_CERT_TYPE_HOST. */
const CERT_TYPE_CODE: Readonly<Record<CertificateType, number>> = { user: 1, host: 2 };

function readPrincipals(data: Uint8Array): string[] {
  const r = new SshReader(data);
  const out: string[] = [];
  while (!r.done) {
    if (out.length >= MAX_PRINCIPALS) throw new KeyFormatError(`more than ${MAX_PRINCIPALS} principals`);
    out.push(r.string(1024));
  }
  return out;
}

function readOptions(data: Uint8Array, what: string): CertificateOption[] {
  const r = new SshReader(data);
  const out: CertificateOption[] = [];
  const seen = new Set<string>();
  while (!r.done) {
    if (out.length >= MAX_OPTIONS) throw new KeyFormatError(`more than ${MAX_OPTIONS} ${what}`);
    const name = r.ascii(256);
    if (seen.has(name)) throw new KeyFormatError(`duplicate ${what} ${name}`);
    seen.add(name);
    out.push({ name, data: r.bytes(8192).slice() });
  }
  return out;
}

/** Reads a certificate after its type name; `blob` is the whole blob the reader reads (for the signed range). */
export function readCertificateBody(r: SshReader, blob: Uint8Array, type: CertKeyType): Certificate {
  const plain = type.slice(0, -CERT_SUFFIX.length);
  if (!isPlainKeyType(plain)) throw new KeyFormatError(`unsupported certificate type ${type}`);
  const nonce = r.bytes(256).slice();
  const key = readPlainKeyFields(r, plain);
  const serial = r.uint64();
  const code = r.uint32();
  const certType: CertificateType | null = code === 1 ? 'user' : code === 2 ? 'host' : null;
  if (certType === null) throw new KeyFormatError(`unknown certificate type ${code}`);
  const keyId = r.string(1024);
  const principals = readPrincipals(r.bytes(64 * 1024));
  const validAfter = r.uint64();
  const validBefore = r.uint64();
  const criticalOptions = readOptions(r.bytes(64 * 1024), 'critical option');
  const extensions = readOptions(r.bytes(64 * 1024), 'extension');
  const reserved = r.bytes(1024).slice();
  const signatureKeyBlob = r.bytes(8192).slice();
  const signatureKey = parsePlainPublicKeyBlob(signatureKeyBlob);
  const signedData = blob.slice(0, r.offset);
  const signature = r.bytes(8192).slice();
  return {
    nonce,
    key,
    serial,
    certType,
    keyId,
    principals,
    validAfter,
    validBefore,
    criticalOptions,
    extensions,
    reserved,
    signatureKey,
    signatureKeyBlob,
    signature,
    signedData,
  };
}

/** The certificate fields a CA signs. */
export interface CertificateFields {
  readonly nonce: Uint8Array;
  readonly key: PlainPublicKey;
  readonly serial: bigint;
  readonly certType: CertificateType;
  readonly keyId: string;
  readonly principals: readonly string[];
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly criticalOptions: readonly CertificateOption[];
  readonly extensions: readonly CertificateOption[];
  readonly reserved?: Uint8Array;
  readonly signatureKey: PlainPublicKey;
}

function packOptions(opts: readonly CertificateOption[]): Uint8Array {
  const w = new SshWriter();
  for (const o of opts) w.string(o.name).string(o.data);
  return w.finish();
}

/** The to-be-signed bytes: every field up to and including the signature key. */
export function encodeCertificateTbs(f: CertificateFields): Uint8Array {
  const type: CertKeyType = certTypeFor(f.key.type as PlainKeyType);
  const w = new SshWriter(512).string(type).string(f.nonce);
  writePlainKeyFields(w, f.key);
  const principals = new SshWriter();
  for (const p of f.principals) principals.string(p);
  w.uint64(f.serial)
    .uint32(CERT_TYPE_CODE[f.certType])
    .string(f.keyId)
    .string(principals.finish())
    .uint64(f.validAfter)
    .uint64(f.validBefore)
    .string(packOptions(f.criticalOptions))
    .string(packOptions(f.extensions))
    .string(f.reserved ?? new Uint8Array(0))
    .string(encodePublicKeyBlob(f.signatureKey));
  return w.finish();
}

/** The full certificate blob, re-encoded from its fields. */
export function encodeCertificateBlob(c: Certificate): Uint8Array {
  const tbs = encodeCertificateTbs(c);
  return new SshWriter(tbs.length + c.signature.length + 4).raw(tbs).string(c.signature).finish();
}

/** An option whose data is a string value (force-command, source-address). */
export function optionWithValue(name: string, value: string): CertificateOption {
  return { name, data: new SshWriter().string(value).finish() };
}

/** A flag option (permit-pty and the other extensions): empty data. */
export function flagOption(name: string): CertificateOption {
  return { name, data: new Uint8Array(0) };
}

/** The string value inside an option's data; throws KeyFormatError when the data is not exactly one string. */
export function optionValue(o: CertificateOption): string {
  try {
    const r = new SshReader(o.data);
    const v = r.string(8192);
    r.expectEnd(`option ${o.name}`);
    return v;
  } catch (e) {
    throw new KeyFormatError(`certificate option ${o.name} has malformed data`, { cause: e });
  }
}
