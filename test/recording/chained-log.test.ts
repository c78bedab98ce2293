import { spawnSync } from 'node:child_process';
import { open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCast } from '../../src/recording/cast-reader.js';
import { type AppendTarget, ChainedLineWriter, nodeRecordingFs, type RecordingFs } from '../../src/recording/chained-log.js';
import { RecordingError, type RecordingFailure } from '../../src/recording/failures.js';
import { listSessionDirs } from '../../src/recording/layout.js';
import { chainSeed } from '../../src/recording/line-chain.js';
import { verify } from '../../src/recording/verify.js';
import { buildForChild } from './child-build.js';
import { enc, openTestSession, startRecorderChild, tempDir, testKey } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function temp(): Promise<string> {
  const t = await tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

/** Writes that wait until the test releases them: a disk slower than the session. */
function stalledFs(): { fs: RecordingFs; release: () => void } {
  let gate: (() => void)[] = [];
  let open = false;
  const fs: RecordingFs = {
    async createAppend(path) {
      const real = await nodeRecordingFs.createAppend(path);
      return {
        write: async (d) => {
          if (!open) await new Promise<void>((r) => gate.push(r));
          await real.write(d);
        },
        sync: () => real.sync(),
        close: () => real.close(),
      };
    },
  };
  return {
    fs,
    release: () => {
      open = true;
      for (const r of gate) r();
      gate = [];
    },
  };
}

/** Can this process mount a read-only tmpfs (root with CAP_SYS_ADMIN)? */
function tryMountReadOnly(dir: string): boolean {
  return spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir], { stdio: 'ignore' }).status === 0;
}

describe('ChainedLineWriter bounded queue', () => {
  it('reports queue-full, drops (counted) beyond the bound and marks the gap in the cast', async () => {
    const root = await temp();
    const { fs, release } = stalledFs();
    const { rec, failures } = await openTestSession(root, { fs, writer: { maxQueuedBytes: 64 * 1024, highWaterBytes: 16 * 1024, flushIntervalMs: 10 } });
    const ch = await rec.openChannel({ kind: 'shell' });
    const results: string[] = [];
    const chunk = enc('x'.repeat(4000));
    for (let i = 0; i < 40; i++) results.push(ch.output(chunk));
    expect(results).toContain('pressure');
    expect(results).toContain('dropped');
    const full = failures.filter((f) => f.kind === 'queue-full');
    expect(full.length).toBe(1);
    expect(full[0]?.file).toMatch(/channel-0\.cast$/);
    release();
    await ch.whenDrained();
    ch.output(enc('after the gap'));
    await rec.closeChannel(ch);
    const index = await rec.finish();
    const entry = index.channels[0];
    expect(entry?.recording?.droppedLines).toBeGreaterThan(0);
    expect(entry?.recording?.droppedLines).toBe(results.filter((r) => r === 'dropped').length);
    const cast = parseCast(await readFile(join(rec.dir, 'channel-0.cast'), 'utf8'));
    const gap = cast.events.find((e) => e.code === 'm' && e.data.startsWith('recording gap'));
    expect(gap?.data).toBe(`recording gap: ${entry?.recording?.droppedLines} events dropped (queue full)`);
    expect(cast.events.at(-1)?.data).toBe('after the gap');
    expect(index.failures.map((f) => f.kind)).toContain('queue-full');
  });
});

