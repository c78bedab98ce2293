/**
 * Output of channels without a pty (exec): text stays `o` events, binary chunks become `b`
 * events whose bytes are in channel-N.bin (FORMAT.md, "b-sidecar"), and the events together
 * give back exactly the bytes the target sent, whatever the chunking. Pty channels keep
 * everything as `o` text.
 */
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type CastEvent, writeTextEvent } from '../../src/recording/asciicast.js';
import { parseBinaryRef } from '../../src/recording/binary-ref.js';
import { CastFormatError, parseCast } from '../../src/recording/cast-reader.js';
import { jsonStringBodyLength, writeJsonString } from '../../src/recording/json-bytes.js';
import { Player } from '../../src/recording/player.js';
import { escapedToBytes } from '../../src/recording/utf8-escape.js';
import { verify } from '../../src/recording/verify.js';
import { asciinemaCat, enc, hasAsciinema, hasScript, openTestSession, tempDir, testKey } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 69069 + 1) >>> 0;
    return s / 0x100000000;
  };
}

/**
 * The bytes the target sent, rebuilt from the output events (`o`: escape form, `b`: the range
 * of `bin` it names, whose SHA-256 must match and which must follow the previous one; or base64
 * in recordings without a .bin).
 */
function outputBytes(events: readonly CastEvent[], bin: Buffer = Buffer.alloc(0)): Buffer {
  let next = 0;
  const bytesOf = (e: CastEvent): Buffer => {
    if (e.code !== 'b') return Buffer.from(escapedToBytes(e.data));
    const ref = parseBinaryRef(e.data);
    if (!ref) return Buffer.from(e.data, 'base64');
    expect(ref.offset).toBe(next);
    next = ref.offset + ref.length;
    const bytes = bin.subarray(ref.offset, next);
    expect(bytes.length).toBe(ref.length);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(ref.sha256);
    return bytes;
  };
  const out = Buffer.concat(events.filter((e) => e.code === 'o' || e.code === 'b').map(bytesOf));
  expect(next).toBe(bin.length);
  return out;
}

async function recordExec(chunks: readonly Uint8Array[], pty = false, version: 2 | 3 = 2) {
  const { dir, cleanup } = await tempDir();
  cleanups.push(cleanup);
  const { rec, failures } = await openTestSession(dir, { asciicastVersion: version });
  const ch = await rec.openChannel({ kind: 'exec', command: 'download', ...(pty ? { pty: { cols: 80, rows: 24, term: 'xterm' } } : {}) });
  for (const c of chunks) ch.output(c);
  ch.setExit({ type: 'status', status: 0 });
  await rec.closeChannel(ch);
  await rec.finish();
  const file = join(rec.dir, 'channel-0.cast');
  const text = await readFile(file, 'utf8');
  const bin = await readFile(join(rec.dir, 'channel-0.bin')).catch(() => Buffer.alloc(0));
  const index = JSON.parse(await readFile(join(rec.dir, 'index.json'), 'utf8')) as { channels: { recording?: { binary?: unknown } }[] };
  return { dir: rec.dir, file, text, bin, cast: parseCast(text), failures, binarySeal: index.channels[0]?.recording?.binary };
}

describe('JSON string bytes', () => {
  it('equal JSON.stringify for every byte value below 0x80 and for UTF-8 text', () => {
    const samples = [
      Uint8Array.from({ length: 128 }, (_, i) => i),
      enc('plain text, "quoted" and back\\slashed'),
      enc('données ✓ — █ 😀 \u2028 \u0085 \x7f'),
      new Uint8Array(0),
    ];
    for (const s of samples) {
      const expected = Buffer.from(JSON.stringify(new TextDecoder().decode(s)), 'utf8');
      const out = Buffer.alloc(6 * s.length + 2);
      const end = writeJsonString(s, 0, s.length, out, 0);
      expect(out.subarray(0, end).equals(expected)).toBe(true);
      expect(jsonStringBodyLength(s)).toBe(expected.length - 2);
    }
  });

  it('gives up (-1) once escapes take the output past the growth limit, and not on text', () => {
    const out = Buffer.alloc(6 * 1000 + 2);
    // 17 NULs are 102 bytes of JSON, over 2 x 17 + 64: it stops there
    expect(writeJsonString(new Uint8Array(1000), 0, 1000, out, 0, 2)).toBe(-1);
    expect(writeJsonString(new Uint8Array(16), 0, 16, out, 0, 2)).toBe(98);
    const text = enc('\x1b[01;32mfile\x1b[0m a\nb\tc\n'.repeat(100));
    expect(writeJsonString(text, 0, text.length, out, 0, 2)).toBe(writeJsonString(text, 0, text.length, out, 0));
  });

  it('writeTextEvent writes at the given offset and leaves the bytes around it alone', () => {
    const out = Buffer.alloc(200, 0xee);
    const end = writeTextEvent(2, 1_500_000, 'o', enc('a\x00b\n'), 0, out, 7);
    expect(out.subarray(7, end).toString('utf8')).toBe('[1.500000, "o", "a\\u0000b\\n"]');
    expect(out[6]).toBe(0xee);
    expect(out[end]).toBe(0xee);
  });
});

