import { describe, expect, it } from 'vitest';
import { encodeEvent, encodeEventBytes, encodeHeader, formatSeconds } from '../../src/recording/asciicast.js';
import { parseHeader } from '../../src/recording/cast-reader.js';

describe('asciicast encoding', () => {
  it('formats times with microsecond precision', () => {
    expect(formatSeconds(0)).toBe('0.000000');
    expect(formatSeconds(1_500_001)).toBe('1.500001');
    expect(formatSeconds(86_400_000_000)).toBe('86400.000000');
  });

  it('encodes headers the readers understand, v2 and v3', () => {
    for (const version of [2, 3] as const) {
      const h = parseHeader(encodeHeader({ version, width: 132, height: 43, timestamp: 5, term: 'screen', title: 't', command: 'ls' }));
      expect(h).toMatchObject({ version, width: 132, height: 43, term: 'screen', title: 't', command: 'ls', timestamp: 5 });
    }
  });

  it('encodeEventBytes is byte-identical to encodeEvent on the decoded text (fuzz)', () => {
    let seed = 3;
    const rnd = (): number => {
      seed = (seed * 69069 + 1) >>> 0;
      return seed / 0x100000000;
    };
    const pieces = ['a', ' ', '"', '\\', '\x1b', '\r', '\n', '\t', '\b', '\f', '\x00', '\x7f', '\u0085', 'é', '█', '😀', '\u2028', '/', '\x1f'];
    for (let iter = 0; iter < 2000; iter++) {
      let s = '';
      const n = Math.floor(rnd() * 30);
      for (let i = 0; i < n; i++) s += pieces[Math.floor(rnd() * pieces.length)];
      const version = rnd() < 0.5 ? 2 : 3;
      const t = Math.floor(rnd() * 1e9);
      const prev = Math.floor(rnd() * t);
      const code = rnd() < 0.5 ? 'o' : 'i';
      const expected = Buffer.from(encodeEvent(version, { timeUs: t, code, data: s }, prev), 'utf8');
      const got = encodeEventBytes(version, t, code, new TextEncoder().encode(s), prev);
      expect(Buffer.from(got).equals(expected), JSON.stringify(s)).toBe(true);
    }
  });
});
