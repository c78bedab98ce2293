import { appendFile, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runReplay } from '../../src/cli/replay.js';
import { listSessionDirs } from '../../src/recording/layout.js';
import { sealInterruptedSessions } from '../../src/recording/recovery.js';
import type { SessionIndex } from '../../src/recording/session-index.js';
import { verify } from '../../src/recording/verify.js';
import { buildForChild } from './child-build.js';
import { enc, openTestSession, startRecorderChild, tempDir, testKey } from './helpers.js';
import { writeSidecarSession } from './sidecar-fixture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function waitForSize(path: string, min: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await stat(path).then((s) => s.size, () => 0)) >= min) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${path} never reached ${min} bytes`);
}

describe('recovery of a session that stopped before its index listed the channel', () => {
  it('seals the channel from the files on disk, described from its cast header', async () => {
    const { dir: root, cleanup } = await tempDir();
    cleanups.push(cleanup);
    // Lines are written at once (threshold 1), but the open index is not rewritten for a minute:
    // the gateway "dies" while index.json still lists no channel.
    const { rec } = await openTestSession(root, { writer: { flushIntervalMs: 60_000, flushThresholdBytes: 1 } });
    const ch = await rec.openChannel({ kind: 'exec', command: 'uname -a' });
    ch.output(enc('Linux db1\n'));
    const cast = join(rec.dir, 'channel-0.cast');
    await waitForSize(`${cast}.chain`, 3 * 65);
    const before = JSON.parse(await readFile(join(rec.dir, 'index.json'), 'utf8')) as SessionIndex;
    expect(before.state).toBe('open');
    expect(before.channels).toEqual([]);

    const { key } = await testKey();
    expect(await sealInterruptedSessions(root, key)).toEqual({ sealed: [rec.dir], failed: [] });
    const sealed = JSON.parse(await readFile(join(rec.dir, 'index.json'), 'utf8')) as SessionIndex;
    expect(sealed.state).toBe('interrupted');
    expect(sealed.channels).toMatchObject([{ channel: 0, kind: 'exec', pty: false, command: 'uname -a', recording: { file: 'channel-0.cast', lines: 3 } }]);
    const report = await verify(rec.dir, key);
    expect(report.sessions[0]?.problems).toEqual([]);
  });
});

