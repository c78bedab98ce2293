import { describe, expect, it } from 'vitest';
import { CastFormatError, parseCast } from '../../src/recording/cast-reader.js';

const V2 = '{"version": 2, "width": 80, "height": 24, "timestamp": 1504467315, "title": "Demo", "env": {"TERM": "xterm-256color"}}\n[0.248848, "o", "hi"]\n[1.5, "m", ""]\n[4.05, "r", "90x30"]\n';
const V3 = '{"version": 3, "term": {"cols": 80, "rows": 24, "type": "xterm"}, "timestamp": 1}\n# comment\n[0.248, "o", "a"]\n[1.001, "o", "b"]\n[0.5, "x", "0"]\n';

describe('parseCast', () => {
  it('reads the spec examples for v2 (absolute times) and v3 (intervals, comments)', () => {
    const a = parseCast(V2);
    expect(a.header).toMatchObject({ version: 2, width: 80, height: 24, title: 'Demo', term: 'xterm-256color' });
    expect(a.events.map((e) => e.timeUs)).toEqual([248848, 1500000, 4050000]);
    const b = parseCast(V3);
    expect(b.header).toMatchObject({ version: 3, width: 80, height: 24, term: 'xterm' });
    expect(b.events.map((e) => [e.timeUs, e.code])).toEqual([
      [248000, 'o'],
      [1249000, 'o'],
      [1749000, 'x'],
    ]);
  });

  it('ignores an unterminated last line (interrupted write) and reports it', () => {
    const r = parseCast(`${V2}[5.0, "o", "cut of`);
    expect(r.events.length).toBe(3);
    expect(r.truncatedTail).toBe(18);
  });

  it('names the line of a malformed event', () => {
    expect(() => parseCast(`${V2}[1, "o"]\n`)).toThrow(new CastFormatError(5, 'event is not a 3-element array'));
    expect(() => parseCast('{"version": 1}\n')).toThrow(CastFormatError);
    expect(() => parseCast('')).toThrow(CastFormatError);
    expect(() => parseCast(`${V2}[1, "z", ""]\n`)).toThrow(/line 5: unknown event code/);
  });

  it('enforces its bounds', () => {
    expect(() => parseCast(`${V2}[1, "o", "${'a'.repeat(100)}"]\n`, { maxLineLength: 50 })).toThrow(/line too long/);
    expect(() => parseCast(V2, { maxEvents: 2 })).toThrow(/too many events/);
  });

  it('only ever throws CastFormatError on random and mutated input (fuzz)', () => {
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const alphabet = '{}[]",:0123456789.eE-+ ovrmix\\n#\nversionwidthheight23';
    for (let iter = 0; iter < 3000; iter++) {
      let s: string;
      if (rnd() < 0.5) {
        const chars = [...(rnd() < 0.5 ? V2 : V3)];
        for (let m = 0; m < 1 + Math.floor(rnd() * 4); m++) chars[Math.floor(rnd() * chars.length)] = alphabet[Math.floor(rnd() * alphabet.length)] ?? '';
        s = chars.join('');
      } else {
        s = '';
        for (let i = 0; i < rnd() * 80; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      }
      try {
        const r = parseCast(s);
        for (const e of r.events) expect(Number.isFinite(e.timeUs)).toBe(true);
      } catch (e) {
        expect(e).toBeInstanceOf(CastFormatError);
      }
    }
  });
});
