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
});
