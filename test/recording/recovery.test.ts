import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sealInterruptedSessions } from '../../src/recording/recovery.js';
import type { SessionIndex } from '../../src/recording/session-index.js';
import { verify } from '../../src/recording/verify.js';
import { enc, openTestSession, tempDir, testKey } from './helpers.js';

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
