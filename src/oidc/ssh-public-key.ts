// The one-line OpenSSH public key and certificate formats ("type base64 [comment]",
// sshd(8) AUTHORIZED_KEYS FILE FORMAT), as the web sign-in receives and returns them, and the
// SHA256 fingerprint key bindings are keyed by (ssh-keygen -l -E sha256).
import { createHash } from 'node:crypto';
import { SshReader, WireError } from '../wire/index.js';

export class PublicKeyLineError extends Error {
  override readonly name = 'PublicKeyLineError';
}

/** Key types a user may get a certificate for (RFC 8709, RFC 5656, RFC 8332, PROTOCOL.u2f). */
export const CERTIFIABLE_KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;
export type CertifiableKeyType = (typeof CERTIFIABLE_KEY_TYPES)[number];

export interface PublicKeyLine {
  readonly type: string;
  readonly blob: Uint8Array;
  readonly comment: string;
  /** "type base64" without the comment, the canonical form we sign and compare. */
  readonly canonical: string;
}

const MAX_LINE = 16 * 1024;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function parseLine(line: string, allowedTypes: readonly string[]): PublicKeyLine {
  if (typeof line !== 'string' || line.length > MAX_LINE) throw new PublicKeyLineError('public key line missing or too long');
  const trimmed = line.trim();
  if (trimmed.includes('\n') || trimmed.includes('\r')) throw new PublicKeyLineError('expected a single line');
  const m = /^(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(trimmed);
  if (m === null) throw new PublicKeyLineError('expected "type base64 [comment]"');
  const [, type = '', b64 = '', comment = ''] = m;
  if (!allowedTypes.includes(type)) throw new PublicKeyLineError(`unsupported key type ${JSON.stringify(type.slice(0, 60))}`);
  if (!BASE64.test(b64) || b64.length % 4 !== 0) throw new PublicKeyLineError('key data is not base64');
  const blob = new Uint8Array(Buffer.from(b64, 'base64'));
  try {
    const inner = new SshReader(blob).string(128);
    if (inner !== type) throw new PublicKeyLineError(`key data says ${JSON.stringify(inner.slice(0, 60))}, line says ${type}`);
  } catch (err) {
    if (err instanceof WireError) throw new PublicKeyLineError(`key data is malformed: ${err.message}`);
    throw err;
  }
  if (type === 'ssh-rsa') checkRsaSize(blob);
  return { type, blob, comment: comment.replace(/[\x00-\x1f\x7f]/g, ''), canonical: `${type} ${b64}` };
}

/** RSA keys under 2048 bits are refused (OpenSSH 9.x refuses under 1024; we are stricter). */
function checkRsaSize(blob: Uint8Array): void {
  try {
    const r = new SshReader(blob);
    r.string(16);
    r.mpintBytes(16);
    const n = r.mpintBytes(2049);
    const bits = n.length * 8 - Math.clz32(n[0] ?? 0) + 24;
    if (bits < 2048) throw new PublicKeyLineError(`RSA key of ${bits} bits is too small (2048 minimum)`);
  } catch (err) {
    if (err instanceof WireError) throw new PublicKeyLineError(`RSA key data is malformed: ${err.message}`);
    throw err;
  }
}

/** Parse one public key line of a certifiable type. Total: a value or a PublicKeyLineError. */
export function parsePublicKeyLine(line: string): PublicKeyLine {
  return parseLine(line, CERTIFIABLE_KEY_TYPES);
}

/** Parse a certificate line whose type is `<keyType>-cert-v01@openssh.com` (PROTOCOL.certkeys). */
export function parseCertificateLine(line: string, keyType: string): PublicKeyLine {
  const base = keyType.replace(/@openssh\.com$/, '');
  return parseLine(line, [`${base}-cert-v01@openssh.com`]);
}

/** "SHA256:" + unpadded base64 of SHA-256 over the key blob, as ssh-keygen -l prints it. */
export function sha256Fingerprint(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}
