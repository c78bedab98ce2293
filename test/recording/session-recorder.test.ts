import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCast } from '../../src/recording/cast-reader.js';
import type { SessionIndex } from '../../src/recording/session-index.js';
import { ESCAPE_BASE, escapedToBytes } from '../../src/recording/utf8-escape.js';
import { asciinemaCat, enc, hasAsciinema, hasScript, openTestSession, tempDir } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function recordShell(version: 2 | 3, recordInput: boolean) {
  const { dir, cleanup } = await tempDir();
  cleanups.push(cleanup);
  let now = 1000;
  const { rec, failures } = await openTestSession(dir, { asciicastVersion: version, recordInput, clock: () => now });
  const ch = await rec.openChannel({ kind: 'shell', pty: { cols: 100, rows: 30, term: 'xterm-256color' } });
  now += 250;
  ch.output(enc('hello from db1\r\n'));
  now += 100;
  ch.input(enc('secret\r'));
  const emoji = enc('😀');
  ch.output(emoji.subarray(0, 2));
  now += 50;
  ch.output(emoji.subarray(2));
  ch.output(Uint8Array.from([0x0d, 0x0a, 0xff, 0xfe, 0x0d, 0x0a]), 'stderr');
  now += 1000;
  ch.resize(120, 40);
  ch.marker('signal INT');
  ch.output(enc('bye\r\n'));
  ch.setExit({ type: 'status', status: 3 });
  await rec.closeChannel(ch);
  const index = await rec.finish();
  return { dir: rec.dir, index, failures, file: join(rec.dir, 'channel-0.cast') };
}

describe('SessionRecorder asciicast output', () => {
  it('writes asciicast v2 with header, o/r/m events, exit marker and no input by default', async () => {
    const { file, index, failures, dir } = await recordShell(2, false);
    expect(failures).toEqual([]);
    const text = await readFile(file, 'utf8');
    const lines = text.trimEnd().split('\n');
    const header = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(header).toMatchObject({ version: 2, width: 100, height: 30, env: { TERM: 'xterm-256color' } });
    expect(header['title']).toBe(`root@db1 by alice@example.com (${index.sessionId})`);
    expect(header['gatehouse']).toMatchObject({ invalid_bytes: 'pua-u10fe00', chain: 'channel-0.cast.chain' });
    expect(typeof header['timestamp']).toBe('number');
    expect(lines[1]).toBe('[0.250000, "o", "hello from db1\\r\\n"]');
    const cast = parseCast(text);
    expect(cast.events.map((e) => e.code)).toEqual(['o', 'o', 'o', 'r', 'm', 'o', 'm']);
    expect(cast.events.some((e) => e.code === 'i')).toBe(false);
    expect(cast.events[1]?.data).toBe('😀');
    expect(cast.events[3]).toEqual({ timeUs: 1_400_000, code: 'r', data: '120x40' });
    expect(cast.events[6]?.data).toBe('exit status 3');
    expect(escapedToBytes(cast.events[2]?.data ?? '')).toEqual(Uint8Array.from([0x0d, 0x0a, 0xff, 0xfe, 0x0d, 0x0a]));
    // the index records the channel with its exit status, byte counts and seal
    const onDisk = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as SessionIndex;
    expect(onDisk.state).toBe('closed');
    expect(onDisk.signature?.alg).toBe('ed25519');
    expect(onDisk.channels[0]).toMatchObject({ channel: 0, kind: 'shell', pty: true, exitStatus: 3, bytesIn: 7, recording: { file: 'channel-0.cast', lines: 8 } });
    expect(onDisk.channels[0]?.bytesOut).toBe(16 + 4 + 6 + 5);
    expect(onDisk.who).toMatchObject({ identity: 'alice@example.com', authMethod: 'publickey', keyFingerprint: 'SHA256:abc', clientAddress: '127.0.0.1' });
  });

  it('records input only when enabled', async () => {
    const { file } = await recordShell(2, true);
    const cast = parseCast(await readFile(file, 'utf8'));
    expect(cast.events.filter((e) => e.code === 'i').map((e) => e.data)).toEqual(['secret\r']);
  });

  it('writes asciicast v3 with term object, intervals and an x exit event', async () => {
    const { file } = await recordShell(3, false);
    const text = await readFile(file, 'utf8');
    const lines = text.trimEnd().split('\n');
    const header = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(header).toMatchObject({ version: 3, term: { cols: 100, rows: 30, type: 'xterm-256color' } });
    expect(header['width']).toBeUndefined();
    // intervals, not absolute times: 0.25 then 0.15 (input skipped, 100 + 50 ms), then 0
    expect(lines[1]).toBe('[0.250000, "o", "hello from db1\\r\\n"]');
    expect(lines[2]).toBe('[0.150000, "o", "😀"]');
    expect(lines[3]?.startsWith('[0.000000, "o", ')).toBe(true);
    expect(lines.at(-1)).toBe('[0.000000, "x", "3"]');
    const cast = parseCast(text);
    expect(cast.events.find((e) => e.code === 'r')?.timeUs).toBe(1_400_000);
  });

  it('records an exec channel with its command and exit status', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const { rec } = await openTestSession(dir);
    const ch = await rec.openChannel({ kind: 'exec', command: 'uname -a' });
    ch.output(enc('Linux db1\n'));
    ch.setExit({ type: 'status', status: 0 });
    await rec.closeChannel(ch);
    const index = await rec.finish();
    const cast = parseCast(await readFile(join(rec.dir, 'channel-0.cast'), 'utf8'));
    expect(cast.header.command).toBe('uname -a');
    expect(cast.header.term).toBeUndefined();
    expect(cast.events[0]).toMatchObject({ code: 'm', data: 'exec: uname -a' });
    expect(index.channels[0]).toMatchObject({ kind: 'exec', pty: false, command: 'uname -a', exitStatus: 0 });
  });

  it.skipIf(!hasAsciinema || !hasScript)("is read by Debian's asciinema cat (v2, split emoji and invalid bytes included)", async () => {
    const { file } = await recordShell(2, true);
    const r = asciinemaCat(file);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('Traceback');
    expect(r.stdout).toContain('hello from db1\r\n');
    expect(r.stdout).toContain('😀');
    expect(r.stdout).toContain('bye\r\n');
    expect(r.stdout).toContain(String.fromCodePoint(ESCAPE_BASE + 0xff));
    expect(r.stdout).not.toContain('secret');
  });
  if (!hasAsciinema) it.skip('asciinema cat test needs the Debian package asciinema', () => undefined);
  if (!hasScript) it.skip('asciinema cat test needs script(1) from the Debian package bsdutils', () => undefined);

  it('layout is recordings/YYYY/MM/DD/<session-id>/ with index, cast, audit and chain files', async () => {
    const { dir: root, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const start = new Date(Date.UTC(2026, 10, 3, 12));
    const { rec } = await openTestSession(root, { start, sessionId: 'abc123' });
    const ch = await rec.openChannel({ kind: 'shell' });
    await rec.closeChannel(ch);
    await rec.finish();
    expect(rec.dir).toBe(join(root, '2026', '11', '03', 'abc123'));
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(rec.dir)).sort()).toEqual(['audit.jsonl', 'audit.jsonl.chain', 'channel-0.cast', 'channel-0.cast.chain', 'index.json']);
  });
});

