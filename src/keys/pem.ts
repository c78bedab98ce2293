/** PEM armor (RFC 7468), bounded: one block, optional RFC 1421 headers (Proc-Type, DEK-Info). */
import { decodeBase64, encodeBase64 } from './base64.js';
import { KeyFormatError } from './errors.js';

/** Largest key file accepted (a 16384-bit RSA key in PEM is ~13 KiB). */
export const MAX_KEY_FILE = 64 * 1024;

export interface PemBlock {
  readonly label: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly data: Uint8Array;
}

export function decodePem(text: string): PemBlock {
  if (text.length > MAX_KEY_FILE) throw new KeyFormatError(`key file exceeds ${MAX_KEY_FILE} bytes`);
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const start = lines.findIndex((l) => /^-----BEGIN [A-Z0-9 ]{1,64}-----$/.test(l));
  if (start < 0) throw new KeyFormatError('no PEM BEGIN line');
  const label = (lines[start] ?? '').slice(11, -5);
  const endLine = `-----END ${label}-----`;
  const end = lines.indexOf(endLine, start + 1);
  if (end < 0) throw new KeyFormatError(`no ${endLine} line`);
  const headers = new Map<string, string>();
  let i = start + 1;
  for (; i < end; i++) {
    const l = lines[i] ?? '';
    const m = /^([A-Za-z-]{1,32}):\s*(.*)$/.exec(l);
    if (m === null) break;
    headers.set(m[1] ?? '', m[2] ?? '');
  }
  const body = lines.slice(i, end).join('');
  return { label, headers, data: decodeBase64(body, MAX_KEY_FILE) };
}

export function encodePem(label: string, data: Uint8Array, lineLength = 64): string {
  const b64 = encodeBase64(data);
  let out = `-----BEGIN ${label}-----\n`;
  for (let i = 0; i < b64.length; i += lineLength) out += `${b64.slice(i, i + lineLength)}\n`;
  return `${out}-----END ${label}-----\n`;
}
