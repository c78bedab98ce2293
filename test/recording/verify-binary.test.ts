/**
 * `gatehouse verify` on casts whose binary output is kept in channel-N.bin ("b-sidecar",
 * FORMAT.md): a good session passes, and every kind of tampering with the .bin, the references
 * or the index's binary seal is reported with the kind and place the spec gives.
 */
import { appendFile, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/cli/verify.js';
import { verify } from '../../src/recording/verify.js';
import { enc, tempDir, testKey } from './helpers.js';
import { type FixtureEvent, resealChannel, sha256Hex, writeChainedCast, writeSidecarSession } from './sidecar-fixture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function root(): Promise<string> {
  const { dir, cleanup } = await tempDir();
  cleanups.push(cleanup);
  return dir;
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    b[i] = s >>> 24;
  }
  return b;
}

// Line 2 is text, lines 3, 4 and 6 are b events; the 3 MiB chunk spans several read windows.
const EVENTS: FixtureEvent[] = [
  { t: 0.1, o: 'starting\r\n' },
  { t: 0.2, b: bytes(4096, 1) },
  { t: 0.3, b: bytes(3 * 1024 * 1024 + 5, 2) },
  { t: 0.4, o: 'between\r\n' },
  { t: 0.5, b: bytes(7, 3) },
];

async function problems(dir: string) {
  const r = await verify(dir, (await testKey()).key);
  return r.sessions[0]?.problems ?? [];
}

