/**
 * Streaming UTF-8 decoding for recordings, lossless for invalid input.
 *
 * Terminal output is not guaranteed to be UTF-8 (binary dumps, legacy encodings, a character
 * split across SSH packets). asciicast data must be a JSON string, so we decode as we go and
 * keep every byte that is not part of a valid UTF-8 sequence in an *escape form*: byte B becomes
 * the private-use code point U+10FE00 + B. A literal code point from that range in the input is
 * itself written as the escapes of its four bytes, so decoding is unambiguous and the original
 * byte stream is reproduced exactly by `escapedToBytes`. Players that know nothing of this show
 * a private-use glyph where the invalid byte was; the header key `gatehouse.invalid_bytes`
 * (see asciicast.ts) names the scheme.
 *
 * Validity follows RFC 3629 section 4 (no overlongs, no surrogates, nothing above U+10FFFF).
 */
import { isUtf8 } from 'node:buffer';

export const ESCAPE_BASE = 0x10fe00;
export const ESCAPE_SCHEME = 'pua-u10fe00';

const fatalDecoder = new TextDecoder('utf-8');

/** Byte length of the sequence introduced by `lead`, or 0 when `lead` cannot start one. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** Whether `b` may follow `lead` as the first continuation byte (RFC 3629 section 4 table). */
function isValidSecond(lead: number, b: number): boolean {
  switch (lead) {
    case 0xe0:
      return b >= 0xa0 && b <= 0xbf;
    case 0xed:
      return b >= 0x80 && b <= 0x9f;
    case 0xf0:
      return b >= 0x90 && b <= 0xbf;
    case 0xf4:
      return b >= 0x80 && b <= 0x8f;
    default:
      return b >= 0x80 && b <= 0xbf;
  }
}

function isContinuation(b: number): boolean {
  return b >= 0x80 && b <= 0xbf;
}

function escapeChar(byte: number): string {
  return String.fromCodePoint(ESCAPE_BASE + byte);
}

/**
 * Number of bytes at the end of `data` that form a valid but incomplete sequence prefix
 * (0..3). Those are held back until the next chunk.
 */
function incompleteTail(data: Uint8Array): number {
  const n = data.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const lead = data[n - back] ?? 0;
    if (isContinuation(lead)) continue;
    const len = sequenceLength(lead);
    if (len <= back) return 0;
    // validate the bytes after the lead
    for (let k = 1; k < back; k++) {
      const b = data[n - back + k] ?? 0;
      if (k === 1 ? !isValidSecond(lead, b) : !isContinuation(b)) return 0;
    }
    return back;
  }
  return 0;
}

/** Length of the front of `data` that holds no incomplete UTF-8 sequence at its end. */
export function completeUtf8Length(data: Uint8Array): number {
  return data.length - incompleteTail(data);
}

/**
 * Whether `data` is valid UTF-8 (RFC 3629) holding no code point of the escape range, i.e.
 * text that needs no escape form.
 */
export function isPlainUtf8(data: Uint8Array): boolean {
  // Valid UTF-8 with no lead byte F4 cannot hold an escape-range code point.
  return data.indexOf(0xf4) === -1 && isUtf8(data);
}

/** Decodes `data` completely (no bytes held back), escaping what is not valid UTF-8. */
function decodeSlow(data: Uint8Array, end: number): string {
  let out = '';
  let runStart = 0;
  let i = 0;
  const flushRun = (upto: number): void => {
    if (upto > runStart) out += fatalDecoder.decode(data.subarray(runStart, upto));
  };
  while (i < end) {
    const lead = data[i] ?? 0;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const len = sequenceLength(lead);
    let ok = len > 0 && i + len <= end;
    if (ok) {
      ok = isValidSecond(lead, data[i + 1] ?? 0);
      for (let k = 2; ok && k < len; k++) ok = isContinuation(data[i + k] ?? 0);
    }
    // A literal code point of the escape range (F4 8F B8..BB xx) must be escaped too.
    const isEscapeRange = ok && lead === 0xf4 && data[i + 1] === 0x8f && (data[i + 2] ?? 0) >= 0xb8 && (data[i + 2] ?? 0) <= 0xbb;
    if (ok && !isEscapeRange) {
      i += len;
      continue;
    }
    flushRun(i);
    const count = isEscapeRange ? 4 : 1;
    for (let k = 0; k < count; k++) out += escapeChar(data[i + k] ?? 0);
    i += count;
    runStart = i;
  }
  flushRun(end);
  return out;
}

