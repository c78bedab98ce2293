import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type SftpAuditEvent, SftpAuditor } from '../../src/recording/sftp-audit.js';
import { SshWriter } from '../../src/wire/index.js';
import { openTestSession, tempDir } from './helpers.js';

const SFTP_SERVER = '/usr/lib/openssh/sftp-server';
const hasSftp = existsSync(SFTP_SERVER) && spawnSync('sftp', ['-h']).status !== null;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A tee between sftp and sftp-server that records every chunk, in order, with its direction. */
function teeScript(capture: string): string {
  return `#!${process.execPath}
import { spawn } from 'node:child_process';
import { openSync, writeSync } from 'node:fs';
const fd = openSync(${JSON.stringify(capture)}, 'w');
function rec(dir, chunk) {
  const h = Buffer.alloc(5);
  h[0] = dir;
  h.writeUInt32BE(chunk.length, 1);
  writeSync(fd, h);
  writeSync(fd, chunk);
}
const server = spawn(${JSON.stringify(SFTP_SERVER)}, [], { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.on('data', (c) => { rec(0x63, c); server.stdin.write(c); });
process.stdin.on('end', () => server.stdin.end());
server.stdout.on('data', (c) => { rec(0x73, c); process.stdout.write(c); });
server.on('exit', (code) => process.exit(code ?? 0));
`;
}

function replayCapture(cap: Buffer, a: SftpAuditor): void {
  let i = 0;
  while (i + 5 <= cap.length) {
    const dir = cap[i];
    const n = cap.readUInt32BE(i + 1);
    const chunk = cap.subarray(i + 5, i + 5 + n);
    if (dir === 0x63) a.fromClient(chunk);
    else a.fromServer(chunk);
    i += 5 + n;
  }
}

