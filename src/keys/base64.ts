/**
 * Strict standard base64 (RFC 4648 §4) over Uint8Array, so key codecs need no Buffer. Decoding
 * rejects characters outside the alphabet and misplaced padding instead of skipping them.
 */
import { KeyFormatError } from './errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

export function encodeBase64(data: Uint8Array, pad = true): string {
  let out = '';
  let i = 0;
  for (; i + 2 < data.length; i += 3) {
    const n = ((data[i] ?? 0) << 16) | ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0);
    out += ALPHABET[(n >> 18) & 63] + (ALPHABET[(n >> 12) & 63] ?? '') + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  const left = data.length - i;
  if (left === 1) {
    const n = (data[i] ?? 0) << 16;
    out += (ALPHABET[(n >> 18) & 63] ?? '') + ALPHABET[(n >> 12) & 63] + (pad ? '==' : '');
  } else if (left === 2) {
    const n = ((data[i] ?? 0) << 16) | ((data[i + 1] ?? 0) << 8);
    out += (ALPHABET[(n >> 18) & 63] ?? '') + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + (pad ? '=' : '');
  }
  return out;
}

/** Decodes padded or unpadded base64; throws KeyFormatError on anything else. */
export function decodeBase64(text: string, maxBytes = 1 << 20): Uint8Array {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x3d /* = */ && text.length - end < 2) end--;
  const padding = text.length - end;
  if (padding > 0 && text.length % 4 !== 0) throw new KeyFormatError('base64 padding is misplaced');
  if (end % 4 === 1) throw new KeyFormatError('base64 length is impossible');
  const outLen = Math.floor((end * 3) / 4);
  if (outLen > maxBytes) throw new KeyFormatError(`base64 data exceeds ${maxBytes} bytes`);
  const out = new Uint8Array(outLen);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? (LOOKUP[c] ?? -1) : -1;
    if (v < 0) throw new KeyFormatError('invalid base64 character');
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}
