/**
 * Policy hot reload against live traffic, the other ways in, and /metrics: a broken edit keeps
 * the old policy, removing a user ends that user's running session with a message, the routing
 * user name form refuses a login the rules do not allow, the menu form (ssh -tt alice@gw in
 * tmux) lists db1 and connects on Enter, and the Prometheus counters move with the traffic.
 */

import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinaries, startPty, waitFor } from '../support/index.js';
import { startTestGateway, type TestGateway, userStderr } from './harness.js';

const need = requireBinaries('ssh', 'sshd', 'ssh-keygen', 'tmux');

/** Sum of a metric's samples whose labels contain every `labels` pair. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const l = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

describe.skipIf(need.skip)(`policy reload, routing and menu forms, metrics${need.reason}`, () => {
  let gw: TestGateway;
  let jump: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    jump = `alice@127.0.0.1:${gw.port}`;
  });
  afterAll(async () => {
    await gw?.stop();
  });

  const metrics = async (): Promise<string> => (await fetch(`${gw.adminUrl}/metrics`)).text();
  const reloaded = (from: number, ...results: string[]) =>
    waitFor(async () => gw.logs.slice(from).find((l) => l.audit === 'policy.reload' && results.includes(String(l.result))), `policy reload ${results.join('|')}`, 10_000);

  it('moves /metrics with the traffic', async () => {
    const before = await metrics();
    const r = await gw.ssh(['-J', jump, 'root@db1', 'head -c 100000 /dev/zero']);
    expect(r.stdout.length).toBe(100_000);
    await gw.ssh(['-J', jump, 'postgres@db1', 'true'], {});
    const after = await waitFor(async () => {
      const m = await metrics();
      return metric(m, 'gatehouse_relayed_bytes_total') - metric(before, 'gatehouse_relayed_bytes_total') >= 100_000 ? m : undefined;
    }, 'relayed bytes to grow');
    expect(metric(after, 'gatehouse_connections_total')).toBeGreaterThanOrEqual(metric(before, 'gatehouse_connections_total') + 2);
    expect(metric(after, 'gatehouse_policy_decisions_total', { result: 'allow' })).toBeGreaterThan(metric(before, 'gatehouse_policy_decisions_total', { result: 'allow' }));
    expect(metric(after, 'gatehouse_policy_decisions_total', { result: 'deny' })).toBeGreaterThan(metric(before, 'gatehouse_policy_decisions_total', { result: 'deny' }));
    // A live session shows in the gauge while it runs.
    const child = gw.spawnSsh(['-J', jump, 'root@db1', 'sleep 20']);
    try {
      await waitFor(async () => (metric(await metrics(), 'gatehouse_active_sessions') >= 1 ? true : undefined), 'active session gauge', 15_000, 200);
    } finally {
      child.kill('SIGTERM');
    }
    await waitFor(async () => (metric(await metrics(), 'gatehouse_active_sessions') === 0 ? true : undefined), 'active sessions back to 0', 15_000, 200);
  });

  it('keeps the old policy when an edit is broken', async () => {
    const from = gw.logs.length;
    gw.writePolicy(`${gw.policyYaml}\nrules: [this is: not valid\n`);
    const rejected = await reloaded(from, 'rejected');
    expect(JSON.stringify(rejected.errors)).toMatch(/test\.yaml/);
    const r = await gw.ssh(['-J', jump, 'root@db1', 'echo still-works']);
    expect(r.stdout).toBe('still-works\n');
    // Restoring the last good content is not a change: the store logs nothing for it.
    gw.writePolicy(gw.policyYaml);
  });

  it("ends alice's live session when she is removed from the policy", async () => {
    const child = gw.spawnSsh(['-o', 'LogLevel=INFO', '-J', jump, 'root@db1', 'echo started; sleep 30; echo not-ended']);
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor(async () => (out.includes('started') ? true : undefined), 'session to start', 15_000);
    const from = gw.logs.length;
    const t0 = Date.now();
    gw.writePolicy(gw.policyYaml.replace(/ {2}- name: alice\n(?: {4}.*\n)+/, ''));
    try {
      const code = await exited;
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(code).not.toBe(0);
      expect(out).not.toContain('not-ended');
      expect(userStderr(err).join('\n')).toMatch(/access revoked: user alice is not in the policy/);
      await waitFor(async () => gw.logs.slice(from).find((l) => l.audit === 'session.revoked' && l.user === 'alice'), 'revocation event');
    } finally {
      const again = gw.logs.length;
      gw.writePolicy(gw.policyYaml);
      await reloaded(again, 'applied');
    }
  });

  it('tells an ssh -J client whose output is backed up why its session ended', async () => {
    // ssh cannot write its stdout (nobody reads it), so it stops reading and the output backs
    // up into the jump channel; the inner connection's DISCONNECT, which names the reason
    // ("Received disconnect …: access revoked …"), queues behind it and must still arrive.
    const child = gw.spawnSsh(['-o', 'LogLevel=INFO', '-J', jump, 'root@db1', 'head -c 33554432 /dev/zero; sleep 30']);
    let err = '';
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.stdout?.pause();
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const from = gw.logs.length;
    await waitFor(async () => (gw.sessionIds(from).length > 0 ? true : undefined), 'session to start', 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    gw.writePolicy(gw.policyYaml.replace(/ {2}- name: alice\n(?: {4}.*\n)+/, ''));
    try {
      await waitFor(async () => gw.logs.slice(from).find((l) => l.audit === 'session.revoked' && l.user === 'alice'), 'revocation event');
      await new Promise((r) => setTimeout(r, 200));
      child.stdout?.resume();
      expect(await exited).not.toBe(0);
      expect(userStderr(err).join('\n')).toMatch(/access revoked: user alice is not in the policy/);
    } finally {
      const again = gw.logs.length;
      gw.writePolicy(gw.policyYaml);
      await reloaded(again, 'applied');
    }
  });

  it('refuses a routing user name whose login is not allowed, saying so', async () => {
    const from = gw.logs.length;
    const r = await gw.ssh(['-p', String(gw.port), 'postgres@db1@127.0.0.1', 'echo no'], { extra: ['LogLevel INFO'] });
    expect(r.stdout).toBe('');
    expect(r.code).toBe(255);
    expect(userStderr(r.stderr).join('\n')).toMatch(/postgres@db1/);
    await waitFor(async () => gw.logs.slice(from).find((l) => l.audit === 'policy.decision' && l.result === 'deny' && l.login === 'postgres'), 'deny event');
  });

  it('offers a menu without a target; Enter connects to db1 and the session is recorded', async () => {
    const from = gw.logs.length;
    const pty = await startPty(`ssh -F ${gw.sshConfig(gw.alice)} -tt -p ${gw.port} alice@127.0.0.1`);
    try {
      await pty.waitForText('root@db1');
      await pty.sendKeys(['Enter']);
      await pty.typeLine('PS1=MENU-PROMPT-; echo via-$((2+3))-menu');
      await pty.waitForText(/^via-5-menu$/m);
      await pty.typeLine('exit');
      await waitFor(async () => ((await pty.isDead()) ? true : undefined), 'ssh to exit', 15_000);
    } finally {
      await pty.stop();
    }
    const [id] = gw.sessionIds(from);
    if (!id) throw new Error('no session');
    await waitFor(async () => gw.audit(id).some((e) => e.type === 'session.end') || undefined, 'session end', 10_000);
    expect(readdirSync(gw.sessionDir(id)).some((f) => f.endsWith('.cast'))).toBe(true);
    expect(gw.audit(id).some((e) => e.type === 'channel.open' && e.pty === true)).toBe(true);
  });
});