/**
 * Stateful decoder: call `decode(chunk)` per packet and `end()` once at the end. Holds at most
 * three bytes between calls.
 */
export class StreamingUtf8Decoder {
  private pending: Uint8Array = new Uint8Array(0);
  /** Invalid bytes seen so far (each written as one escape). */
  invalidBytes = 0;

  decode(chunk: Uint8Array): string {
    const r = this.decodeOrPass(chunk);
    return typeof r === 'string' ? r : fatalDecoder.decode(r);
  }

  /**
   * Like `decode`, but when the complete part of the input is valid UTF-8 with nothing to
   * escape, returns those bytes unchanged (a view of the input, valid until it is reused) so
   * the caller can JSON-encode them without a round trip through a JS string.
   */
  decodeOrPass(chunk: Uint8Array): Uint8Array | string {
    let data = chunk;
    if (this.pending.length > 0) {
      data = new Uint8Array(this.pending.length + chunk.length);
      data.set(this.pending, 0);
      data.set(chunk, this.pending.length);
    }
    const tail = incompleteTail(data);
    const end = data.length - tail;
    // A copy, never a view: the caller may reuse its buffer (Buffer#slice would be a view).
    this.pending = tail > 0 ? new Uint8Array(data.subarray(end)) : new Uint8Array(0);
    const body = data.subarray(0, end);
    if (isPlainUtf8(body)) return body;
    const s = decodeSlow(body, body.length);
    this.invalidBytes += countEscapes(s);
    return s;
  }

  /**
   * For channels that may carry binary data: every byte not yet returned (the held bytes, then
   * `chunk`) with nothing held any more. The caller takes all of it as binary, or takes the
   * first `completeUtf8Length` bytes as text and gives the rest back with `hold`.
   */
  take(chunk: Uint8Array): Uint8Array {
    if (this.pending.length === 0) return chunk;
    const data = new Uint8Array(this.pending.length + chunk.length);
    data.set(this.pending, 0);
    data.set(chunk, this.pending.length);
    this.pending = new Uint8Array(0);
    return data;
  }

  /** Holds the incomplete sequence after `completeUtf8Length` (at most 3 bytes, copied). */
  hold(rest: Uint8Array): void {
    if (rest.length > 3) throw new RangeError('only an incomplete UTF-8 sequence (at most 3 bytes) can be held');
    this.pending = new Uint8Array(rest);
  }

  /** Flushes held bytes (an incomplete sequence at end of stream is invalid). */
  end(): string {
    const p = this.pending;
    this.pending = new Uint8Array(0);
    let s = '';
    for (const b of p) s += escapeChar(b);
    this.invalidBytes += p.length;
    return s;
  }
}

function countEscapes(s: string): number {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= ESCAPE_BASE && cp <= ESCAPE_BASE + 0xff) n++;
  }
  return n;
}

/** Whether `s` contains any escaped byte. */
export function hasEscapes(s: string): boolean {
  // Escapes are astral code points whose high surrogate is U+DBFF (U+10FC00..U+10FFFF).
  return s.includes('\udbff') && countEscapes(s) > 0;
}

/** Inverse of the decoder: the exact original bytes. */
export function escapedToBytes(s: string): Uint8Array {
  if (!hasEscapes(s)) return new TextEncoder().encode(s);
  const parts: number[] = [];
  const enc = new TextEncoder();
  let run = '';
  const flush = (): void => {
    if (run) for (const b of enc.encode(run)) parts.push(b);
    run = '';
  };
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= ESCAPE_BASE && cp <= ESCAPE_BASE + 0xff) {
      flush();
      parts.push(cp - ESCAPE_BASE);
    } else run += ch;
  }
  flush();
  return Uint8Array.from(parts);
}

/** Replaces each escaped byte with U+FFFD, for display on a terminal that must not see raw bytes. */
export function escapesToReplacement(s: string): string {
  if (!hasEscapes(s)) return s;
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    out += cp >= ESCAPE_BASE && cp <= ESCAPE_BASE + 0xff ? '\ufffd' : ch;
  }
  return out;
}
