import { describe, expect, it } from 'vitest';
import { CastFormatError, mayBeBinaryEventLine, parseCast } from '../../src/recording/cast-reader.js';

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

describe('parseCast: binary output in a sidecar file ("b-sidecar")', () => {
  const gh = (extra: Record<string, unknown>): string =>
    JSON.stringify({ version: 2, width: 80, height: 24, gatehouse: { session: 's1', channel: 0, invalid_bytes: 'pua-u10fe00', chain: 'channel-0.cast.chain', ...extra } });
  const HASH = 'a'.repeat(64);

  it('accepts references to the .bin and exposes its name', () => {
    const head = gh({ binary_output: 'b-sidecar', binary_file: 'channel-0.bin' });
    const r = parseCast(`${head}\n[0.1, "o", "text"]\n[0.2, "b", "0+4096:${HASH}"]\n[0.3, "b", "4096+1:${HASH}"]\n`);
    expect(r.header.binaryFile).toBe('channel-0.bin');
    expect(r.header.gatehouse).toMatchObject({ binary_output: 'b-sidecar', binary_file: 'channel-0.bin' });
    expect(r.events.map((e) => e.data)).toEqual(['text', `0+4096:${HASH}`, `4096+1:${HASH}`]);
  });

  it('names the line of a b event whose data is not a reference (base64 included)', () => {
    const head = gh({ binary_output: 'b-sidecar', binary_file: 'channel-0.bin' });
    for (const bad of ['QUJD', `01+2:${HASH}`, `0+0:${HASH}`, `0+2:${HASH.toUpperCase()}`, `0+2:${HASH}0`, '0+2', `-1+2:${HASH}`, `0+99999999999999999:${HASH}`]) {
      expect(() => parseCast(`${head}\n[0.1, "o", "x"]\n[0.2, "b", "${bad}"]\n`), bad).toThrow(new CastFormatError(3, 'binary (b) event data must be "<offset>+<length>:<sha256>" (b-sidecar)'));
    }
  });

  it('refuses a b-sidecar header without a safe bare binary_file', () => {
    for (const file of [undefined, 7, '', '../channel-0.bin', 'sub/channel-0.bin', '/etc/passwd', '.hidden', 'a\u0000b', 'channel..bin']) {
      const head = gh({ binary_output: 'b-sidecar', ...(file !== undefined ? { binary_file: file } : {}) });
      expect(() => parseCast(`${head}\n`), String(file)).toThrow(CastFormatError);
      expect(() => parseCast(`${head}\n`), String(file)).toThrow(/line 1: header gatehouse.binary_file/);
    }
  });

  it('keeps b-base64 casts as they were: base64 data, no binary file', () => {
    const head = gh({ binary_output: 'b-base64' });
    const r = parseCast(`${head}\n[0.1, "b", "QUJD"]\n`);
    expect(r.header.binaryFile).toBeUndefined();
    expect(r.header.gatehouse?.binary_output).toBe('b-base64');
    expect(() => parseCast(`${head}\n[0.1, "b", "0+3:${HASH}"]\n`)).toThrow(/line 2: binary \(b\) event data must be base64/);
  });

  it('mayBeBinaryEventLine: true for every b event however its code is written, false for plain text events', () => {
    const head = gh({ binary_output: 'b-sidecar', binary_file: 'channel-0.bin' });
    const lines = [`[0.1, "b", "0+1:${HASH}"]`, `[0.1,"\\u0062","1+1:${HASH}"]`, '[0.2, "o", "abc"]', '[0.3, "o", "\\"b\\""]', '[0.4, "m", "exec: b"]'];
    const events = parseCast(`${head}\n${lines.join('\n')}\n`).events;
    expect(events.map((e) => e.code)).toEqual(['b', 'b', 'o', 'o', 'm']);
    expect(lines.map((l) => mayBeBinaryEventLine(Buffer.from(l)))).toEqual([true, true, false, false, false]);
    expect(mayBeBinaryEventLine(new TextEncoder().encode(lines[0] ?? ''))).toBe(true);
  });
});
