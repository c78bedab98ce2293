import { describe, expect, it } from 'vitest';
import { jsonStringBodyLength, writeJsonString } from '../../src/recording/json-bytes.js';

/** The byte-at-a-time encoder writeJsonString replaced, kept as the reference it must match. */
function referenceJsonString(src: Uint8Array, start: number, end: number, maxGrowth = Number.POSITIVE_INFINITY): Buffer | null {
  const out: number[] = [0x22];
  const hex = '0123456789abcdef';
  const short: Record<number, string> = { 8: 'b', 9: 't', 10: 'n', 12: 'f', 13: 'r', 34: '"', 92: '\\' };
  for (let i = start; i < end; i++) {
    const b = src[i] as number;
    if (b >= 0x20 && b !== 0x22 && b !== 0x5c) {
      out.push(b);
      continue;
    }
    const s = short[b];
    const esc = s !== undefined ? `\\${s}` : `\\u00${hex[b >> 4]}${hex[b & 15]}`;
    for (const c of esc) out.push(c.charCodeAt(0));
    if (out.length - 1 > maxGrowth * (i + 1 - start) + 64) return null;
  }
  out.push(0x22);
  return Buffer.from(out);
}

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 69069 + 1) >>> 0;
    return s / 0x100000000;
  };
}

/** Inputs that mix plain runs of every length with each kind of byte JSON escapes. */
function sample(rnd: () => number, n: number): Uint8Array {
  const special = [0x00, 0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1b, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff];
  const style = rnd();
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (style < 0.3) a[i] = Math.floor(r * 256);
    else if (r < style / 4) a[i] = special[Math.floor(rnd() * special.length)] as number;
    else a[i] = 0x20 + Math.floor(rnd() * 0x5f);
  }
  return a;
}

describe('writeJsonString', () => {
  it('matches the byte-at-a-time reference, with and without a growth limit, at any alignment', () => {
    const rnd = rng(7);
    const out = Buffer.alloc(8192);
    for (let iter = 0; iter < 4000; iter++) {
      const n = Math.floor(rnd() * (iter % 10 === 0 ? 600 : 40));
      // An odd offset into a larger buffer, so the four-byte reads are unaligned too.
      const backing = new Uint8Array(n + 16);
      const off = Math.floor(rnd() * 8);
      const src = backing.subarray(off, off + n + 5);
      src.set(sample(rnd, n), 0);
      const start = Math.min(n, Math.floor(rnd() * 5));
      const pos = Math.floor(rnd() * 7);
      const growth = rnd() < 0.5 ? Number.POSITIVE_INFINITY : 2;
      const expected = referenceJsonString(src, start, n, growth);
      const end = writeJsonString(src, start, n, out, pos, growth);
      if (expected === null) expect(end, `iter ${iter}`).toBe(-1);
      else expect(Buffer.from(out.subarray(pos, end)).equals(expected), `iter ${iter}`).toBe(true);
    }
  });

  it('equals JSON.stringify of the decoded text and jsonStringBodyLength for valid UTF-8', () => {
    const text = `plain ascii, "quoted" \\ back\tslash\r\n\x1b[01;32mgreen\x1b[0m données █ 😀 \x00\x7f end`;
    const bytes = new TextEncoder().encode(text);
    for (let cut = 0; cut < 12; cut++) {
      const src = bytes.subarray(0, bytes.length - cut);
      const out = Buffer.alloc(6 * src.length + 2);
      const end = writeJsonString(src, 0, src.length, out, 0);
      expect(out.subarray(0, end).toString('utf8')).toBe(JSON.stringify(new TextDecoder().decode(src)));
      expect(end - 2).toBe(jsonStringBodyLength(src));
    }
  });

  it('finds an escape in any byte of a word or a two-word step (each position, each escaped byte, each length)', () => {
    const out = Buffer.alloc(256);
    for (let b = 0; b < 256; b++) {
      for (const n of [8, 13, 16, 21]) {
        for (let at = 0; at < n; at++) {
          const src = new Uint8Array(n).fill(0x41);
          src[at] = b;
          const end = writeJsonString(src, 0, n, out, 0);
          expect(Buffer.from(out.subarray(0, end)).equals(referenceJsonString(src, 0, n) as Buffer), `byte ${b} at ${at} of ${n}`).toBe(true);
        }
      }
    }
  });
});