describe('recovery of a session whose binary output is in channel-N.bin (b-sidecar)', () => {
  it('cuts the .bin back to the last b event left in the cast, seals it, and the result verifies', async () => {
    const { dir: root, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const a = Buffer.alloc(5000, 0x00);
    const b = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
    // The gateway died mid-flush: the .bin got the next chunk (and part of one more), the cast
    // only part of the line referring to it.
    const fx = await writeSidecarSession(root, {
      events: [{ t: 0.1, o: 'hello\n' }, { t: 0.2, b: a }, { t: 0.3, b }, { t: 0.4, o: 'tick\n' }],
      open: true,
      extraBin: Buffer.alloc(777, 0xee),
    });
    const partial = `[0.5, "b", "5300+777:${'0'.repeat(20)}`;
    await appendFile(fx.cast, partial);
    // The open index still holds the seal of an earlier flush.
    const indexPath = join(fx.dir, 'index.json');
    const open = JSON.parse(await readFile(indexPath, 'utf8')) as SessionIndex;
    const stale = { file: 'channel-0.cast', lines: 2, bytes: 10, chainHead: '0'.repeat(64), droppedLines: 0, droppedBytes: 0, binary: { file: 'channel-0.bin', chunks: 1, bytes: 5000 } };
    await writeFile(indexPath, JSON.stringify({ ...open, channels: open.channels.map((c) => ({ ...c, recording: stale })) }));

    const { key } = await testKey();
    expect(await sealInterruptedSessions(root, key)).toEqual({ sealed: [fx.dir], failed: [] });
    expect((await stat(fx.bin)).size).toBe(5300);
    const sealed = JSON.parse(await readFile(indexPath, 'utf8')) as SessionIndex;
    expect(sealed.state).toBe('interrupted');
    expect(sealed.recovery?.truncated).toEqual([
      { file: 'channel-0.cast', bytes: partial.length },
      { file: 'channel-0.bin', bytes: 777 },
    ]);
    expect(sealed.channels[0]?.recording).toMatchObject({ file: 'channel-0.cast', lines: 5, binary: { file: 'channel-0.bin', chunks: 2, bytes: 5300 } });
    const report = await verify(fx.dir, key);
    expect(report.sessions[0]?.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('a .bin written before the first b event reached the cast is cut to nothing and sealed empty', async () => {
    const { dir: root, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const fx = await writeSidecarSession(root, { events: [{ t: 0.1, o: 'hello\n' }], open: true, extraBin: Buffer.alloc(64, 1) });
    const { key } = await testKey();
    expect((await sealInterruptedSessions(root, key)).sealed).toEqual([fx.dir]);
    expect((await stat(fx.bin)).size).toBe(0);
    const sealed = JSON.parse(await readFile(join(fx.dir, 'index.json'), 'utf8')) as SessionIndex;
    expect(sealed.recovery?.truncated).toEqual([{ file: 'channel-0.bin', bytes: 64 }]);
    expect(sealed.channels[0]?.recording?.binary).toEqual({ file: 'channel-0.bin', chunks: 0, bytes: 0 });
    expect((await verify(fx.dir, key)).ok).toBe(true);
  });

  it('a channel that wrote only text has no .bin and no binary seal', async () => {
    const { dir: root, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const fx = await writeSidecarSession(root, { events: [{ t: 0.1, o: 'hello\n' }], open: true, noBin: true });
    const { key } = await testKey();
    await sealInterruptedSessions(root, key);
    const sealed = JSON.parse(await readFile(join(fx.dir, 'index.json'), 'utf8')) as SessionIndex;
    expect(sealed.channels[0]?.recording?.binary).toBeUndefined();
    expect(sealed.recovery?.truncated).toEqual([]);
    expect((await verify(fx.dir, key)).ok).toBe(true);
  });

  it('after kill -9 of a recorder streaming binary output, recovery leaves a session that verifies and replays a prefix of the stream', async () => {
    const { dir: work, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const out = await buildForChild(['src/recording/index.ts']);
    cleanups.push(() => rm(out, { recursive: true, force: true }));
    const { stateDir, key } = await testKey();
    const root = join(work, 'recordings');
    // Chunk i: 4096 bytes that are not UTF-8 (a b event); every 10th chunk is followed by a text line.
    const chunk = (i: number): Uint8Array => Uint8Array.from({ length: 4096 }, (_, j) => (i * 31 + j * 7) & 0xff);
    const script = join(work, 'child.mjs');
    await writeFile(
      script,
      `import { SessionRecorder, loadOrCreateRecordingKey } from ${JSON.stringify(join(out, 'src/recording/index.js'))};
const key = await loadOrCreateRecordingKey(${JSON.stringify(stateDir)});
const rec = await SessionRecorder.open({ root: ${JSON.stringify(root)}, sessionId: 'crashbin1', key,
  who: { identity: 'a', authMethod: 'publickey', clientAddress: '127.0.0.1' }, target: { host: 'h', port: 22, login: 'l' },
  onFailure: (f) => console.error(JSON.stringify(f)), writer: { flushIntervalMs: 5, flushThresholdBytes: 16384 } });
const ch = await rec.openChannel({ kind: 'exec', command: 'cat backup.tgz' });
const chunk = ${chunk.toString()};
process.stdout.write('ready\\n');
for (let i = 0; ; i++) {
  ch.output(chunk(i));
  if (i % 10 === 9) ch.output(new TextEncoder().encode('tick ' + i + '\\n'));
  if (i % 8 === 0) await new Promise((r) => setImmediate(r));
}
`,
    );
    const { child, stderr } = await startRecorderChild(script);
    let dir = '';
    for (;;) {
      dir = (await listSessionDirs(root))[0]?.dir ?? '';
      if (dir && (await stat(join(dir, 'channel-0.bin')).then((s) => s.size, () => 0)) > 4_000_000) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(stderr()).toBe('');

    expect((await sealInterruptedSessions(root, key)).sealed).toEqual([dir]);
    const report = await verify(dir, key);
    expect(report.sessions[0]?.problems).toEqual([]);
    const sealed = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as SessionIndex;
    const binary = sealed.channels[0]?.recording?.binary;
    expect(binary?.file).toBe('channel-0.bin');
    expect(binary?.bytes).toBe((await stat(join(dir, 'channel-0.bin'))).size);
    expect(binary?.bytes).toBe((binary?.chunks ?? 0) * 4096);

    // Replay gives back exactly the start of what the target sent.
    const shown: Buffer[] = [];
    const code = await runReplay([join(dir, 'channel-0.cast'), '--raw', '--speed', '64', '--idle-time-limit', '0.001'], {
      stdout: { write: (d) => shown.push(typeof d === 'string' ? Buffer.from(d) : Buffer.from(d)) },
      stderr: { write: () => true },
    });
    expect(code).toBe(0);
    const got = Buffer.concat(shown);
    const sent: Buffer[] = [];
    let length = 0;
    for (let i = 0; length < got.length; i++) {
      const c = Buffer.from(chunk(i));
      sent.push(c);
      length += c.length;
      if (i % 10 === 9) {
        const t = Buffer.from(`tick ${i}\n`);
        sent.push(t);
        length += t.length;
      }
    }
    expect(got.length).toBeGreaterThan(1_000_000);
    expect(got.equals(Buffer.concat(sent).subarray(0, got.length))).toBe(true);
  }, 60_000);
});