describe('binary chunks (.bin sidecar) under a full queue', () => {
  it('drops whole chunks, keeps the .bin contiguous with the b events, marks the gap, and seals what was kept', async () => {
    const root = await temp();
    const { fs, release } = stalledFs();
    const { rec, failures } = await openTestSession(root, { fs, writer: { maxQueuedBytes: 64 * 1024, highWaterBytes: 16 * 1024, flushIntervalMs: 10 } });
    const ch = await rec.openChannel({ kind: 'exec', command: 'cat image.bin' });
    const results: string[] = [];
    const sent: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      const chunk = Buffer.alloc(4000, i + 1);
      chunk[0] = 0; // binary, not text
      sent.push(chunk);
      results.push(ch.output(chunk));
    }
    expect(results).toContain('pressure');
    expect(results).toContain('dropped');
    release();
    await ch.whenDrained();
    const last = Buffer.alloc(100, 0xfe);
    ch.output(last);
    await rec.closeChannel(ch);
    const index = await rec.finish();
    const cast = parseCast(await readFile(join(rec.dir, 'channel-0.cast'), 'utf8'));
    const bin = await readFile(join(rec.dir, 'channel-0.bin'));
    const kept = sent.filter((_, i) => results[i] !== 'dropped');
    const bEvents = cast.events.filter((e) => e.code === 'b');
    expect(bEvents).toHaveLength(kept.length + 1);
    expect(bin.equals(Buffer.concat([...kept, last]))).toBe(true);
    let next = 0;
    for (const e of bEvents) {
      const [range] = e.data.split(':');
      const [off, len] = (range ?? '').split('+').map(Number);
      expect(off).toBe(next);
      next = (off ?? 0) + (len ?? 0);
    }
    expect(next).toBe(bin.length);
    expect(cast.events.some((e) => e.code === 'm' && e.data.startsWith('recording gap'))).toBe(true);
    expect(index.channels[0]?.recording?.binary).toEqual({ file: 'channel-0.bin', chunks: kept.length + 1, bytes: bin.length });
    expect(index.channels[0]?.recording?.droppedLines).toBe(results.filter((r) => r === 'dropped').length);
    expect(failures.filter((f) => f.kind === 'queue-full')).toHaveLength(1);
    const report = await verify(rec.dir, (await testKey()).key);
    expect(report.sessions[0]?.problems).toEqual([]);
  });

  it('a .bin that cannot be written fails the recording loudly, naming the .bin, and the cast gets none of those events', async () => {
    const root = await temp();
    const fs: RecordingFs = {
      async createAppend(path) {
        if (!path.endsWith('.bin')) return nodeRecordingFs.createAppend(path);
        const fh = await open('/dev/full', 'w');
        return { write: async (d) => void (await fh.write(d)), sync: async () => undefined, close: () => fh.close() };
      },
    };
    const { rec, failures } = await openTestSession(root, { fs });
    const ch = await rec.openChannel({ kind: 'exec', command: 'cat x.tgz' });
    ch.output(enc('text first\n'));
    await ch.flush();
    ch.output(new Uint8Array(5000));
    await ch.flush();
    const f = failures.find((x) => x.kind === 'write-failed');
    expect(f?.code).toBe('ENOSPC');
    expect(f?.file).toMatch(/channel-0\.bin$/);
    expect(f?.lostLines).toBe(1);
    await rec.closeChannel(ch);
    const index = await rec.finish();
    const cast = parseCast(await readFile(join(rec.dir, 'channel-0.cast'), 'utf8'));
    expect(cast.events.filter((e) => e.code === 'b')).toEqual([]);
    expect(cast.events.filter((e) => e.code === 'o').map((e) => e.data)).toEqual(['text first\n']);
    expect(index.failures.some((x) => x.code === 'ENOSPC' && x.file.endsWith('channel-0.bin'))).toBe(true);
    // the store opened a .bin (here /dev/full) before its write failed: sealed with no chunks
    expect(index.channels[0]?.recording?.binary).toEqual({ file: 'channel-0.bin', chunks: 0, bytes: 0 });
  });
});

