/**
 * Offered versus proven keys (DESIGN principle 6; the CVE-2024-45337 class). An OfferedKey is
 * whatever a client named in a request; a ProvenKey exists only after a signature by that very
 * key over the RFC 4252 §7 data, bound to this session, verified. ProvenKey can only be made in
 * this module (its constructor needs a token nobody else holds), and the server machine makes
 * one only from the key and signature of the same request.
 */
import type { SignatureVerifier } from '../transport/host-key.js';
import { Msg, SshReader, SshWriter } from '../wire/index.js';
import { HOSTBOUND_METHOD, MAX_NAME } from './messages.js';

const CERT_SUFFIX = '-cert-v01@openssh.com';

/** A key named in a request, not (yet) backed by a signature. */
export interface OfferedKey {
  readonly kind: 'offered';
  /** The public key algorithm of the request (e.g. rsa-sha2-512, ssh-ed25519-cert-v01@openssh.com). */
  readonly algorithm: string;
  /** The key type inside the blob (e.g. ssh-rsa, ssh-ed25519-cert-v01@openssh.com). */
  readonly keyType: string;
  /** The public key or certificate blob, as sent. */
  readonly blob: Uint8Array;
  readonly isCertificate: boolean;
}

const mintToken: unique symbol = Symbol('ProvenKey');

/** A key whose signature over this session's request data verified. */
export class ProvenKey {
  readonly kind = 'proven' as const;
  #proven = true;

  constructor(
    token: typeof mintToken,
    readonly algorithm: string,
    readonly keyType: string,
    readonly blob: Uint8Array,
    readonly isCertificate: boolean,
    /** The request was publickey-hostbound-v00@openssh.com, bound to our host key. */
    readonly hostbound: boolean,
  ) {
    if (token !== mintToken) throw new TypeError('a ProvenKey comes only from a verified signature');
  }

  /** Always true; present so that a structurally similar object is not a ProvenKey. */
  get isProven(): boolean {
    return this.#proven;
  }
}

/** The key type string at the start of a key blob, or undefined if the blob does not start with one. */
export function keyTypeOf(blob: Uint8Array): string | undefined {
  try {
    return new SshReader(blob).ascii(MAX_NAME);
  } catch {
    return undefined;
  }
}

/** The algorithm named inside an SSH signature blob, or undefined if malformed. */
export function signatureAlgorithmOf(signature: Uint8Array): string | undefined {
  try {
    const r = new SshReader(signature);
    const alg = r.ascii(MAX_NAME);
    r.bytes();
    r.expectEnd('signature');
    return alg;
  } catch {
    return undefined;
  }
}

/**
 * Whether a request's algorithm may be used with a key of this type: RSA keys sign with
 * ssh-rsa, rsa-sha2-256 or rsa-sha2-512 (RFC 8332 §3), certificates with the matching -cert-
 * names, every other key only with its own type.
 */
export function algorithmFitsKey(algorithm: string, keyType: string): boolean {
  const isCert = keyType.endsWith(CERT_SUFFIX);
  if (algorithm.endsWith(CERT_SUFFIX) !== isCert) return false;
  const alg = isCert ? algorithm.slice(0, -CERT_SUFFIX.length) : algorithm;
  const key = isCert ? keyType.slice(0, -CERT_SUFFIX.length) : keyType;
  if (key === 'ssh-rsa') return alg === 'ssh-rsa' || alg === 'rsa-sha2-256' || alg === 'rsa-sha2-512';
  return alg === key;
}

/** The signature algorithm a request algorithm implies (a certificate signs as its plain key). */
export function plainAlgorithm(algorithm: string): string {
  return algorithm.endsWith(CERT_SUFFIX) ? algorithm.slice(0, -CERT_SUFFIX.length) : algorithm;
}

export function offeredKey(algorithm: string, blob: Uint8Array): OfferedKey | undefined {
  const keyType = keyTypeOf(blob);
  if (keyType === undefined || !algorithmFitsKey(algorithm, keyType)) return undefined;
  return { kind: 'offered', algorithm, keyType, blob, isCertificate: keyType.endsWith(CERT_SUFFIX) };
}

/**
 * The data a publickey signature covers (RFC 4252 §7; OpenSSH PROTOCOL §2.3.2 appends the
 * server host key for publickey-hostbound-v00@openssh.com).
 */
export function publickeySignedData(p: {
  readonly sessionId: Uint8Array;
  readonly user: string;
  readonly service: string;
  readonly algorithm: string;
  readonly publicKey: Uint8Array;
  readonly hostKey?: Uint8Array | undefined;
}): Uint8Array {
  const w = new SshWriter(256 + p.publicKey.length);
  w.string(p.sessionId).byte(Msg.USERAUTH_REQUEST).string(p.user).string(p.service);
  w.string(p.hostKey === undefined ? 'publickey' : HOSTBOUND_METHOD);
  w.bool(true).string(p.algorithm).string(p.publicKey);
  if (p.hostKey !== undefined) w.string(p.hostKey);
  return w.finish();
}

/**
 * Verifies a signed publickey request and, only if the signature by `offered` itself over the
 * exact request data verifies, returns the ProvenKey. The signature blob must name the
 * algorithm of the request (no downgrade from rsa-sha2-512 to ssh-rsa). Never throws.
 */
export function provePublicKey(
  verify: SignatureVerifier,
  offered: OfferedKey,
  signature: Uint8Array,
  signedData: Uint8Array,
  hostbound: boolean,
): ProvenKey | undefined {
  if (signatureAlgorithmOf(signature) !== plainAlgorithm(offered.algorithm)) return undefined;
  let ok = false;
  try {
    ok = verify(offered.algorithm, offered.blob, signature, signedData) === true;
  } catch {
    ok = false;
  }
  if (!ok) return undefined;
  return new ProvenKey(mintToken, offered.algorithm, offered.keyType, offered.blob, offered.isCertificate, hostbound);
}
