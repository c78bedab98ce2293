import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRecordings } from '../../src/cli/recordings.js';
import { parseDuration, pruneRecordings } from '../../src/recording/retention.js';
import { tempDir } from './helpers.js';

const DAY = 86_400_000;

async function fakeSession(root: string, ymd: string, id: string, end: Date | undefined, mtime: Date): Promise<string> {
  const dir = join(root, ...ymd.split('/'), id);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'index.json'), JSON.stringify({ format: 'gatehouse-session-index/1', sessionId: id, ...(end ? { end: end.toISOString() } : {}) }));
  await writeFile(join(dir, 'channel-0.cast'), '{"version":2,"width":80,"height":24}\n');
  for (const f of await readdir(dir)) await utimes(join(dir, f), mtime, mtime);
  return dir;
}

describe('retention', () => {
  it('parses durations', () => {
    expect(parseDuration('90d')).toBe(90 * DAY);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('2w')).toBe(14 * DAY);
    expect(() => parseDuration('90')).toThrow(/invalid duration/);
    expect(() => parseDuration('-1d')).toThrow();
  });

  it('prunes sessions older than the cutoff, keeps recent and live ones, removes empty day dirs', async () => {
    const { dir: root, cleanup } = await tempDir();
    try {
      const now = Date.UTC(2026, 10, 23);
      const old = new Date(now - 100 * DAY);
      await fakeSession(root, '2026/08/15', 'old1', old, old);
      const recent = await fakeSession(root, '2026/11/20', 'new1', new Date(now - 3 * DAY), new Date(now - 3 * DAY));
      // started long ago, still being written (a live session): kept
      const live = await fakeSession(root, '2026/08/14', 'live1', undefined, new Date(now - 1000));
      const r = await pruneRecordings(root, 90 * DAY, { now });
      expect(r.removed.map((d) => d.slice(root.length))).toEqual(['/2026/08/15/old1']);
      expect(r.kept).toBe(2);
      expect(await readdir(join(root, '2026', '08'))).toEqual(['14']);
      expect(await readdir(recent)).toContain('index.json');
      expect(await readdir(live)).toContain('index.json');
    } finally {
      await cleanup();
    }
  });

  it('treats a channel-N.bin (binary output sidecar) as part of its session: removed with it, and its writes count as activity', async () => {
    const { dir: root, cleanup } = await tempDir();
    try {
      const now = Date.now(); // the busy .bin is written just now
      const old = new Date(now - 100 * DAY);
      const gone = await fakeSession(root, '2026/08/15', 'old1', undefined, old);
      await writeFile(join(gone, 'channel-0.bin'), new Uint8Array(10));
      await utimes(join(gone, 'channel-0.bin'), old, old);
      // A download still running: only its .bin is being written.
      const busy = await fakeSession(root, '2026/08/14', 'busy1', undefined, old);
      await writeFile(join(busy, 'channel-0.bin'), new Uint8Array(10));
      const r = await pruneRecordings(root, 90 * DAY, { now });
      expect(r.removed.map((d) => d.slice(root.length))).toEqual(['/2026/08/15/old1']);
      expect(await readdir(join(root, '2026', '08'))).toEqual(['14']);
      expect(await readdir(busy)).toContain('channel-0.bin');
    } finally {
      await cleanup();
    }
  });

  it('CLI: gatehouse recordings prune --older-than 90d', async () => {
    const { dir: root, cleanup } = await tempDir();
    try {
      const t = new Date(Date.now() - 200 * DAY);
      await fakeSession(root, '2026/01/02', 'ancient', t, t);
      let out = '';
      const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } };
      expect(await runRecordings(['prune', '--older-than', '90d', '--recordings', root, '--dry-run'], io)).toBe(0);
      expect(out).toContain('would remove');
      expect(await readdir(root)).toEqual(['2026']);
      out = '';
      expect(await runRecordings(['prune', '--older-than', '90d', '--recordings', root], io)).toBe(0);
      expect(out).toContain('1 session(s) pruned');
      expect(await readdir(root)).toEqual([]);
      expect(await runRecordings(['prune', '--older-than', 'soon'], io)).toBe(2);
    } finally {
      await cleanup();
    }
  });
});

describe('gatehouse recordings list', () => {
  it('prints one line per session, newest first', async () => {
    const { dir: root, cleanup } = await tempDir();
    try {
      const { openTestSession } = await import('./helpers.js');
      const { rec } = await openTestSession(root, { sessionId: 'listme' });
      await rec.finish();
      let out = '';
      const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } };
      expect(await runRecordings(['list', '--recordings', root], io)).toBe(0);
      expect(out).toMatch(/^listme\t\S+\talice@example\.com -> root@db1:22\tclosed, signed\t\n$/);
      expect(await runRecordings(['list', '--limit', 'x', '--recordings', root], io)).toBe(2);
    } finally {
      await cleanup();
    }
  });
});