describe('a .bin whose first write fails half way', () => {
  const halfWritingBin: RecordingFs = {
    async createAppend(path) {
      const real = await nodeRecordingFs.createAppend(path);
      if (!path.endsWith('.bin')) return real;
      return {
        ...real,
        write: async (d) => {
          await real.write(d.subarray(0, d.length >> 1));
          throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        },
      };
    },
  };

  for (const headerFirst of [true, false]) {
    it(`is sealed with no chunks, and verify names its bytes as unchained after the recorded failure (${headerFirst ? 'header already written' : 'no line reached the cast'})`, async () => {
      const root = await temp();
      const { rec, failures } = await openTestSession(root, { fs: halfWritingBin });
      const ch = await rec.openChannel({ kind: 'exec', command: 'cat x.tgz' });
      if (headerFirst) await ch.flush();
      ch.output(new Uint8Array(5000));
      await rec.closeChannel(ch);
      const index = await rec.finish();
      expect(failures.find((f) => f.kind === 'write-failed')?.file).toMatch(/channel-0\.bin$/);
      expect(index.channels[0]?.recording?.binary).toEqual({ file: 'channel-0.bin', chunks: 0, bytes: 0 });
      expect((await stat(join(rec.dir, 'channel-0.bin'))).size).toBe(2500);
      const report = await verify(rec.dir, (await testKey()).key);
      const kinds = report.sessions[0]?.problems.map((p) => p.kind) ?? [];
      expect(kinds).not.toContain('seal-mismatch');
      expect(kinds).not.toContain('unexpected-file');
      expect(report.sessions[0]?.problems.find((p) => p.file === 'channel-0.bin')?.kind).toBe('unchained');
    });
  }
});

describe('write failures are reported, never silent', () => {
  it('ENOSPC from the kernel (/dev/full) reaches the failure callback with counts', async () => {
    const root = await temp();
    const fs: RecordingFs = {
      async createAppend(path) {
        if (!path.endsWith('.cast')) return nodeRecordingFs.createAppend(path);
        const fh = await open('/dev/full', 'w');
        const t: AppendTarget = { write: async (d) => void (await fh.write(d)), sync: async () => undefined, close: () => fh.close() };
        return t;
      },
    };
    const { rec, failures } = await openTestSession(root, { fs });
    const ch = await rec.openChannel({ kind: 'shell' });
    ch.output(enc('this cannot be stored\r\n'));
    await rec.closeChannel(ch);
    const f = failures.find((x) => x.kind === 'write-failed');
    expect(f?.code).toBe('ENOSPC');
    expect(f?.lostLines).toBe(2); // header + the event
    expect(ch.output(enc('more'))).toBe('dropped');
    expect(failures.some((x) => x.kind === 'dropped-after-failure')).toBe(true);
    const index = await rec.finish();
    expect(index.failures.some((x) => x.code === 'ENOSPC')).toBe(true);
    // the late push came after the channel closed; the index holds what the channel lost
    expect(index.channels[0]?.recording?.droppedLines).toBe(2);
  });

  it('a read-only recordings directory makes SessionRecorder.open reject with a typed error', async () => {
    const root = await temp();
    let expected: string[];
    let umount = false;
    if (tryMountReadOnly(root)) {
      umount = true;
      expected = ['EROFS'];
    } else if (process.getuid?.() !== 0) {
      const { chmod } = await import('node:fs/promises');
      await chmod(root, 0o555);
      expected = ['EACCES'];
    } else {
      // Root without mount rights ignores permission bits: inject the file system's answer.
      expected = ['EROFS'];
    }
    try {
      const failures: RecordingFailure[] = [];
      const fs: RecordingFs | undefined = umount || process.getuid?.() !== 0 ? undefined : { createAppend: async () => Promise.reject(Object.assign(new Error('read-only file system'), { code: 'EROFS' })) };
      const err = await openTestSession(root, fs ? { fs, onFailure: (f) => failures.push(f) } : {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RecordingError);
      const re = err as RecordingError;
      expect(re.failure.kind).toBe('write-failed');
      expect(expected).toContain(re.failure.code);
    } finally {
      if (umount) spawnSync('umount', ['-l', root]);
    }
  });

  it('a disk filling up mid-session reports ENOSPC (a real small tmpfs when permitted)', async () => {
    const root = await temp();
    const mnt = join(root, 'mnt');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(mnt);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { stdio: 'ignore' }).status === 0;
    let injectedFail = false;
    const fs: RecordingFs | undefined = mounted
      ? undefined
      : {
          async createAppend(path) {
            const real = await nodeRecordingFs.createAppend(path);
            return { ...real, write: (d) => (injectedFail ? Promise.reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })) : real.write(d)) };
          },
        };
    try {
      const { rec, failures } = await openTestSession(mnt, { ...(fs ? { fs } : {}), writer: { flushIntervalMs: 10 } });
      const ch = await rec.openChannel({ kind: 'shell' });
      ch.output(enc('before\r\n'));
      await ch.flush();
      if (mounted) {
        // fill the file system: the next flush of the recording cannot be stored
        await writeFile(join(mnt, 'filler'), Buffer.alloc(1024 * 1024)).catch(() => undefined);
      } else injectedFail = true;
      ch.output(enc('x'.repeat(8192)));
      await ch.flush();
      // every file that could not be written reports (the audit log's own flush may fail too)
      const f = failures.find((x) => x.kind === 'write-failed' && x.file.endsWith('channel-0.cast'));
      expect(f?.code).toBe('ENOSPC');
      expect(f?.lostLines).toBe(1);
      await rec.finish().catch(() => undefined);
      const cast = parseCast(await readFile(join(rec.dir, 'channel-0.cast'), 'utf8'));
      expect(cast.events.map((e) => e.data)).toEqual(['before\r\n']);
    } finally {
      if (mounted) spawnSync('umount', ['-l', mnt]);
    }
  });

  it('a throwing failure handler does not break the writer', async () => {
    const root = await temp();
    const w = await ChainedLineWriter.create({
      path: join(root, 'x.jsonl'),
      seed: chainSeed('s', 'x.jsonl'),
      maxQueuedBytes: 10,
      onFailure: () => {
        throw new Error('handler bug');
      },
    });
    expect(w.push('0123456789abc')).toBe('dropped');
    expect(w.push('ok')).toBe('ok');
    await w.close();
    expect(await readFile(join(root, 'x.jsonl'), 'utf8')).toBe('ok\n');
    expect(w.stats.droppedLines).toBe(1);
  });
});

