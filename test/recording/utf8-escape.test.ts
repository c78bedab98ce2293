import { describe, expect, it } from 'vitest';
import { ESCAPE_BASE, StreamingUtf8Decoder, escapedToBytes, escapesToReplacement } from '../../src/recording/utf8-escape.js';

function decodeChunks(chunks: Uint8Array[]): string {
  const d = new StreamingUtf8Decoder();
  let s = '';
  for (const c of chunks) s += d.decode(c);
  return s + d.end();
}

function seeded(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

describe('StreamingUtf8Decoder', () => {
  it('keeps a 4-byte emoji split at every position across packets', () => {
    const bytes = new TextEncoder().encode('a😀b');
    expect(bytes.length).toBe(6);
    for (let cut = 0; cut <= bytes.length; cut++) {
      for (let cut2 = cut; cut2 <= bytes.length; cut2++) {
        const s = decodeChunks([bytes.subarray(0, cut), bytes.subarray(cut, cut2), bytes.subarray(cut2)]);
        expect(s).toBe('a😀b');
      }
    }
  });

  it('keeps invalid bytes losslessly in the escape form', () => {
    const input = Uint8Array.from([0x41, 0xff, 0xc3, 0x28, 0xe2, 0x82, 0x41, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98]);
    const s = decodeChunks([input.subarray(0, 5), input.subarray(5)]);
    expect(s.startsWith('A')).toBe(true);
    expect(s).toContain(String.fromCodePoint(ESCAPE_BASE + 0xff));
    expect(s).toContain('(');
    expect(escapedToBytes(s)).toEqual(input);
    // The display form never carries raw invalid bytes.
    expect(escapesToReplacement(s)).toBe('A\ufffd\ufffd(\ufffd\ufffdA\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd');
  });

  it('escapes literal code points of the escape range so decoding stays unambiguous', () => {
    const literal = String.fromCodePoint(ESCAPE_BASE + 0x41);
    const input = new TextEncoder().encode(`x${literal}y`);
    const s = decodeChunks([input]);
    expect(s).not.toBe(`x${literal}y`);
    expect(escapedToBytes(s)).toEqual(input);
  });

  it('round-trips random byte streams cut at random places (fuzz)', () => {
    const rnd = seeded(42);
    for (let iter = 0; iter < 500; iter++) {
      const n = Math.floor(rnd() * 200);
      const bytes = new Uint8Array(n);
      const pool = [0x41, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0xf4, 0x8f, 0xb8, 0xbf, 0x0a, 0x1b];
      for (let i = 0; i < n; i++) bytes[i] = rnd() < 0.5 ? (pool[Math.floor(rnd() * pool.length)] ?? 0) : Math.floor(rnd() * 256);
      const chunks: Uint8Array[] = [];
      let i = 0;
      while (i < n) {
        const len = 1 + Math.floor(rnd() * 7);
        chunks.push(bytes.subarray(i, i + len));
        i += len;
      }
      const s = decodeChunks(chunks);
      expect(escapedToBytes(s)).toEqual(bytes);
      // Valid text never turns into escapes.
      expect(JSON.parse(JSON.stringify(s))).toBe(s);
    }
  });

  it('decodes valid UTF-8 like TextDecoder', () => {
    const text = 'héllo wörld — ✓ 😀 \x1b[31mred\x1b[0m';
    expect(decodeChunks([new TextEncoder().encode(text)])).toBe(text);
  });
});
