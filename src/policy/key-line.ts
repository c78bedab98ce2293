/**
 * Public key lines in the policy ("ssh-ed25519 AAAA... comment"). Keys are compared by their
 * wire blob (RFC 4253 §6.6), never by the text, so comments and base64 spelling do not matter.
 *
 * This is a small local decoder used until src/keys offers parsePublicKeyLine; it checks only
 * what the policy needs: the line shape, strict base64, and that the blob starts with the
 * string naming the same key type as the line.
 */
import { createHash } from 'node:crypto';
import { KeyLineError } from './errors.js';
import type { PolicyKey } from './types.js';

/** Longer than any RSA-16384 key line; bounds the work done on hostile input. */
const MAX_LINE = 16 * 1024;
const KEY_TYPE = /^[A-Za-z0-9@._+-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function parseKeyLine(line: string): PolicyKey {
  if (line.length > MAX_LINE) throw new KeyLineError(`key line longer than ${MAX_LINE} characters`);
  const parts = line.trim().split(/[ \t]+/);
  const [type, data, ...rest] = parts;
  if (type === undefined || type === '' || data === undefined) {
    throw new KeyLineError('expected "TYPE BASE64 [COMMENT]"');
  }
  if (!KEY_TYPE.test(type)) throw new KeyLineError(`"${type.slice(0, 40)}" is not a key type name`);
  if (!BASE64.test(data) || data.length % 4 !== 0) {
    throw new KeyLineError(`the key data of ${type} is not valid base64`);
  }
  const blob = new Uint8Array(Buffer.from(data, 'base64'));
  if (blob.length < 4) throw new KeyLineError('the key blob is too short');
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const nameLen = view.getUint32(0);
  if (nameLen > blob.length - 4) throw new KeyLineError('the key blob is truncated');
  const blobType = Buffer.from(blob.subarray(4, 4 + nameLen)).toString('latin1');
  if (blobType !== type) {
    throw new KeyLineError(`the line says ${type} but the key blob is ${JSON.stringify(blobType.slice(0, 40))}`);
  }
  if (blob.length === 4 + nameLen) throw new KeyLineError(`the ${type} key has no key material`);
  return { type, blob, comment: rest.join(' '), fingerprint: fingerprintOf(blob) };
}

/** The SHA-256 fingerprint in the form ssh-keygen -l prints (unpadded base64). */
export function fingerprintOf(blob: Uint8Array): string {
  const digest = createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
  return `SHA256:${digest}`;
}

export function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