describe('forward and agent audit', () => {
  it('writes an open and a close event with endpoints, duration and bytes each way, and lists forwards in the index', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    let now = 0;
    const { rec } = await openTestSession(dir, { clock: () => now });
    const fwd = rec.forward({ kind: 'direct-tcpip', originator: '127.0.0.1:50000', destination: 'db1:5432' });
    fwd.toTarget(1000);
    fwd.toClient(250_000);
    fwd.toTarget(24);
    now += 1500;
    fwd.close('eof');
    fwd.close(); // idempotent
    const agent = rec.forward({ kind: 'agent' });
    agent.toClient(10);
    const index = await rec.finish();
    const lines = (await readFile(join(rec.dir, 'audit.jsonl'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const closes = lines.filter((l) => l['type'] === 'forward.close');
    expect(closes).toHaveLength(2);
    expect(closes[1]).toMatchObject({ kind: 'agent', bytesToClient: 10, bytesToTarget: 0, reason: 'session ended' });
    expect(closes[0]).toMatchObject({ kind: 'direct-tcpip', originator: '127.0.0.1:50000', destination: 'db1:5432', durationMs: 1500, bytesToTarget: 1024, bytesToClient: 250_000, reason: 'eof' });
    expect(lines.filter((l) => l['type'] === 'forward.open').map((l) => l['kind'])).toEqual(['direct-tcpip', 'agent']);
    expect(lines.map((l) => l['type'])).toEqual(['session.start', 'forward.open', 'forward.close', 'forward.open', 'forward.close', 'session.end']);
    expect(index.forwards).toEqual([
      expect.objectContaining({ kind: 'direct-tcpip', bytesToTarget: 1024, bytesToClient: 250_000 }),
      expect.objectContaining({ kind: 'agent', bytesToClient: 10 }),
    ]);
    expect(index.forwards[1]?.end).toBeDefined();
  });
});

describe('index rewrites while the session is open', () => {
  const readIndex = async (dir: string): Promise<SessionIndex> => JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as SessionIndex;

  it('rewrites the open index with a channel that opened, shortly after it opened', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const { rec } = await openTestSession(dir, { writer: { flushIntervalMs: 20 } });
    expect((await readIndex(rec.dir)).channels).toEqual([]);
    const ch = await rec.openChannel({ kind: 'exec', command: 'sleep 1' });
    let index = await readIndex(rec.dir);
    for (let i = 0; i < 200 && index.channels.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      index = await readIndex(rec.dir);
    }
    expect(index.state).toBe('open');
    expect(index.channels).toMatchObject([{ channel: 0, kind: 'exec', command: 'sleep 1' }]);
    await rec.closeChannel(ch);
    await rec.finish();
    expect((await readIndex(rec.dir)).state).toBe('closed');
  });

  it('never writes an open index over the signed one when the session ends before a pending rewrite', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const { rec, failures } = await openTestSession(dir, { writer: { flushIntervalMs: 30 } });
    const ch = await rec.openChannel({ kind: 'exec', command: 'true' });
    ch.setExit({ type: 'status', status: 0 });
    await rec.closeChannel(ch);
    const signed = await rec.finish();
    // past the rewrite the channel open and close scheduled
    await new Promise((r) => setTimeout(r, 120));
    const onDisk = await readIndex(rec.dir);
    expect(onDisk).toEqual(signed);
    expect(onDisk.state).toBe('closed');
    expect(onDisk.channels).toMatchObject([{ channel: 0, exitStatus: 0 }]);
    expect(failures).toEqual([]);
  });
});
