/**
 * OpenSSH certificates (PROTOCOL.certkeys): signing by a CA key, and verification against a
 * set of trusted CA keys with the checks sshd and ssh make (sshkey_cert_check_authority and
 * auth-options.c): certificate type, trusted CA, CA signature, validity window
 * (valid_after <= now < valid_before), principals, critical options (unknown ones refuse),
 * source-address CIDR lists.
 */
import { defaultBackend } from '../crypto/index.js';
import { matchCidrList } from './address-match.js';
import { type CertificateFields, encodeCertificateBlob, encodeCertificateTbs, flagOption, optionValue, optionWithValue } from './certificate-codec.js';
import { KeyFormatError } from './errors.js';
import {
  type CertKeyType,
  type Certificate,
  type CertificateOption,
  type CertificatePublicKey,
  type CertificateType,
  type PlainPublicKey,
  certTypeFor,
  isCertificateKey,
} from './key-types.js';
import type { PrivateKey } from './private-key-core.js';
import { parsePlainPublicKeyBlob, parsePublicKeyBlob } from './public-key.js';
import { type SignatureOptions, parseSignatureBlob, verifyWithPlainKey } from './signature.js';

export { optionValue, optionWithValue, flagOption } from './certificate-codec.js';

/** validBefore meaning "forever" (ssh-keygen -V ...:forever). */
export const CERT_FOREVER = 0xffff_ffff_ffff_ffffn;

/** The default extensions ssh-keygen grants a user certificate. */
export const DEFAULT_USER_EXTENSIONS: Readonly<Record<string, string>> = {
  'permit-X11-forwarding': '',
  'permit-agent-forwarding': '',
  'permit-port-forwarding': '',
  'permit-pty': '',
  'permit-user-rc': '',
};

export interface SignCertificateRequest {
  readonly key: PlainPublicKey | Uint8Array;
  readonly type: CertificateType;
  readonly keyId: string;
  readonly principals: readonly string[];
  /** Seconds since the epoch. */
  readonly validAfter: number | bigint;
  readonly validBefore: number | bigint;
  /** name → value; '' encodes a flag (empty data). */
  readonly criticalOptions?: Readonly<Record<string, string>>;
  readonly extensions?: Readonly<Record<string, string>>;
  readonly serial?: bigint | number;
  /** For an RSA CA: rsa-sha2-512 (default) or rsa-sha2-256. */
  readonly signatureAlgorithm?: string;
}

export interface SignedCertificate {
  readonly type: CertKeyType;
  readonly certificate: Certificate;
  /** The certificate blob (for K_S, userauth, or a "-cert.pub" line). */
  readonly blob: Uint8Array;
}

function toOptions(rec: Readonly<Record<string, string>> | undefined): CertificateOption[] {
  // PROTOCOL.certkeys: options and extensions are sorted lexically by name
  return Object.keys(rec ?? {})
    .sort()
    .map((name) => {
      const v = rec?.[name] ?? '';
      return v === '' ? flagOption(name) : optionWithValue(name, v);
    });
}

/** Signs a certificate with `ca`; the nonce comes from the crypto port's randomness. */
export function signCertificate(req: SignCertificateRequest, ca: PrivateKey): SignedCertificate {
  const key = req.key instanceof Uint8Array ? parsePlainPublicKeyBlob(req.key) : req.key;
  const validAfter = BigInt(req.validAfter);
  const validBefore = BigInt(req.validBefore);
  if (validAfter < 0n || validBefore > CERT_FOREVER || validAfter >= validBefore) throw new KeyFormatError('certificate validity window is empty or out of range');
  if (req.keyId.length > 1024) throw new KeyFormatError('certificate key id too long');
  const fields: CertificateFields = {
    nonce: defaultBackend.randomBytes(32),
    key,
    serial: BigInt.asUintN(64, BigInt(req.serial ?? 0)),
    certType: req.type,
    keyId: req.keyId,
    principals: [...req.principals],
    validAfter,
    validBefore,
    criticalOptions: toOptions(req.criticalOptions),
    extensions: toOptions(req.extensions),
    signatureKey: ca.publicKey,
  };
  const tbs = encodeCertificateTbs(fields);
  const alg = req.signatureAlgorithm ?? ca.algorithms[0] ?? ca.type;
  const signature = ca.sign(alg, tbs);
  const certificate: Certificate = {
    ...fields,
    reserved: new Uint8Array(0),
    signatureKeyBlob: ca.publicKeyBlob,
    signature,
    signedData: tbs,
  };
  return { type: certTypeFor(key.type), certificate, blob: encodeCertificateBlob(certificate) };
}

export type CertificateFailure =
  | 'malformed'
  | 'wrong-type'
  | 'untrusted-ca'
  | 'bad-signature'
  | 'not-yet-valid'
  | 'expired'
  | 'no-principals'
  | 'principal-not-listed'
  | 'unknown-critical-option'
  | 'source-address-mismatch';

