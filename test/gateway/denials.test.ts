/**
 * Refusals through the gateway, each with a message the user sees on ssh's stderr and an audit
 * event in the gateway's log: unknown key, login not allowed, unknown target, action not allowed,
 * and a target whose host key does not match the policy. Also: the target sees a certificate
 * login whose key id names the gateway user and the session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, makeTempDir, requireBinaries, waitFor } from '../support/index.js';
import { startTestGateway, type TestGateway, userStderr } from './harness.js';

const need = requireBinaries('ssh', 'sshd', 'ssh-keygen', 'sftp');

describe.skipIf(need.skip)(`denials through the gateway${need.reason}`, () => {
  let gw: TestGateway;
  let jump: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    jump = `alice@127.0.0.1:${gw.port}`;
    // db2 is the same sshd, pinned to a host key it does not have (as if its key had changed).
    const from = gw.logs.length;
    gw.writePolicy(
      gw.policyYaml.replace(
        'rules:',
        `  - name: db2
    address: 127.0.0.1
    port: ${gw.sshd.port}
    hostKeys: ["${gw.alice.publicLine}"]
    labels: { env: prod }
rules:`,
      ),
    );
    await waitFor(async () => gw.logs.slice(from).some((l) => l.audit === 'policy.reload' && l.result === 'applied') || undefined, 'reload', 10_000);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  const since = (from: number) => gw.logs.slice(from);
  // ssh prints channel-open failures and banners at its default LogLevel (INFO); the harness
  // config says ERROR for quiet tests, so these tests put INFO back as a user would have it.
  const ssh = (args: readonly string[], o: Parameters<TestGateway['ssh']>[1] = {}) => gw.ssh(args, { ...o, extra: ['LogLevel INFO'] });

  it('refuses an unknown key and logs the failed authentication', async () => {
    const mallory = await generateKey(makeTempDir('gatehouse-mallory-'), 'mallory', 'ed25519');
    const from = gw.logs.length;
    const r = await ssh(['-J', `mallory@127.0.0.1:${gw.port}`, 'root@db1', 'true'], { identity: mallory });
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Permission denied \(publickey/);
    await waitFor(async () => since(from).find((l) => l.audit === 'auth.result' && l.result === 'failure' && l.user === 'mallory'), 'auth failure event');
  });

  it('refuses a login the rules do not allow, saying so', async () => {
    const from = gw.logs.length;
    const r = await ssh(['-J', jump, 'postgres@db1', 'true']);
    expect(r.code).toBe(255);
    expect(userStderr(r.stderr).join('\n')).toMatch(/gatehouse: .*postgres@db1.*denied|denied.*postgres/i);
    await waitFor(async () => since(from).find((l) => l.audit === 'policy.decision' && l.result === 'deny' && l.login === 'postgres'), 'deny event');
  });

  it('refuses a target that is not in the inventory, saying so', async () => {
    const from = gw.logs.length;
    const r = await ssh(['-J', jump, 'root@db9', 'true']);
    expect(r.code).toBe(255);
    expect(userStderr(r.stderr).join('\n')).toMatch(/db9/);
    await waitFor(async () => since(from).find((l) => (l.audit === 'policy.decision' && l.result === 'deny') || (l.audit === 'channel.denied')), 'deny event');
  });

  it('lets bob exec but not open a shell or sftp, saying so', async () => {
    const ok = await ssh(['-J', `bob@127.0.0.1:${gw.port}`, 'root@db1', 'echo bob-ok'], { identity: gw.bob });
    expect(ok.stdout).toBe("bob-ok\n");
    const from = gw.logs.length;
    const shell = await ssh(['-J', `bob@127.0.0.1:${gw.port}`, '-tt', 'root@db1'], { identity: gw.bob, input: 'echo should-not-run\nexit\n' });
    expect(shell.code).not.toBe(0);
    expect(shell.stdout).not.toContain('should-not-run');
    expect(userStderr(shell.stderr).join('\n')).toMatch(/gatehouse: denied/);
    await waitFor(async () => since(from).find((l) => l.audit === 'policy.decision' && l.result === 'deny' && l.user === 'bob' && l.action === 'shell'), 'shell deny');
    const from2 = gw.logs.length;
    const sftp = await ssh(['-J', `bob@127.0.0.1:${gw.port}`, '-b', '/dev/null', 'root@db1'], { identity: gw.bob, tool: 'sftp' });
    expect(sftp.code).not.toBe(0);
    expect(userStderr(sftp.stderr).join('\n')).toMatch(/gatehouse: denied/);
    await waitFor(async () => since(from2).find((l) => l.audit === 'policy.decision' && l.result === 'deny' && l.user === 'bob' && l.action === 'sftp'), 'sftp deny');
  });

  it('refuses a target whose host key does not match the policy, saying so', async () => {
    const from = gw.logs.length;
    const r = await ssh(['-J', jump, 'root@db2', 'echo reached']);
    expect(r.stdout).toBe('');
    expect(r.code).not.toBe(0);
    expect(userStderr(r.stderr).join('\n')).toMatch(/host key/i);
    await waitFor(async () => since(from).find((l) => l.audit === 'target.dial' && l.ok === false && l.target === 'db2'), 'failed dial event');
  });

  it('logs into the target with a certificate whose key id names the gateway user and session', async () => {
    const from = gw.logs.length;
    const r = await ssh(['-J', jump, 'root@db1', 'true']);
    expect(r.code).toBe(0);
    const [id] = gw.sessionIds(from);
    expect(id).toBeDefined();
    const line = await waitFor(async () => gw.sshd.logs().split('\n').find((l) => l.includes(`gatehouse:alice:${id}`)), 'sshd key id line');
    expect(line).toMatch(/Accepted certificate ID "gatehouse:alice:/);
  });
});