describe('output of channels without a pty', () => {
  it('writes NUL-heavy output as b events whose bytes are in channel-0.bin as they came, and the header and index say so', async () => {
    const zeros = new Uint8Array(32 * 1024);
    const { text, bin, cast, failures, binarySeal } = await recordExec([zeros, zeros, zeros]);
    expect(failures).toEqual([]);
    expect(cast.header.gatehouse?.binary_output).toBe('b-sidecar');
    expect(cast.header.gatehouse?.binary_file).toBe('channel-0.bin');
    expect(cast.events.filter((e) => e.code === 'b').map((e) => e.data.split(':')[0])).toEqual(['0+32768', '32768+32768', '65536+32768']);
    expect(cast.events.some((e) => e.code === 'o')).toBe(false);
    expect(bin.equals(Buffer.alloc(3 * 32 * 1024))).toBe(true);
    expect(outputBytes(cast.events, bin).equals(Buffer.alloc(3 * 32 * 1024))).toBe(true);
    // "\u0000" per byte would be 6x, base64 4/3; the cast holds only the references
    expect(Buffer.byteLength(text)).toBeLessThan(2000);
    expect(binarySeal).toEqual({ file: 'channel-0.bin', chunks: 3, bytes: 3 * 32 * 1024 });
  });

  it('a channel with only text output has no .bin file and no binary seal', async () => {
    const { dir, binarySeal, cast } = await recordExec([enc('just text\n')]);
    expect(cast.header.gatehouse?.binary_output).toBe('b-sidecar');
    expect(binarySeal).toBeUndefined();
    await expect(stat(join(dir, 'channel-0.bin'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps text as o events (asciinema cat shows it) next to binary chunks', async () => {
    const random = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919 + 13) & 0xff);
    const { file, cast, bin } = await recordExec([enc('listing:\n'), random, enc('done ✓\n')]);
    expect(cast.events.map((e) => e.code)).toEqual(['m', 'o', 'b', 'o', 'm']);
    expect(cast.events[1]?.data).toBe('listing:\n');
    expect(cast.events[3]?.data).toBe('done ✓\n');
    expect(outputBytes(cast.events, bin).equals(Buffer.concat([enc('listing:\n'), random, enc('done ✓\n')]))).toBe(true);
    if (hasAsciinema && hasScript) {
      const r = asciinemaCat(file);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('listing:\n');
      expect(r.stdout).toContain('done ✓\n');
    }
  });

  it('keeps colour sequences and short escape-heavy chunks as text; NUL-padded data goes binary', async () => {
    const colour = enc('\x1b[01;32mfile.log\x1b[0m\n');
    const reset = enc('\x1b[0m');
    const padded = Buffer.concat([enc('ustar  root '), new Uint8Array(200), enc('file contents\n'.repeat(20))]);
    const { cast, bin } = await recordExec([colour, reset, padded]);
    expect(cast.events.filter((e) => e.code === 'o' || e.code === 'b').map((e) => e.code)).toEqual(['o', 'o', 'b']);
    expect(cast.events[1]?.data).toBe('\x1b[01;32mfile.log\x1b[0m\n');
    expect(outputBytes(cast.events, bin).equals(Buffer.concat([colour, reset, padded]))).toBe(true);
  });

  it('rebuilds the exact byte stream from o and b events, whatever the chunking (fuzz)', async () => {
    const rnd = rng(11);
    const pieces = [enc('text line\n'), enc('é✓😀'), enc('\x1b[1mbold\x1b[0m'), Uint8Array.from([0, 0, 0, 0]), Uint8Array.from([0xff, 0xc3]), Uint8Array.from([0xf4, 0x8f, 0xb8, 0x80]), new Uint8Array(300)];
    for (let iter = 0; iter < 20; iter++) {
      const parts: Uint8Array[] = [];
      for (let i = 0; i < 60; i++) parts.push(pieces[Math.floor(rnd() * pieces.length)] ?? new Uint8Array(0));
      const stream = Buffer.concat(parts);
      const chunks: Uint8Array[] = [];
      for (let off = 0; off < stream.length; ) {
        const n = 1 + Math.floor(rnd() * 200);
        chunks.push(stream.subarray(off, off + n));
        off += n;
      }
      const { cast, failures, bin } = await recordExec(chunks, false, iter % 2 === 0 ? 2 : 3);
      expect(failures).toEqual([]);
      expect(outputBytes(cast.events, bin).equals(stream), `iteration ${iter}`).toBe(true);
    }
  });

  it('a caller that reuses its buffer (as the relay does) loses no byte of a character split across chunks', async () => {
    const stream = Buffer.from('ab\r\n█✓😀 données\r\n'.repeat(50));
    for (const pty of [true, false]) {
      const scratch = Buffer.alloc(7);
      const { dir, cleanup } = await tempDir();
      cleanups.push(cleanup);
      const { rec } = await openTestSession(dir);
      const ch = await rec.openChannel({ kind: 'exec', command: 'x', ...(pty ? { pty: { cols: 80, rows: 24, term: 'xterm' } } : {}) });
      for (let off = 0; off < stream.length; off += scratch.length) {
        const n = stream.copy(scratch, 0, off, off + scratch.length);
        ch.output(scratch.subarray(0, n));
        scratch.fill(0x0d); // the next read overwrites it
      }
      await rec.closeChannel(ch);
      await rec.finish();
      const cast = parseCast(await readFile(join(rec.dir, 'channel-0.cast'), 'utf8'));
      expect(outputBytes(cast.events).equals(stream), `pty ${pty}`).toBe(true);
      expect(cast.events.some((e) => e.code === 'b'), `pty ${pty}`).toBe(false);
    }
  });

  it('pty channels keep binary output as o text (players show terminal output only from o)', async () => {
    const { cast } = await recordExec([Uint8Array.from([0x61, 0, 0xff, 0x62])], true);
    expect(cast.header.gatehouse?.binary_output).toBeUndefined();
    expect(cast.events.filter((e) => e.code === 'b')).toEqual([]);
    expect(outputBytes(cast.events).equals(Buffer.from([0x61, 0, 0xff, 0x62]))).toBe(true);
  });

  it('verify passes on a recording with b events and names the b event whose bytes a one-byte edit of the .bin changed', async () => {
    const { dir, text, bin } = await recordExec([enc('hello\n'), new Uint8Array(4096), enc('bye\n')]);
    const { key } = await testKey();
    const ok = await verify(dir, key);
    expect(ok.sessions[0]?.problems).toEqual([]);
    expect(ok.ok).toBe(true);
    const bLine = text.split('\n').findIndex((l) => l.includes('"b"'));
    expect(bLine).toBeGreaterThan(0);
    const edited = Buffer.from(bin);
    edited[100] = 1;
    await writeFile(join(dir, 'channel-0.bin'), edited);
    const bad = await verify(dir, key);
    expect(bad.ok).toBe(false);
    expect(bad.sessions[0]?.problems[0]).toMatchObject({ kind: 'changed', file: 'channel-0.cast', line: bLine + 1 });
  });

  it('the reader refuses b events whose data is not base64, and the player shows their bytes', async () => {
    const head = '{"version": 2, "width": 80, "height": 24}\n';
    expect(() => parseCast(`${head}[0.1, "b", "not base64!"]\n`)).toThrow(CastFormatError);
    expect(() => parseCast(`${head}[0.1, "b", "QUJD"]\n`)).not.toThrow();
    const raw: Uint8Array[] = [];
    const events: CastEvent[] = [
      { timeUs: 0, code: 'b', data: Buffer.from([0x41, 0xe2, 0x9c]).toString('base64') },
      { timeUs: 0, code: 'b', data: Buffer.from([0x93, 0xff]).toString('base64') },
    ];
    const clock = { now: () => 0, sleep: async () => {} };
    await new Player(events, { raw: true, write: (d) => raw.push(typeof d === 'string' ? enc(d) : d), clock }).run();
    expect(Buffer.concat(raw).equals(Buffer.from([0x41, 0xe2, 0x9c, 0x93, 0xff]))).toBe(true);
    let shown = '';
    await new Player(events, { write: (d) => (shown += typeof d === 'string' ? d : new TextDecoder().decode(d)), clock }).run();
    expect(shown).toBe('A✓\ufffd');
  });
});
