/**
 * File transfer and port forwarding through `ssh -J`: scp and sftp (the sftp subsystem relayed
 * and parsed into audit events) with checksums, and `-L` to an inventory target's TCP port with
 * its byte counts in the session's audit.jsonl.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, makeTempDir, requireBinaries, stopChild, waitFor } from '../support/index.js';
import { startTestGateway, type TestGateway, userStderr } from './harness.js';

const need = requireBinaries('ssh', 'sshd', 'ssh-keygen', 'scp', 'sftp');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe.skipIf(need.skip)(`file transfer and forwarding through ssh -J${need.reason}`, () => {
  let gw: TestGateway;
  let echo: Server;
  let echoPort: number;
  const work = makeTempDir('gatehouse-xfer-');
  beforeAll(async () => {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const a = echo.address();
    echoPort = typeof a === 'object' && a ? a.port : 0;
    gw = await startTestGateway();
    // The echo server is an inventory target too, so -L through db1 may reach it.
    gw.writePolicy(
      gw.policyYaml.replace(
        'rules:',
        `  - name: echo
    address: 127.0.0.1
    port: ${echoPort}
    hostKeys: ["${gw.sshd.hostKeys[0] ?? ''}"]
    labels: { env: prod }
rules:`,
      ),
    );
    await waitFor(async () => gw.logs.some((l) => l.audit === 'policy.reload' && l.result === 'applied') || undefined, 'policy reload', 10_000);
  });
  afterAll(async () => {
    await gw?.stop();
    await new Promise<void>((r) => echo?.close(() => r()));
  });

  it('copies a file both ways with scp -J, checksums equal, recorded as SFTP', async () => {
    const data = randomBytes(300_000);
    const src = join(work, 'up.bin');
    writeFileSync(src, data);
    const remote = join(work, 'remote-scp.bin');
    const before = gw.logs.length;
    const up = await gw.ssh(['-J', `alice@127.0.0.1:${gw.port}`, src, `root@db1:${remote}`], { tool: 'scp' });
    expect(userStderr(up.stderr)).toEqual([]);
    expect(up.code).toBe(0);
    expect(sha(readFileSync(remote))).toBe(sha(data));
    const back = join(work, 'down.bin');
    const down = await gw.ssh(['-J', `alice@127.0.0.1:${gw.port}`, `root@db1:${remote}`, back], { tool: 'scp' });
    expect(down.code).toBe(0);
    expect(sha(readFileSync(back))).toBe(sha(data));
    const ids = gw.sessionIds(before);
    expect(ids.length).toBe(2);
    await waitFor(async () => gw.audit(ids[0] ?? '').some((e) => e.type === 'session.end') || undefined, 'session end', 10_000);
    const events = gw.audit(ids[0] ?? '');
    const close = events.find((e) => e.type === 'sftp' && e.op === 'close' && e.path === remote);
    expect(close?.bytesWritten).toBe(data.length);
  });

  it('puts, gets and removes with sftp -J: audit events with paths and sizes', async () => {
    const data = randomBytes(123_457);
    const local = join(work, 'sftp-up.bin');
    writeFileSync(local, data);
    const remote = join(work, 'remote-sftp.bin');
    const got = join(work, 'sftp-down.bin');
    const batch = join(work, 'batch');
    writeFileSync(batch, `put ${local} ${remote}\nget ${remote} ${got}\nrm ${remote}\n`);
    const before = gw.logs.length;
    const r = await gw.ssh(['-J', `alice@127.0.0.1:${gw.port}`, '-b', batch, 'root@db1'], { tool: 'sftp' });
    expect(r.code).toBe(0);
    expect(sha(readFileSync(got))).toBe(sha(data));
    expect(existsSync(remote)).toBe(false);
    const [id] = gw.sessionIds(before);
    await waitFor(async () => gw.audit(id ?? '').some((e) => e.type === 'session.end') || undefined, 'session end', 10_000);
    const sftp = gw.audit(id ?? '').filter((e) => e.type === 'sftp');
    const closes = sftp.filter((e) => e.op === 'close' && e.path === remote);
    expect(closes.map((e) => e.bytesWritten ?? 0).reduce((a, b) => Number(a) + Number(b), 0)).toBe(data.length);
    expect(closes.map((e) => e.bytesRead ?? 0).reduce((a, b) => Number(a) + Number(b), 0)).toBe(data.length);
    expect(sftp.some((e) => e.op === 'remove' && e.path === remote && e.result === 'ok')).toBe(true);
  });

  it('forwards -L to a TCP service on the target, with byte counts in the audit', async () => {
    const local = await freePort();
    const before = gw.logs.length;
    const child = gw.spawnSsh(['-N', '-J', `alice@127.0.0.1:${gw.port}`, '-L', `127.0.0.1:${local}:127.0.0.1:${echoPort}`, 'root@db1']);
    try {
      const payload = randomBytes(50_000);
      const echoed = await waitFor(
        () =>
          new Promise<Buffer | undefined>((resolve) => {
            const s = createConnection({ host: '127.0.0.1', port: local });
            const got: Buffer[] = [];
            let n = 0;
            s.on('error', () => resolve(undefined));
            s.on('connect', () => s.write(payload));
            s.on('data', (c: Buffer) => {
              got.push(c);
              n += c.length;
              if (n >= payload.length) s.end();
            });
            s.on('close', () => resolve(n >= payload.length ? Buffer.concat(got) : undefined));
          }),
        'forward to echo',
        15_000,
        200,
      );
      expect(sha(echoed)).toBe(sha(payload));
      const [id] = gw.sessionIds(before);
      const fwd = await waitFor(
        async () => gw.audit(id ?? '').find((e) => e.type === 'forward.close' && e.bytesToTarget === payload.length),
        'forward.close event',
        10_000,
      );
      expect(fwd.bytesToClient).toBe(payload.length);
      expect(fwd.destination).toBe(`127.0.0.1:${echoPort}`);
    } finally {
      await stopChild(child);
    }
  });
});