describe('verify: binary output in channel-N.bin (b-sidecar)', () => {
  it('passes an untouched session (v2 and v3) and does not call its .bin unexpected', async () => {
    for (const version of [2, 3] as const) {
      const fx = await writeSidecarSession(await root(), { events: EVENTS, version });
      const { key, stateDir } = await testKey();
      const r = await verify(fx.dir, key);
      expect(r.sessions[0]?.problems).toEqual([]);
      expect(r.ok).toBe(true);
      let out = '';
      const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } };
      expect(await runVerify([fx.dir, '--state-dir', stateDir], io)).toBe(0);
      expect(out).toMatch(/^OK /);
    }
  });

  it('names the event whose bytes were changed in the .bin', async () => {
    const fx = await writeSidecarSession(await root(), { events: EVENTS });
    const buf = await readFile(fx.bin);
    const at = 4096 + 2 * 1024 * 1024 + 3; // inside the second chunk, in its third read window
    buf[at] = (buf[at] ?? 0) ^ 0x40;
    await writeFile(fx.bin, buf);
    const p = await problems(fx.dir);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ kind: 'changed', file: 'channel-0.cast', line: 4 });
    expect(p[0]?.message).toContain(`channel-0.bin bytes 4096..${4096 + 3 * 1024 * 1024 + 5} differ`);
  });

  it('reports bytes appended to the .bin', async () => {
    const fx = await writeSidecarSession(await root(), { events: EVENTS });
    await appendFile(fx.bin, enc('more'));
    const p = await problems(fx.dir);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ kind: 'appended', file: 'channel-0.bin' });
    expect(p[0]?.message).toContain(`bytes ${fx.bytes.length}..${fx.bytes.length + 4}`);
  });

  it('reports a truncated .bin, cut inside the last chunk or inside an earlier one', async () => {
    for (const size of [fx0Size() - 1, 5000]) {
      const fx = await writeSidecarSession(await root(), { events: EVENTS });
      await truncate(fx.bin, size);
      const p = await problems(fx.dir);
      expect(p).toHaveLength(1);
      expect(p[0]).toMatchObject({ kind: 'truncated', file: 'channel-0.bin' });
      expect(p[0]?.message).toContain(`ends at byte ${size}`);
    }
  });

  it('reports a missing .bin', async () => {
    const fx = await writeSidecarSession(await root(), { events: EVENTS });
    await rm(fx.bin);
    const p = await problems(fx.dir);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ kind: 'missing-file', file: 'channel-0.bin' });
    expect(p[0]?.message).toContain('channel-0.cast line 3');
  });

  it('reports references that do not follow each other from byte 0 (chained and sealed as written)', async () => {
    const a = bytes(100, 4);
    const b = bytes(50, 5);
    // A gap: the second chunk claims to start at 101.
    let fx = await writeSidecarSession(await root(), { events: [{ t: 0.1, b: a }, { t: 0.2, o: 'x' }, { t: 0.3, b, ref: `101+50:${sha256Hex(b)}` }] });
    let p = await problems(fx.dir);
    expect(p[0]).toMatchObject({ kind: 'changed', file: 'channel-0.cast', line: 4 });
    expect(p[0]?.message).toContain('from byte 101, but the events before it end at byte 100');
    // The same bytes referred to twice (an overlap), and a first event not at byte 0.
    fx = await writeSidecarSession(await root(), { events: [{ t: 0.1, b: a }, { t: 0.2, b: a, ref: `0+100:${sha256Hex(a)}` }] });
    p = await problems(fx.dir);
    expect(p[0]).toMatchObject({ kind: 'changed', line: 3 });
    fx = await writeSidecarSession(await root(), { events: [{ t: 0.1, b: a, ref: `1+99:${sha256Hex(a.subarray(1))}` }] });
    p = await problems(fx.dir);
    expect(p[0]).toMatchObject({ kind: 'changed', line: 2 });
  });

  it('checks a b event whose code is written as a JSON escape like any other', async () => {
    const fx = await writeSidecarSession(await root(), { events: [{ t: 0.1, o: 'x' }, { t: 0.2, b: bytes(10, 8) }] });
    const lines = fx.lines.map((l, i) => (i === 2 ? l.replace('"b"', '"\\u0062"') : l));
    expect(lines[2]).toContain('\\u0062');
    const castSeal = await writeChainedCast(fx.dir, fx.sessionId, lines);
    await resealChannel(fx.dir, (seal) => ({ ...castSeal, ...(seal.binary ? { binary: seal.binary } : {}) }));
    expect(await problems(fx.dir)).toEqual([]);
    await writeFile(fx.bin, bytes(10, 9));
    expect((await problems(fx.dir))[0]).toMatchObject({ kind: 'changed', file: 'channel-0.cast', line: 3 });
  });

  it('reports a b event that is not a reference, and a header whose binary_file is not a bare name', async () => {
    let fx = await writeSidecarSession(await root(), { events: [{ t: 0.1, b: bytes(10, 6), ref: Buffer.from('base64?').toString('base64') }] });
    let p = await problems(fx.dir);
    expect(p[0]).toMatchObject({ kind: 'changed', file: 'channel-0.cast', line: 2 });
    fx = await writeSidecarSession(await root(), { events: [{ t: 0.1, o: 'x' }], binaryFile: '../../x.bin', noBin: true });
    p = await problems(fx.dir);
    expect(p[0]).toMatchObject({ kind: 'changed', file: 'channel-0.cast', line: 1 });
    expect(p[0]?.message).toContain('binary_file');
  });

  it('reports an index whose binary seal does not match (re-signed with the right key)', async () => {
    const edits = [
      (s: { file: string; chunks: number; bytes: number }) => ({ ...s, chunks: s.chunks - 1 }),
      (s: { file: string; chunks: number; bytes: number }) => ({ ...s, bytes: s.bytes + 1 }),
      (s: { file: string; chunks: number; bytes: number }) => ({ ...s, file: 'channel-1.bin' }),
      () => undefined,
    ];
    for (const edit of edits) {
      const fx = await writeSidecarSession(await root(), { events: EVENTS });
      await resealChannel(fx.dir, (seal) => {
        const { binary, ...rest } = seal;
        const changed = binary ? edit(binary) : undefined;
        return changed ? { ...rest, binary: changed } : rest;
      });
      const p = await problems(fx.dir);
      expect(p).toHaveLength(1);
      expect(p[0]?.kind).toBe('seal-mismatch');
    }
  });

  it('a sealed cast without b events needs no .bin; a stray .bin beside it is reported', async () => {
    const fx = await writeSidecarSession(await root(), { events: [{ t: 0.1, o: 'text only\r\n' }], noBin: true });
    expect(await problems(fx.dir)).toEqual([]);
    await writeFile(fx.bin, enc('stray'));
    const p = await problems(fx.dir);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ kind: 'appended', file: 'channel-0.bin' });
    // A .bin that no cast header and no seal names is an unexpected file.
    await writeFile(join(fx.dir, 'channel-7.bin'), enc('x'));
    expect((await problems(fx.dir)).map((x) => [x.kind, x.file])).toContainEqual(['unexpected-file', 'channel-7.bin']);
  });

  it('an index sealing a binary file for a cast that names none is a seal mismatch', async () => {
    const fx = await writeSidecarSession(await root(), { events: [{ t: 0.1, o: 'text only\r\n' }], noBin: true, binarySeal: { file: 'channel-0.bin', chunks: 0, bytes: 0 } });
    await writeFile(fx.bin, '');
    // The cast names the .bin and there is one (empty): it matches the seal.
    expect(await problems(fx.dir)).toEqual([]);
    await rm(fx.bin);
    expect((await problems(fx.dir))[0]?.kind).toBe('seal-mismatch');
  });

  it('bytes left past the last event by a write failure the index records are unchained, not appended', async () => {
    const failures = [{ kind: 'write-failed', file: '/var/lib/gatehouse/recordings/x/channel-0.cast', code: 'ENOSPC', message: 'no space left on device', lostLines: 1, lostBytes: 90 }];
    const fx = await writeSidecarSession(await root(), { events: EVENTS, extraBin: bytes(10, 7), failures });
    const p = await problems(fx.dir);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ kind: 'unchained', file: 'channel-0.bin' });
    expect(p[0]?.message).toContain('writing channel-0.cast failed: no space left on device');
  });

  it('in a session that never ended, .bin bytes past the last event are unchained, not appended', async () => {
    const fx = await writeSidecarSession(await root(), { events: EVENTS, open: true, extraBin: bytes(10, 7) });
    const p = await problems(fx.dir);
    expect(p.map((x) => [x.kind, x.file])).toEqual([
      ['unsealed', 'index.json'],
      ['unchained', 'channel-0.bin'],
    ]);
  });
});

function fx0Size(): number {
  return EVENTS.reduce((n, e) => n + ('b' in e ? e.b.length : 0), 0);
}
