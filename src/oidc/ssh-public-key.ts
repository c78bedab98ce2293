// The one-line OpenSSH public key and certificate formats as the web sign-in receives and
// returns them, on top of src/keys (which parses and checks the key material), and the SHA256
// fingerprint that key bindings are keyed by (as ssh-keygen -l -E sha256 prints it).
import { KeyFormatError } from '../keys/errors.js';
import {
  encodePublicKeyBlob,
  fingerprintSha256,
  formatPublicKeyLine,
  isCertificateKey,
  keyBits,
  type PlainPublicKey,
  parsePublicKeyLine as parseKeyLine,
  plainKeysEqual,
} from '../keys/public-key.js';

export class PublicKeyLineError extends Error {
  override readonly name = 'PublicKeyLineError';
}

export interface PublicKeyLine {
  readonly type: string;
  readonly key: PlainPublicKey;
  readonly blob: Uint8Array;
  readonly comment: string;
  /** "type base64" without the comment, the form the CA is asked to certify. */
  readonly canonical: string;
}

export interface CertificateSummary {
  readonly type: string;
  readonly principals: readonly string[];
  readonly keyId: string;
  readonly validBefore: bigint;
}

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof KeyFormatError) throw new PublicKeyLineError(err.message);
    throw err;
  }
}

/** A plain public key line to certify (RSA under 2048 bits refused). Total: a value or a PublicKeyLineError. */
export function parsePublicKeyLine(line: string): PublicKeyLine {
  return wrap(() => {
    if (line.trim().includes('\n')) throw new PublicKeyLineError('expected a single line');
    const parsed = parseKeyLine(line.trim());
    const key = parsed.key;
    if (isCertificateKey(key)) throw new PublicKeyLineError('give the plain public key, not a certificate');
    if (key.type === 'ssh-rsa' && keyBits(key) < 2048) throw new PublicKeyLineError(`RSA key of ${keyBits(key)} bits is too small (2048 minimum)`);
    return { type: key.type, key, blob: parsed.blob, comment: parsed.comment.replace(/[\x00-\x1f\x7f]/g, ''), canonical: formatPublicKeyLine(key) };
  });
}

/** A user certificate line that must certify `forKey` (so a wrong answer is never written as ours). */
export function parseCertificateLine(line: string, forKey: PublicKeyLine): CertificateSummary {
  return wrap(() => {
    const parsed = parseKeyLine(line.trim());
    const cert = parsed.key;
    if (!isCertificateKey(cert)) throw new PublicKeyLineError('not a certificate');
    if (cert.certificate.certType !== 'user') throw new PublicKeyLineError('not a user certificate');
    if (!plainKeysEqual(cert.certificate.key, forKey.key)) throw new PublicKeyLineError('the certificate is for a different key');
    return { type: cert.type, principals: cert.certificate.principals, keyId: cert.certificate.keyId, validBefore: cert.certificate.validBefore };
  });
}

/** "SHA256:" + unpadded base64 of SHA-256 over the key blob, as ssh-keygen -l prints it. */
export function sha256Fingerprint(blob: Uint8Array | PlainPublicKey): string {
  return fingerprintSha256(blob instanceof Uint8Array ? blob : encodePublicKeyBlob(blob));
}
