/**
 * `gatehouse serve --workers 2` against real OpenSSH: the primary runs in this process
 * (startClusterServe), its two workers are real node:cluster children running the transpiled
 * worker program, and the target is a real sshd (test/gateway/harness.ts provides sshd, keys,
 * policy and the ssh_config; its single-process gateway is closed and the cluster takes over
 * the same ports and directories).
 *
 * Proves: sessions land on both workers (worker id in the session list), list / watch / kill
 * work for a session on either worker, /metrics sums both workers, a policy reload reaches
 * both, recordings from both verify, a worker killed with SIGKILL is logged and replaced and
 * its open recording sealed, and stop drains every worker.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKill } from '../../src/cli/kill.js';
import { runWatch } from '../../src/cli/watch.js';
import type { ClusterServeHandle } from '../../src/cluster/primary.js';
import type { SessionSummary } from '../../src/gateway/session-routes.js';
import { loadGatewayState } from '../../src/gateway/state.js';
import { readSessionIndex, verify } from '../../src/recording/index.js';
import { startTestGateway, type TestGateway, userStderr } from '../gateway/harness.js';
import { captureCliIo, requireBinaries, waitFor } from '../support/index.js';
import { startTestCluster, type TestCluster } from './support.js';

const need = requireBinaries('ssh', 'sshd', 'ssh-keygen');

interface Live {
  readonly child: ChildProcess;
  readonly tag: string;
  out: string;
  err: string;
  readonly exited: Promise<number | null>;
}

/** The sum of a metric's series (one series for unlabelled metrics); undefined if absent. */
function metric(text: string, name: string): number | undefined {
  const values = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((m) => Number(m[1]));
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(need.skip)(`serve --workers 2 with real ssh${need.reason}`, () => {
  let gw: TestGateway;
  let tc: TestCluster;
  let cluster: ClusterServeHandle;
  let logs: Record<string, unknown>[] = [];
  const lives: Live[] = [];
  let jump = '';
  let adminArgs: readonly string[] = [];
  /** Which listed session each ssh child is. */
  const matched = new Map<Live, string>();

  beforeAll(async () => {
    gw = await startTestGateway();
    // The cluster takes over the harness's ports, state, policy and recordings.
    tc = await startTestCluster(gw);
    ({ cluster, logs, adminArgs } = tc);
    jump = `alice@127.0.0.1:${gw.port}`;
  }, 120_000);

  afterAll(async () => {
    for (const l of lives) if (l.child.exitCode === null) l.child.kill('SIGKILL');
    await tc?.close();
    await gw?.stop();
  });

  const listSessions = () => tc.listSessions();

  /** An ssh -J session printing `<tag>-42` then running `then`, listed by the gateway. */
  async function startLive(tag: string, then = 'sleep 60'): Promise<{ live: Live; session: SessionSummary }> {
    const child = gw.spawnSsh(['-o', 'LogLevel=INFO', '-J', jump, 'root@db1', `echo ${tag}-$((6*7)); ${then}`]);
    const live: Live = { child, tag, out: '', err: '', exited: new Promise((r) => child.once('exit', (code) => r(code))) };
    child.stdout?.on('data', (c: Buffer) => {
      live.out += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      live.err += c.toString();
    });
    lives.push(live);
    await waitFor(async () => (live.out.includes(`${tag}-42`) ? true : undefined), `output of ${tag}`, 20_000);
    // The newest session not yet matched to another Live is this one.
    const session = await waitFor(async () => {
      const taken = new Set(matched.values());
      return (await listSessions()).find((s) => !taken.has(s.id));
    }, `${tag} in the session list`);
    matched.set(live, session.id);
    return { live, session };
  }

  /** Sessions until both workers hold one (round-robin makes it two; at most four tries). */
  async function oneOnEachWorker(prefix: string): Promise<{ live: Live; session: SessionSummary }[]> {
    const got: { live: Live; session: SessionSummary }[] = [];
    for (let i = 0; i < 4 && new Set(got.map((g) => g.session.worker)).size < 2; i++) got.push(await startLive(`${prefix}${i}`));
    const byWorker = new Map(got.map((g) => [g.session.worker, g]));
    expect([...byWorker.keys()].filter((w) => w !== undefined)).toHaveLength(2);
    return [...byWorker.values()];
  }

  it('spreads sessions over both workers; list, watch and kill reach each; /metrics sums both', async () => {
    const pair = await oneOnEachWorker('spread');
    const workerIds = cluster.workers().map((w) => w.id);
    for (const { session } of pair) {
      expect(workerIds).toContain(session.worker);
      expect(cluster.workers().find((w) => w.id === session.worker)?.pid).toBe(session.pid);
      expect(session.user).toBe('alice');
      // Connection ids carry the worker, so audit records of two workers never share one.
      const start = await waitFor(async () => logs.find((l) => l.audit === 'session.start' && l.sessionId === session.id), 'the worker’s session.start line');
      expect(String(start.connectionId)).toMatch(new RegExp(`^w${session.worker}-c\\d+$`));
    }

    // Each worker has one live session: the sum says 2 (more if a try landed twice on one).
    const liveCount = lives.filter((l) => l.child.exitCode === null).length;
    const text = await (await fetch(`${cluster.admin.url()}/metrics`)).text();
    expect(metric(text, 'gatehouse_active_sessions')).toBe(liveCount);
    expect(metric(text, 'gatehouse_workers')).toBe(2);
    expect(metric(text, 'gatehouse_connections_total')).toBeGreaterThanOrEqual(liveCount);
    expect(metric(text, 'gatehouse_relayed_bytes_total')).toBeGreaterThan(0);
    // The policy was loaded once per process; the aggregate reports it once.
    expect(text).toMatch(/^gatehouse_policy_reloads_total\{result="applied"\} 1$/m);

    for (const { live, session } of pair) {
      const w = captureCliIo();
      const watching = runWatch([session.id, ...adminArgs], w.io);
      // Printed before the watch began: it arrives through the catch-up tail, from the worker.
      await waitFor(async () => (w.c.out.includes(`${live.tag}-42`) ? true : undefined), `watch of ${live.tag} on worker ${session.worker}`);
      const k = captureCliIo();
      expect(await runKill([session.id, ...adminArgs], k.io), k.c.err).toBe(0);
      expect(k.c.out).toBe(`ended session ${session.id}\n`);
      expect(await watching).toBe(0);
      expect(w.c.err).toContain('ended]');
      expect(await live.exited).not.toBe(0);
      expect(userStderr(live.err).join('\n')).toMatch(/ended by an administrator/);
    }
    const left = await listSessions();
    for (const { session } of pair) expect(left.map((s) => s.id)).not.toContain(session.id);
    const missing = captureCliIo();
    expect(await runKill([pair[0]?.session.id ?? '', ...adminArgs], missing.io)).toBe(1);

    // Recordings of both workers, in the one directory, verify.
    const state = await loadGatewayState(gw.config.stateDir);
    for (const { session, live } of pair) {
      const index = await waitFor(async () => {
        const i = await readSessionIndex(session.recording);
        return i.state === 'closed' ? i : undefined;
      }, 'the recording to be sealed');
      expect(index.state).toBe('closed');
      const report = await verify(session.recording, state.recordingKey);
      expect(report.sessions.flatMap((s) => s.problems)).toEqual([]);
      const cast = readFileSync(join(session.recording, readdirCast(session.recording)), 'utf8');
      expect(cast).toContain(`${live.tag}-42`);
    }
  }, 120_000);

  it('drops a viewer that does not read, at the worker, without buffering in the primary', async () => {
    const bytes = 16_000_000;
    const { session, live } = await startLive('flood', `read go; head -c ${bytes} /dev/zero | base64; sleep 60`);
    const token = readFileSync(join(gw.config.stateDir, 'admin.token'), 'utf8').trim();
    const res = await fetch(`${cluster.admin.url()}/api/sessions/${session.id}/watch`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    // The viewer reads nothing while the session prints ~21 MB: the primary grants no credit,
    // the worker's bounded subscription overflows, and the viewer is told it was dropped.
    live.child.stdin?.write('go\n');
    const printed = Math.ceil(bytes / 3) * 4;
    await waitFor(async () => (live.out.length >= printed ? true : undefined), 'the flood to reach the client', 60_000, 200);
    const types = (await res.text())
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types.at(-1)).toBe('dropped');
    // Far fewer messages than the output held: the rest never left the worker.
    expect(types.length).toBeLessThan(1000);
    live.child.kill('SIGKILL');
    await live.exited;
  }, 120_000);

  it('applies a policy edit in every worker: removing alice ends her sessions on both', async () => {
    const pair = await oneOnEachWorker('reload');
    const from = logs.length;
    gw.writePolicy(gw.policyYaml.replace(/ {2}- name: alice\n(?: {4}.*\n)+/, ''));
    try {
      for (const { live } of pair) {
        expect(await live.exited).not.toBe(0);
        expect(userStderr(live.err).join('\n')).toMatch(/access revoked: user alice is not in the policy/);
      }
      // Worker log lines travel through a pipe to the primary: they may trail the client's exit.
      const holders = new Set(pair.map((p) => p.session.worker));
      const revokedBy = await waitFor(async () => {
        const seen = new Set(logs.slice(from).filter((l) => l.audit === 'session.revoked').map((l) => l.worker));
        return [...holders].every((w) => seen.has(w)) ? seen : undefined;
      }, 'both workers to log the revocation');
      expect(revokedBy).toEqual(holders);
    } finally {
      const again = logs.length;
      gw.writePolicy(gw.policyYaml);
      await waitFor(
        async () => {
          const applied = new Set(logs.slice(again).filter((l) => l.audit === 'policy.reload' && l.result === 'applied').map((l) => l.worker ?? 'primary'));
          return applied.size === 3 ? true : undefined;
        },
        'the restored policy in the primary and both workers',
        15_000,
      );
      // SIGHUP (serve's handler calls reloadFromSignal) reaches the workers too.
      const hup = logs.length;
      cluster.policy.reloadFromSignal();
      await waitFor(
        async () => {
          const seen = new Set(logs.slice(hup).filter((l) => l.audit === 'policy.reload' && l.trigger === 'sighup').map((l) => l.worker ?? 'primary'));
          return seen.size === 3 ? true : undefined;
        },
        'the SIGHUP reload in the primary and both workers',
      );
    }
  }, 120_000);

  it('replaces a worker killed with SIGKILL, seals its open recording, and serves on', async () => {
    const pair = await oneOnEachWorker('crash');
    const victim = pair[0];
    if (!victim?.session.pid || victim.session.worker === undefined) throw new Error('no session with a worker pid');
    const from = logs.length;
    process.kill(victim.session.pid, 'SIGKILL');
    expect(await victim.live.exited).not.toBe(0);
    const died = await waitFor(async () => logs.slice(from).find((l) => l.msg === 'worker died; replacing it'), 'the death to be logged', 15_000);
    expect(died).toMatchObject({ level: 'error', worker: victim.session.worker, signal: 'SIGKILL' });
    expect(died['liveSessions']).toBeGreaterThanOrEqual(1);
    const workers = await waitFor(async () => {
      const w = cluster.workers();
      return w.length === 2 && !w.some((x) => x.id === victim.session.worker) ? w : undefined;
    }, 'a replacement worker', 30_000);
    expect(workers.map((w) => w.pid)).not.toContain(victim.session.pid);
    const index = await waitFor(async () => {
      const i = await readSessionIndex(victim.session.recording);
      return i.state === 'interrupted' ? i : undefined;
    }, 'the dead worker’s recording to be sealed');
    expect(index.state).toBe('interrupted');
    const text = await (await fetch(`${cluster.admin.url()}/metrics`)).text();
    expect(metric(text, 'gatehouse_worker_restarts_total')).toBe(1);
    // The survivor's session is untouched; new sessions land on both workers, the new one included.
    expect(pair[1]?.live.child.exitCode).toBeNull();
    const replacement = workers.find((w) => w.id !== pair[1]?.session.worker);
    const after = await oneOnEachWorker('after');
    expect(after.map((a) => a.session.worker)).toContain(replacement?.id);
  }, 120_000);

  it('drains every worker on stop: sessions end, recordings are sealed, workers exit', async () => {
    const pair = await oneOnEachWorker('drain');
    const pids = cluster.workers().map((w) => w.pid ?? 0);
    await cluster.close();
    for (const { live, session } of pair) {
      expect(await live.exited).not.toBe(0);
      // The inner and the outer DISCONNECT both say why (ssh -J prints whichever it reads first).
      expect(userStderr(live.err).join('\n')).toMatch(/shutting down/);
      expect(userStderr(live.err).join('\n')).not.toMatch(/closed by application/);
      expect((await readSessionIndex(session.recording)).state).toBe('closed');
    }
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    await waitFor(async () => (logs.filter((l) => l.msg === 'worker drained').length >= 2 ? true : undefined), 'both workers to log the drain');
  }, 120_000);
});

function readdirCast(dir: string): string {
  const f = readdirSync(dir).find((n) => n.endsWith('.cast'));
  if (!f) throw new Error(`no .cast in ${dir}`);
  return f;
}