describe('crash safety', () => {
  it('after kill -9 mid-session the cast parses up to its last complete line', async () => {
    const work = await temp();
    const out = await buildForChild(['src/recording/index.ts']);
    cleanups.push(() => rm(out, { recursive: true, force: true }));
    const { stateDir } = await testKey();
    const root = join(work, 'recordings');
    const script = join(work, 'child.mjs');
    await writeFile(
      script,
      `import { SessionRecorder, loadOrCreateRecordingKey } from ${JSON.stringify(join(out, 'src/recording/index.js'))};
const key = await loadOrCreateRecordingKey(${JSON.stringify(stateDir)});
const rec = await SessionRecorder.open({ root: ${JSON.stringify(root)}, sessionId: 'crash1', key,
  who: { identity: 'a', authMethod: 'publickey', clientAddress: '127.0.0.1' }, target: { host: 'h', port: 22, login: 'l' },
  onFailure: (f) => console.error(JSON.stringify(f)), writer: { flushIntervalMs: 5, flushThresholdBytes: 4096 } });
const ch = await rec.openChannel({ kind: 'shell', pty: { cols: 80, rows: 24, term: 'xterm' } });
let i = 0;
const text = new TextEncoder();
process.stdout.write('ready\\n');
for (;;) {
  ch.output(text.encode('output line ' + (i++) + ' with \u00e9\u00e8 and \u{1F600}\\r\\n'.repeat(1 + (i % 7))));
  if (i % 50 === 0) await new Promise((r) => setImmediate(r));
}
`,
    );
    const { child, stderr } = await startRecorderChild(script);
    // Let it write for a while, until the file holds a good amount of data, then SIGKILL it.
    const [dir] = await (async () => {
      for (;;) {
        const dirs = await listSessionDirs(root);
        const d = dirs[0]?.dir;
        if (d) {
          const size = await stat(join(d, 'channel-0.cast')).then((s) => s.size, () => 0);
          if (size > 2_000_000) return [d];
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(stderr()).toBe('');
    const text = await readFile(join(dir ?? '', 'channel-0.cast'), 'utf8');
    const cast = parseCast(text);
    expect(cast.events.length).toBeGreaterThan(100);
    expect(cast.events.every((e) => e.code === 'o' && e.data.startsWith('output line '))).toBe(true);
    // The chain covers the file except, at most, a tail written after the last chained flush.
    const report = await verify(dir ?? '', (await testKey()).key);
    const kinds = report.sessions[0]?.problems.map((p) => p.kind) ?? [];
    expect(kinds).toContain('unsealed');
    expect(kinds.every((k) => k === 'unsealed' || k === 'unchained' || k === 'truncated')).toBe(true);

    // Recovery at the next start seals what is on disk; from then on changes are detected.
    const { sealInterruptedSessions } = await import('../../src/recording/recovery.js');
    const { key } = await testKey();
    const raw = await readFile(join(dir ?? '', 'channel-0.cast'));
    const tailBytes = raw.length - (raw.lastIndexOf(0x0a) + 1);
    const rec = await sealInterruptedSessions(root, key);
    expect(rec).toEqual({ sealed: [dir], failed: [] });
    const after = await verify(dir ?? '', key);
    expect(after.sessions[0]?.problems).toEqual([]);
    expect(after.sessions[0]?.state).toBe('interrupted');
    const index = JSON.parse(await readFile(join(dir ?? '', 'index.json'), 'utf8')) as import('../../src/recording/session-index.js').SessionIndex;
    expect(index.channels[0]?.recording?.lines).toBe(cast.events.length + 1);
    expect(index.recovery?.truncated.find((t) => t.file === 'channel-0.cast')?.bytes ?? 0).toBe(tailBytes);
    expect((await sealInterruptedSessions(root, key)).sealed).toEqual([]); // idempotent
    const castPath = join(dir ?? '', 'channel-0.cast');
    const lines = (await readFile(castPath, 'utf8')).split('\n');
    lines[5] = (lines[5] ?? '').replace('output line', 'OUTPUT LINE');
    await writeFile(castPath, lines.join('\n'));
    expect((await verify(dir ?? '', key)).sessions[0]?.problems[0]).toMatchObject({ kind: 'changed', line: 6 });
  });
});

describe('ChainedLineWriter close', () => {
  /** A file system that logs sync and close calls and fails the sync of files named in `failSync`. */
  function loggingFs(failSync: readonly string[] = []): { fs: RecordingFs; calls: string[] } {
    const calls: string[] = [];
    const fs: RecordingFs = {
      async createAppend(path) {
        const real = await nodeRecordingFs.createAppend(path);
        const name = path.endsWith('.chain') ? 'chain' : 'data';
        return {
          write: (d) => real.write(d),
          sync: async () => {
            calls.push(`sync ${name}`);
            if (failSync.includes(name)) throw Object.assign(new Error('I/O error'), { code: 'EIO' });
            await real.sync();
          },
          close: async () => {
            calls.push(`close ${name}`);
            await real.close();
          },
        };
      },
    };
    return { fs, calls };
  }

  it('syncs the file and its chain before closing either', async () => {
    const dir = await temp();
    const { fs, calls } = loggingFs();
    const failures: RecordingFailure[] = [];
    const w = await ChainedLineWriter.create({ path: join(dir, 'a.jsonl'), seed: chainSeed('s', 'a.jsonl'), onFailure: (f) => failures.push(f), fs });
    w.push('one');
    await w.close();
    expect(calls.slice(0, 2).sort()).toEqual(['sync chain', 'sync data']);
    expect(calls.slice(2).sort()).toEqual(['close chain', 'close data']);
    expect(failures).toEqual([]);
    expect(w.stats).toMatchObject({ lines: 1, failed: false });
    expect(await readFile(join(dir, 'a.jsonl'), 'utf8')).toBe('one\n');
  });

  it('reports a failed sync of the chain file by name, once, and still closes both files', async () => {
    const dir = await temp();
    const { fs, calls } = loggingFs(['chain']);
    const failures: RecordingFailure[] = [];
    const path = join(dir, 'a.jsonl');
    const w = await ChainedLineWriter.create({ path, seed: chainSeed('s', 'a.jsonl'), onFailure: (f) => failures.push(f), fs });
    w.push('one');
    await w.close();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ kind: 'write-failed', file: `${path}.chain`, code: 'EIO' });
    expect(w.stats.failed).toBe(true);
    expect(calls.filter((c) => c.startsWith('close')).sort()).toEqual(['close chain', 'close data']);
  });

  it('a steady binary stream reuses a few batch buffers instead of growing (and copying into) new ones', async () => {
    const root = await temp();
    const binWrites: ArrayBufferLike[] = [];
    const fs: RecordingFs = {
      async createAppend(path) {
        const real = await nodeRecordingFs.createAppend(path);
        return {
          // a disk a little slower than the stream: batches fill while the last one is written
          write: async (d) => {
            if (path.endsWith('.bin')) binWrites.push(d.buffer);
            await new Promise((r) => setTimeout(r, 2));
            await real.write(d);
          },
          sync: () => real.sync(),
          close: () => real.close(),
        };
      },
    };
    const { rec } = await openTestSession(root, { fs });
    const ch = await rec.openChannel({ kind: 'exec', command: 'cat x.tgz' });
    const chunk = new Uint8Array(32 * 1024).fill(0xff);
    for (let i = 0; i < 640; i++) {
      if (ch.output(chunk) === 'pressure') await ch.whenDrained();
      else if (i % 4 === 0) await new Promise((r) => setImmediate(r));
      // Flushes overlap in a relay (size threshold, timer, drain waiters): one that finds the
      // queue just emptied by another must not take the stream for idle and drop the buffers.
      if (i % 16 === 0) await Promise.all([ch.flush(), ch.flush()]);
    }
    await rec.closeChannel(ch);
    const index = await rec.finish();
    expect(index.channels[0]?.recording?.binary?.bytes).toBe(640 * 32 * 1024);
    expect(binWrites.length).toBeGreaterThan(10);
    // a few buffers take turns (one filling, one being written); without reuse, every batch
    // would be a new buffer (41 of 41 here before the fix)
    expect(new Set(binWrites).size).toBeLessThanOrEqual(4);
  });
});

describe('ChainedLineWriter flush timer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs only while lines come: none for an idle writer, stopped after an idle interval, stopped by close', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const dir = await temp();
    const path = join(dir, 'a.jsonl');
    const base = vi.getTimerCount();
    const w = await ChainedLineWriter.create({ path, seed: chainSeed('s', 'a.jsonl'), onFailure: () => undefined, fs: nodeRecordingFs, flushIntervalMs: 250 });
    expect(vi.getTimerCount()).toBe(base);
    w.push('one');
    w.push('two');
    expect(vi.getTimerCount()).toBe(base + 1);
    vi.advanceTimersByTime(250); // the periodic flush
    await w.flush();
    expect(await readFile(path, 'utf8')).toBe('one\ntwo\n');
    vi.advanceTimersByTime(250); // it wrote in the last interval: not idle yet
    expect(vi.getTimerCount()).toBe(base + 1);
    vi.advanceTimersByTime(250); // a whole interval without a line: idle
    expect(vi.getTimerCount()).toBe(base);
    w.push('three');
    expect(vi.getTimerCount()).toBe(base + 1);
    vi.advanceTimersByTime(250);
    await w.flush();
    expect(await readFile(path, 'utf8')).toBe('one\ntwo\nthree\n');
    w.push('four');
    await w.close();
    expect(vi.getTimerCount()).toBe(base);
    expect(await readFile(path, 'utf8')).toBe('one\ntwo\nthree\nfour\n');
    expect(w.stats).toMatchObject({ lines: 4, failed: false });
  });
});