export type CertificateVerdict =
  | {
      readonly ok: true;
      readonly certificate: Certificate;
      /** The trusted CA key that signed it. */
      readonly caKeyBlob: Uint8Array;
      /** force-command critical option, or null. */
      readonly forceCommand: string | null;
      /** source-address critical option (already checked), or null. */
      readonly sourceAddress: string | null;
      /** Extension names granted (permit-pty, permit-port-forwarding, ...). */
      readonly extensions: readonly string[];
    }
  | { readonly ok: false; readonly reason: CertificateFailure; readonly message: string };

export interface VerifyCertificateOptions {
  /** The expected certificate type. */
  readonly type: CertificateType;
  /** Trusted CA public key blobs. */
  readonly caKeys: readonly Uint8Array[];
  /** Seconds since the epoch; defaults to the current time. */
  readonly now?: number;
  /** The user name (user certs) or host name (host certs) that must be listed. */
  readonly principal?: string;
  /** The client's address, checked against source-address; a certificate with source-address and no address given is refused. */
  readonly sourceAddress?: string;
  /** Legacy: accept SHA-1 RSA CA signatures and small RSA CA keys. */
  readonly signature?: SignatureOptions;
}

const KNOWN_CRITICAL = new Set(['force-command', 'source-address', 'verify-required']);

function fail(reason: CertificateFailure, message: string): CertificateVerdict {
  return { ok: false, reason, message };
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Verifies a certificate (parsed, or its blob). Never throws; the verdict says why it failed. */
export function verifyCertificate(
  cert: Certificate | CertificatePublicKey | Uint8Array,
  opts: VerifyCertificateOptions,
): CertificateVerdict {
  let c: Certificate;
  try {
    if (cert instanceof Uint8Array) {
      const k = parsePublicKeyBlob(cert);
      if (!isCertificateKey(k)) return fail('malformed', 'not a certificate');
      c = k.certificate;
    } else c = 'certificate' in cert ? cert.certificate : cert;
  } catch (e) {
    return fail('malformed', e instanceof Error ? e.message : 'unparseable certificate');
  }
  if (c.certType !== opts.type) return fail('wrong-type', `a ${c.certType} certificate where a ${opts.type} certificate is needed`);
  const ca = opts.caKeys.find((k) => bytesEq(k, c.signatureKeyBlob));
  if (ca === undefined) return fail('untrusted-ca', 'certificate signed by an untrusted CA');
  let sigAlg: string;
  try {
    sigAlg = parseSignatureBlob(c.signature).algorithm;
  } catch {
    return fail('bad-signature', 'malformed CA signature');
  }
  if (!verifyWithPlainKey(c.signatureKey, sigAlg, c.signature, c.signedData, opts.signature ?? {})) {
    return fail('bad-signature', `CA signature (${sigAlg}) does not verify`);
  }
  const now = BigInt(Math.floor(opts.now ?? Date.now() / 1000));
  if (now < c.validAfter) return fail('not-yet-valid', `certificate not valid before ${c.validAfter}`);
  if (now >= c.validBefore) return fail('expired', `certificate expired at ${c.validBefore}`);
  if (c.principals.length === 0) {
    // sshd refuses principal-less user certificates; a principal-less host certificate is valid for any name
    if (opts.type === 'user') return fail('no-principals', 'user certificate lists no principals');
  } else if (opts.principal !== undefined) {
    const want = opts.type === 'host' ? opts.principal.toLowerCase() : opts.principal;
    const listed = c.principals.some((p) => (opts.type === 'host' ? p.toLowerCase() : p) === want);
    if (!listed) return fail('principal-not-listed', `${opts.principal} is not a principal of this certificate`);
  }
  let forceCommand: string | null = null;
  let sourceAddress: string | null = null;
  for (const o of c.criticalOptions) {
    if (!KNOWN_CRITICAL.has(o.name) || opts.type === 'host') {
      return fail('unknown-critical-option', `unsupported critical option ${o.name}`);
    }
    try {
      if (o.name === 'force-command') forceCommand = optionValue(o);
      else if (o.name === 'source-address') sourceAddress = optionValue(o);
    } catch {
      return fail('malformed', `critical option ${o.name} is malformed`);
    }
  }
  if (sourceAddress !== null) {
    if (opts.sourceAddress === undefined) return fail('source-address-mismatch', 'certificate is bound to source addresses and no address was given');
    const m = matchCidrList(opts.sourceAddress, sourceAddress);
    if (m === 'invalid') return fail('malformed', `invalid source-address list ${sourceAddress}`);
    if (m === 'no-match') return fail('source-address-mismatch', `${opts.sourceAddress} is not in source-address ${sourceAddress}`);
  }
  return {
    ok: true,
    certificate: c,
    caKeyBlob: ca,
    forceCommand,
    sourceAddress,
    extensions: c.extensions.map((e) => e.name),
  };
}
