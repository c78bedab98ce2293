/**
 * gatehouse sessions / watch / kill against the real gateway (test/gateway/harness.ts: real
 * startServe + startGateway, a real sshd target, OpenSSH `ssh -J` as the client).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKill } from '../../src/cli/kill.js';
import { runSessions, type SessionSummary } from '../../src/cli/sessions.js';
import { runWatch } from '../../src/cli/watch.js';
import { startTestGateway, type TestGateway } from '../gateway/harness.js';
import { captureCliIo } from '../support/index.js';

const hasTools = spawnSync('ssh', ['-V']).status === 0 && spawnSync('/usr/sbin/sshd', ['-V']).status !== null;
if (!hasTools) console.warn('skipping: ssh/sshd missing (Debian packages openssh-client, openssh-server)');

describe.skipIf(!hasTools)('sessions, watch and kill against the real gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
  });

  it('lists an ssh -J session, watches its output and kills it', async () => {
    const args = ['--admin', gw.adminUrl, '--state-dir', gw.config.stateDir];
    const child = gw.spawnSsh(['-J', `alice@127.0.0.1:${gw.port}`, 'root@db1', 'echo watch-me-$((6*7)); sleep 60']);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let sessions: SessionSummary[] = [];
    for (let i = 0; i < 200 && sessions.length === 0; i++) {
      const t = captureCliIo();
      expect(await runSessions([...args, '--json'], t.io), t.c.err).toBe(0);
      sessions = (JSON.parse(t.c.out) as { sessions: SessionSummary[] }).sessions;
      if (sessions.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(sessions).toHaveLength(1);
    const s = sessions[0];
    if (!s) throw new Error('no session');
    expect(s.user).toBe('alice');
    expect(s.login).toBe('root');

    const table = captureCliIo();
    expect(await runSessions(args, table.io)).toBe(0);
    expect(table.c.out).toContain(s.id);

    const w = captureCliIo();
    const watching = runWatch([s.id, ...args], w.io);
    // The output was printed before the watch began: it arrives through the catch-up tail.
    for (let i = 0; i < 200 && !w.c.out.includes('watch-me-42'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(w.c.out).toContain('watch-me-42');

    const k = captureCliIo();
    expect(await runKill([s.id, ...args], k.io), k.c.err).toBe(0);
    expect(k.c.out).toBe(`ended session ${s.id}\n`);
    expect(await watching).toBe(0);
    expect(w.c.err).toContain('ended]');
    expect(await exited).not.toBe(0);

    const after = captureCliIo();
    expect(await runSessions(args, after.io)).toBe(0);
    expect(after.c.out).toBe('no live sessions\n');
  }, 60_000);
});