async function captureRealSession(work: string): Promise<{ capture: Buffer; remote: string }> {
  const remote = join(work, 'remote');
  await mkdir(remote);
  const payload = Buffer.alloc(100_000);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
  await writeFile(join(work, 'upload.bin'), payload);
  const capture = join(work, 'capture.bin');
  const tee = join(work, 'tee.mjs');
  await writeFile(tee, teeScript(capture));
  await chmod(tee, 0o755);
  const batch = [
    `put ${work}/upload.bin ${remote}/a.bin`,
    `get ${remote}/a.bin ${work}/download.bin`,
    `mkdir ${remote}/d`,
    `rename ${remote}/a.bin ${remote}/d/b.bin`,
    `chmod 600 ${remote}/d/b.bin`,
    `symlink ${remote}/d/b.bin ${remote}/d/link`,
    `-rm ${remote}/missing.txt`,
    `rm ${remote}/d/link`,
    `rm ${remote}/d/b.bin`,
    `rmdir ${remote}/d`,
    `put -p ${work}/upload.bin ${remote}/p.bin`,
  ].join('\n');
  await writeFile(join(work, 'batch'), `${batch}\n`);
  const r = spawnSync('sftp', ['-D', tee, '-b', join(work, 'batch')], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(await readFile(join(work, 'download.bin'))).toEqual(payload);
  return { capture: await readFile(capture), remote };
}

describe('SftpAuditor on real OpenSSH sftp traffic', () => {
  it.skipIf(!hasSftp)('turns put/get/mkdir/rename/chmod/symlink/rm/rmdir into events with paths and sizes', async () => {
    const { dir: work, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const { capture, remote } = await captureRealSession(work);
    const events: SftpAuditEvent[] = [];
    const a = new SftpAuditor((e) => events.push(e));
    replayCapture(capture, a);
    a.end();
    const ops = events.map((e) => e.op);
    expect(ops[0]).toBe('version');
    expect(events[0]?.version).toBe(3);
    const opens = events.filter((e) => e.op === 'open');
    expect(opens[0]).toMatchObject({ path: `${remote}/a.bin`, result: 'ok' });
    expect(opens[0]?.flags).toEqual(expect.arrayContaining(['write', 'creat', 'trunc']));
    expect(opens[1]).toMatchObject({ path: `${remote}/a.bin`, flags: ['read'], result: 'ok' });
    const closes = events.filter((e) => e.op === 'close');
    expect(closes[0]).toMatchObject({ path: `${remote}/a.bin`, bytesWritten: 100_000, bytesRead: 0, result: 'ok' });
    expect(closes[1]).toMatchObject({ path: `${remote}/a.bin`, bytesRead: 100_000, bytesWritten: 0, result: 'ok' });
    expect(events.find((e) => e.op === 'mkdir')).toMatchObject({ path: `${remote}/d`, result: 'ok' });
    expect(events.find((e) => e.op === 'rename')).toMatchObject({ path: `${remote}/a.bin`, target: `${remote}/d/b.bin`, result: 'ok' });
    expect(events.find((e) => e.op === 'setstat')).toMatchObject({ path: `${remote}/d/b.bin`, attrs: { permissions: '0600' }, result: 'ok' });
    expect(events.find((e) => e.op === 'symlink')).toMatchObject({ path: `${remote}/d/link`, target: `${remote}/d/b.bin`, result: 'ok' });
    const removes = events.filter((e) => e.op === 'remove');
    expect(removes[0]).toMatchObject({ path: `${remote}/missing.txt`, result: { code: 2, name: 'no-such-file' } });
    expect(removes.slice(1).map((e) => [e.path, e.result])).toEqual([
      [`${remote}/d/link`, 'ok'],
      [`${remote}/d/b.bin`, 'ok'],
    ]);
    expect(events.find((e) => e.op === 'rmdir')).toMatchObject({ path: `${remote}/d`, result: 'ok' });
    // put -p preserves mode and times on the open handle: FSETSTAT, named by the handle's path
    expect(events.find((e) => e.op === 'fsetstat')).toMatchObject({ path: `${remote}/p.bin`, result: 'ok' });
    expect(events.find((e) => e.op === 'fsetstat')?.attrs?.mtime).toBeGreaterThan(0);
    expect(a.totals.bytesWritten).toBe(200_000);
    expect(a.totals.bytesRead).toBe(100_000);
    // Feeding the same capture one byte at a time gives the same events (streaming parser).
    const bytewise: SftpAuditEvent[] = [];
    const b = new SftpAuditor((e) => bytewise.push(e));
    let i = 0;
    while (i + 5 <= capture.length) {
      const n = capture.readUInt32BE(i + 1);
      const chunk = capture.subarray(i + 5, i + 5 + n);
      for (const byte of chunk) (capture[i] === 0x63 ? b.fromClient : b.fromServer).call(b, Uint8Array.of(byte));
      i += 5 + n;
    }
    b.end();
    expect(bytewise).toEqual(events);
  });
  if (!hasSftp) it.skip('real sftp traffic needs the Debian packages openssh-client and openssh-sftp-server', () => undefined);

  it.skipIf(!hasSftp)("writes the events to the session's audit.jsonl", async () => {
    const { dir: work, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const { capture, remote } = await captureRealSession(work);
    const { rec } = await openTestSession(join(work, 'rec'));
    const s = rec.openSftp();
    let i = 0;
    while (i + 5 <= capture.length) {
      const n = capture.readUInt32BE(i + 1);
      const chunk = capture.subarray(i + 5, i + 5 + n);
      if (capture[i] === 0x63) s.fromClient(chunk);
      else s.fromServer(chunk);
      i += 5 + n;
    }
    s.setExitStatus(0);
    s.close();
    const index = await rec.finish();
    const lines = (await readFile(join(rec.dir, 'audit.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const put = lines.find((l) => l['op'] === 'close' && l['bytesWritten'] === 100_000);
    expect(put).toMatchObject({ type: 'sftp', channel: s.channel, path: `${remote}/a.bin`, session: index.sessionId });
    expect(lines.filter((l) => l['type'] === 'sftp').length).toBeGreaterThan(8);
    expect(index.channels[0]).toMatchObject({ kind: 'subsystem', subsystem: 'sftp', exitStatus: 0 });
    expect(index.channels[0]?.bytesIn).toBeGreaterThan(100_000);
  });
});

describe('SftpAuditor robustness', () => {
  function packet(type: number, body: (w: SshWriter) => void): Uint8Array {
    const w = new SshWriter();
    w.byte(type);
    body(w);
    const payload = w.finish();
    const out = new SshWriter();
    out.uint32(payload.length);
    out.raw(payload);
    return out.finish();
  }

  it('stops on an oversized length with one desync event and no buffering', () => {
    const events: SftpAuditEvent[] = [];
    const a = new SftpAuditor((e) => events.push(e), { maxPacket: 1024 });
    a.fromClient(Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 3));
    a.fromClient(new Uint8Array(10_000));
    expect(events).toEqual([expect.objectContaining({ op: 'desync', direction: 'client' })]);
  });

  it('reports a malformed request and keeps parsing the next one', () => {
    const events: SftpAuditEvent[] = [];
    const a = new SftpAuditor((e) => events.push(e));
    a.fromClient(packet(13, (w) => w.uint32(1))); // REMOVE without a path
    a.fromClient(packet(13, (w) => {
      w.uint32(2);
      w.string('/tmp/x');
    }));
    a.fromServer(packet(101, (w) => {
      w.uint32(2);
      w.uint32(0);
      w.string('');
      w.string('');
    }));
    expect(events.map((e) => e.op)).toEqual(['malformed', 'remove']);
    expect(events[1]).toMatchObject({ path: '/tmp/x', result: 'ok' });
  });

  it('reports requests without a response as no-response at the end', () => {
    const events: SftpAuditEvent[] = [];
    const a = new SftpAuditor((e) => events.push(e));
    a.fromClient(packet(15, (w) => {
      w.uint32(9);
      w.string('/srv/old');
    }));
    a.end();
    expect(events).toEqual([{ type: 'sftp', op: 'rmdir', path: '/srv/old', result: 'no-response' }]);
  });

  it('bounds pending requests', () => {
    const a = new SftpAuditor(() => undefined, { maxPending: 16 });
    for (let id = 0; id < 100; id++) a.fromClient(packet(17, (w) => {
      w.uint32(id);
      w.string('/');
    }));
    expect(a.totals.evictedRequests).toBe(84);
  });

  it('survives random and mutated input (fuzz)', async () => {
    let seed = 1234567;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    const samples: Uint8Array[] = [
      packet(3, (w) => {
        w.uint32(1);
        w.string('/etc/passwd');
        w.uint32(0x1a);
        w.uint32(0x4);
        w.uint32(0o644);
      }),
      packet(6, (w) => {
        w.uint32(2);
        w.string('h1');
        w.uint64(0n);
        w.string('data');
      }),
      packet(102, (w) => {
        w.uint32(1);
        w.string('h1');
      }),
      packet(101, (w) => {
        w.uint32(2);
        w.uint32(4);
        w.string('fail');
        w.string('');
      }),
    ];
    const start = Date.now();
    let iterations = 0;
    while (iterations < 3000 && Date.now() - start < 3000) {
      iterations++;
      const a = new SftpAuditor(() => undefined, { maxPacket: 64 * 1024 });
      for (let k = 0; k < 8; k++) {
        let chunk: Uint8Array;
        if (rnd() < 0.3) {
          chunk = new Uint8Array(Math.floor(rnd() * 64));
          for (let i = 0; i < chunk.length; i++) chunk[i] = Math.floor(rnd() * 256);
        } else {
          chunk = Uint8Array.from(samples[Math.floor(rnd() * samples.length)] ?? []);
          for (let m = 0; m < 3; m++) if (chunk.length > 0) chunk[Math.floor(rnd() * chunk.length)] = Math.floor(rnd() * 256);
        }
        if (rnd() < 0.5) a.fromClient(chunk);
        else a.fromServer(chunk);
      }
      a.end();
    }
    expect(iterations).toBeGreaterThan(100);
  });
});
