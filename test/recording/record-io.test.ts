import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeBinaryRefEvent } from '../../src/recording/asciicast.js';
import { parseBinaryRef } from '../../src/recording/binary-ref.js';
import { ChainedLineWriter, nodeRecordingFs } from '../../src/recording/chained-log.js';
import type { RecordingFailure } from '../../src/recording/failures.js';
import { chainSeed, LineChain } from '../../src/recording/line-chain.js';
import { RECORD_IO_THREAD_NAME } from '../../src/recording/record-io-protocol.js';
import type { SessionIndex } from '../../src/recording/session-index.js';
import { makeDirectory, recordIoCrossings, recordIoWorkerAvailable, replaceFile, stopRecordIoWorker } from '../../src/recording/record-io.js';
import { repoRoot } from '../support/binaries.js';
import { enc, openTestSession, tempDir } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function temp(): Promise<string> {
  const t = await tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

/** Lines of every shape a recording has: short, empty, multi-byte, and longer than a batch buffer. */
function sampleLines(): string[] {
  const lines = ['{"version":2}', '', '[0.1, "o", "héllo ✓"]'];
  for (let i = 0; i < 300; i++) lines.push(`[${i}.000000, "o", "${'x'.repeat(i * 37)}"]`);
  lines.push('y'.repeat(3 * 1024 * 1024));
  return lines;
}

async function writeAll(path: string, lines: readonly string[], inline: boolean): Promise<ChainedLineWriter> {
  const w = await ChainedLineWriter.create({
    path,
    seed: chainSeed('s1', 'f.cast'),
    onFailure: (f) => {
      throw new Error(`unexpected failure ${f.kind}: ${f.message}`);
    },
    flushThresholdBytes: 64 * 1024,
    maxQueuedBytes: 64 * 1024 * 1024,
    ...(inline ? { fs: nodeRecordingFs } : {}),
  });
  for (const [i, l] of lines.entries()) {
    expect(w.push(i % 2 === 0 ? l : Buffer.from(l))).not.toBe('dropped');
    if (i % 50 === 0) await w.flush();
  }
  await w.close();
  return w;
}

describe('recording I/O worker', () => {
  it('is what recordings use when the compiled worker exists (npm test builds it first)', () => {
    expect(recordIoWorkerAvailable()).toBe(true);
  });

  it('writes the same bytes, sidecar and chain head as hashing on the calling thread', async () => {
    const dir = await temp();
    const lines = sampleLines();
    const viaWorker = await writeAll(join(dir, 'worker.cast'), lines, false);
    const inline = await writeAll(join(dir, 'inline.cast'), lines, true);
    const [a, b] = await Promise.all([readFile(join(dir, 'worker.cast')), readFile(join(dir, 'inline.cast'))]);
    expect(a.equals(b)).toBe(true);
    expect(a.toString('utf8')).toBe(`${lines.join('\n')}\n`);
    const [ca, cb] = await Promise.all([readFile(join(dir, 'worker.cast.chain'), 'utf8'), readFile(join(dir, 'inline.cast.chain'), 'utf8')]);
    expect(ca).toBe(cb);
    // and both are the chain of FORMAT.md, computed independently here
    const chain = new LineChain(chainSeed('s1', 'f.cast'));
    const expected = lines.map((l) => Buffer.from(chain.add(l)).toString('hex'));
    expect(ca).toBe(`${expected.join('\n')}\n`);
    expect(viaWorker.stats).toEqual(inline.stats);
    expect(viaWorker.stats.chainHead).toBe(chain.headHex);
    expect(viaWorker.stats.lines).toBe(lines.length);
  });

  it('binary chunks: the worker fills in the same hashes and writes the same .bin, cast and sidecar as the calling thread', async () => {
    const dir = await temp();
    // Small chunks, and some of 200 KiB and more: their batches go to the .bin (and the cast to
    // its file) by direct writes where the file system takes them (direct-append.ts).
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(i % 9 === 4 ? 200_000 + i * 31_013 : 1 + i * 997, i));
    const run = async (name: string, inline: boolean) => {
      const w = await ChainedLineWriter.create({
        path: join(dir, `${name}.cast`),
        binaryPath: join(dir, `${name}.bin`),
        seed: chainSeed('s1', 'f.cast'),
        onFailure: (f) => {
          throw new Error(`unexpected failure ${f.kind}: ${f.message}`);
        },
        flushThresholdBytes: 16 * 1024,
        ...(inline ? { fs: nodeRecordingFs } : {}),
      });
      w.push('{"version":2}');
      for (const [i, c] of chunks.entries()) {
        w.pushBinary(c, 200, (buf, pos, offset) => writeBinaryRefEvent(2, i * 1000, offset, c.length, 0, buf, pos));
        if (i % 7 === 0) w.push(`[${i}.000000, "o", "text ${i}"]`);
        if (i % 10 === 0) await w.flush();
      }
      await w.close();
      const read = (ext: string) => readFile(join(dir, `${name}${ext}`));
      return { stats: w.stats, cast: await read('.cast'), bin: await read('.bin'), chain: await read('.cast.chain') };
    };
    const worker = await run('worker', false);
    const inline = await run('inline', true);
    expect(worker.cast.equals(inline.cast)).toBe(true);
    expect(worker.bin.equals(inline.bin)).toBe(true);
    expect(worker.chain.equals(inline.chain)).toBe(true);
    expect(worker.stats).toEqual(inline.stats);
    expect(worker.stats.binaryChunks).toBe(40);
    expect(worker.bin.equals(Buffer.concat(chunks))).toBe(true);
    const refs = worker.cast
      .toString('utf8')
      .split('\n')
      .filter((l) => l.includes('"b"'))
      .map((l) => parseBinaryRef((JSON.parse(l) as [number, string, string])[2]));
    expect(refs.map((r) => r?.sha256)).toEqual(chunks.map((c) => createHash('sha256').update(c).digest('hex')));
  });

  it('reports an existing file as the error of create, with its errno', async () => {
    const dir = await temp();
    await writeAll(join(dir, 'x.cast'), ['a'], false);
    const err = await ChainedLineWriter.create({ path: join(dir, 'x.cast'), seed: chainSeed('s', 'x'), onFailure: () => undefined }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'EEXIST' });
  });

  it('makeDirectory and replaceFile run in the worker: parents made, the file replaced whole, no temp file left, errors with their errno', async () => {
    expect(recordIoWorkerAvailable()).toBe(true);
    const dir = await temp();
    const deep = join(dir, 'a', 'b', 'c');
    await makeDirectory(deep);
    await makeDirectory(deep); // already there: fine
    expect((await stat(deep)).mode & 0o777).toBe(0o750);
    const file = join(deep, 'index.json');
    await replaceFile(file, 'first\n', false);
    await replaceFile(file, 'second\n', true);
    expect(await readFile(file, 'utf8')).toBe('second\n');
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    expect(await readdir(deep)).toEqual(['index.json']);
    // a file where a parent directory should be: the real errno, not ENOENT
    await expect(makeDirectory(join(file, 'sub', 'dir'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(replaceFile(join(dir, 'missing', 'x.json'), 'x', false)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('requests made in one tick cross to the worker as one message and run in the order made; each keeps its own result', async () => {
    const dir = await temp();
    const deep = join(dir, 'd1', 'd2');
    const before = recordIoCrossings();
    const [made, written, missing] = await Promise.allSettled([
      makeDirectory(deep),
      // in the directory the request before it makes: only in order does this succeed
      replaceFile(join(deep, 'index.json'), 'v1\n', true),
      replaceFile(join(dir, 'nowhere', 'x.json'), 'x', false),
    ]);
    const after = recordIoCrossings();
    expect(after.messages - before.messages).toBe(1);
    expect(after.requests - before.requests).toBe(3);
    expect(made.status).toBe('fulfilled');
    expect(written.status).toBe('fulfilled');
    expect(missing).toMatchObject({ status: 'rejected', reason: { code: 'ENOENT' } });
    expect(await readFile(join(deep, 'index.json'), 'utf8')).toBe('v1\n');
  });

  it("a writer's close takes its last batch along: one crossing for the commit, the sync and the close", async () => {
    const dir = await temp();
    const failures: RecordingFailure[] = [];
    const w = await ChainedLineWriter.create({ path: join(dir, 'c.cast'), seed: chainSeed('s', 'c.cast'), onFailure: (f) => failures.push(f) });
    w.push('one');
    w.push(Buffer.from('two'));
    const before = recordIoCrossings();
    const closing = [w.close(), w.close()];
    await Promise.all(closing);
    const after = recordIoCrossings();
    expect(after.messages - before.messages).toBe(1);
    expect(after.requests - before.requests).toBe(2);
    expect(failures).toEqual([]);
    expect(await readFile(join(dir, 'c.cast'), 'utf8')).toBe('one\ntwo\n');
    const chain = new LineChain(chainSeed('s', 'c.cast'));
    const expected = ['one', 'two'].map((l) => Buffer.from(chain.add(l)).toString('hex'));
    expect(await readFile(join(dir, 'c.cast.chain'), 'utf8')).toBe(`${expected.join('\n')}\n`);
    expect(w.stats).toMatchObject({ lines: 2, chainHead: chain.headHex, failed: false });
    // closed: a later line is reported as dropped, never written
    expect(w.push('late')).toBe('dropped');
    expect(failures).toMatchObject([{ kind: 'dropped-after-failure' }]);
  });

  it('a session crosses to the worker once to open (directory, audit log, index) and twice to finish with a channel open', async () => {
    const root = await temp();
    let before = recordIoCrossings();
    const { rec, failures } = await openTestSession(root);
    let after = recordIoCrossings();
    expect(after.messages - before.messages).toBe(1);
    expect(after.requests - before.requests).toBe(3);
    const opened = JSON.parse(await readFile(join(rec.dir, 'index.json'), 'utf8')) as SessionIndex;
    expect(opened).toMatchObject({ state: 'open', channels: [], audit: { lines: 0, bytes: 0, chainHead: Buffer.from(chainSeed(rec.sessionId, 'audit.jsonl')).toString('hex') } });
    const ch = await rec.openChannel({ kind: 'exec', command: 'true' });
    ch.output(enc('out\n'));
    ch.setExit({ type: 'status', status: 0 });
    before = recordIoCrossings();
    // the channel's last batch and close and the audit log's go together; then the signed index
    const index = await rec.finish();
    after = recordIoCrossings();
    expect(after.messages - before.messages).toBe(2);
    expect(failures).toEqual([]);
    const audit = (await readFile(join(rec.dir, 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(audit.map((e) => e.type)).toEqual(['session.start', 'channel.open', 'channel.close', 'session.end']);
    expect(audit[2]).toMatchObject({ exitStatus: 0, bytesOut: 4 });
    expect(index).toMatchObject({ state: 'closed', channels: [{ channel: 0, exitStatus: 0, recording: { lines: 4 } }], audit: { lines: 4 } });
    expect(JSON.parse(await readFile(join(rec.dir, 'index.json'), 'utf8'))).toEqual(index);
  });

  it('a worker that dies fails the pending and later batches loudly, and the next file gets a new worker', async () => {
    const dir = await temp();
    const failures: RecordingFailure[] = [];
    const w = await ChainedLineWriter.create({ path: join(dir, 'a.cast'), seed: chainSeed('s', 'a.cast'), onFailure: (f) => failures.push(f) });
    w.push('before');
    await w.flush();
    expect(w.stats.lines).toBe(1);
    await stopRecordIoWorker();
    w.push('after');
    await w.flush();
    await w.close();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ kind: 'write-failed', lostLines: 1 });
    expect(['EIO', 'EBADF']).toContain(failures[0]?.code);
    expect(w.stats).toMatchObject({ lines: 1, failed: true, droppedLines: 1 });
    expect(await readFile(join(dir, 'a.cast'), 'utf8')).toBe('before\n');

    const fresh = await writeAll(join(dir, 'b.cast'), ['one', 'two'], false);
    expect(fresh.stats.lines).toBe(2);
  });

  it.runIf(process.platform === 'linux')('names its thread, so ps -L, top -H and the benchmark show its CPU apart', async () => {
    await makeDirectory(join(await temp(), 'x')); // the worker runs
    const names = readdirSync('/proc/self/task').map((t) => {
      try {
        return readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
      } catch {
        return '';
      }
    });
    expect(names).toContain(RECORD_IO_THREAD_NAME);
  });

  it('never keeps a process alive: a short program that records exits by itself', () => {
    const dir = join(repoRoot(), 'dist', 'src', 'recording', 'chained-log.js');
    const script = `
      const { ChainedLineWriter } = await import(${JSON.stringify(dir)});
      const { mkdtempSync } = await import('node:fs');
      const d = mkdtempSync('/tmp/gh-recio-');
      const w = await ChainedLineWriter.create({ path: d + '/x.cast', seed: new Uint8Array(32), onFailure: () => {} });
      w.push('line');
      await w.flush();
      console.log(w.stats.lines);
      (await import('node:fs')).rmSync(d, { recursive: true });
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('1');
  });
});
