import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinaries } from '../support/index.js';
import { startTestGateway, type TestGateway } from './harness.js';

const need = requireBinaries('ssh', 'sshd', 'ssh-keygen');

describe.skipIf(need.skip)(`ssh -J through the gateway${need.reason}`, () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('runs a command on the target with its exit status, trusting only the host CA', async () => {
    const r = await gw.ssh(['-J', `alice@127.0.0.1:${gw.port}`, 'root@db1', 'echo hello from $(whoami); exit 3']);
    // The test sshd logs at DEBUG3 and echoes debug1 lines to the client; nothing else may appear.
    expect(r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('debug1:'))).toEqual([]);
    expect(r.stdout).toBe('hello from root\n');
    expect(r.code).toBe(3);
  });

  it('delivers stdin sent before the target is ready', async () => {
    const r = await gw.ssh(['-J', `alice@127.0.0.1:${gw.port}`, 'root@db1', 'cat'], { input: 'hi\n' });
    expect(r.stdout).toBe('hi\n');
    expect(r.code).toBe(0);
  });

  it('routes login@target as the user name', async () => {
    const r = await gw.ssh(['-p', String(gw.port), 'root@db1@127.0.0.1', 'echo routed']);
    expect(r.stdout).toBe('routed\n');
    expect(r.code).toBe(0);
  });

  // A client slow to read its stderr: the relay pauses the target's stderr on a full client
  // window, and the target's CLOSE arrives while bytes still wait. Every byte of both streams
  // must arrive, and the exit status with them.
  it.each([
    ['ssh -J', (port: number) => ['-J', `alice@127.0.0.1:${port}`, 'root@db1']],
    ['login@target', (port: number) => ['-p', String(port), 'root@db1@127.0.0.1']],
  ])('relays every byte of stdout and stderr and then the exit status (%s, stderr read slowly)', async (_name, dest) => {
    const child = gw.spawnSsh([...dest(gw.port), 'head -c 3145728 /dev/zero; head -c 6291456 /dev/zero >&2; exit 7']);
    const nulBytes = (chunks: Buffer[]): number => chunks.reduce((a, c) => a + c.filter((b) => b === 0).length, 0);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    // read stderr in bursts of 256 KiB with 40 ms pauses, to the end
    let burst = 0;
    child.stderr?.on('data', (c: Buffer) => {
      err.push(c);
      burst += c.length;
      if (burst < 256 * 1024) return;
      burst = 0;
      child.stderr?.pause();
      setTimeout(() => child.stderr?.resume(), 40);
    });
    const code = await new Promise<number | null>((r) => child.once('close', (c: number | null) => r(c)));
    expect({ code, stdout: nulBytes(out), stderr: nulBytes(err) }).toEqual({ code: 7, stdout: 3145728, stderr: 6291456 });
  });
});
