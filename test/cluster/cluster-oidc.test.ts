/**
 * OIDC sign-in with `gatehouse serve --workers 2`: real OpenSSH `ssh -J` (in a tmux pty where
 * keyboard-interactive must be answered), a real sshd, the primary in this process with two
 * real worker children (test/cluster/support.ts), and an in-process oidc-provider.
 *
 * Proves: the device flow runs inside the worker that holds the connection and the user's OIDC
 * groups admit them (recording verifies); the key binding that worker writes to the shared
 * state file admits the same key on the other worker with no second device flow;
 * `gatehouse sessions revoke-key` removes it for both workers, and so does a policy reload
 * that no longer admits the identity (revoked once, by the primary); and `gatehouse login`
 * against the primary's admin listener gives a certificate that either worker accepts.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLogin } from '../../src/cli/login.js';
import { runSessionsRevokeKey } from '../../src/cli/sessions-revoke.js';
import type { SessionSummary } from '../../src/gateway/session-routes.js';
import { loadGatewayState } from '../../src/gateway/state.js';
import { fingerprintSha256 } from '../../src/keys/index.js';
import { parsePublicKeyLine } from '../../src/keys/public-key.js';
import { readSessionIndex, verify } from '../../src/recording/index.js';
import { startTestGateway, type TestGateway } from '../gateway/harness.js';
import { devicePrompt, jumpTo, ptyExited, ptySsh } from '../oidc/support/ssh-sign-in.js';
import { approveDeviceCode, playUser, startTestProvider, TestBrowser, type TestProvider } from '../oidc/support/test-provider.js';
import { captureCliIo, freePort, type GeneratedKey, generateKey, makeTempDir, requireBinaries, waitFor } from '../support/index.js';
import { startTestCluster, type TestCluster } from './support.js';

const need = requireBinaries('ssh', 'sshd', 'ssh-keygen', 'tmux');

/** An ssh -J child whose remote command printed its tag and now waits for a line on stdin. */
interface Live {
  readonly child: ChildProcess;
  out: string;
  err: string;
  readonly exited: Promise<number | null>;
}

describe.skipIf(need.skip)(`OIDC sign-in with serve --workers 2${need.reason}`, () => {
  let provider: TestProvider;
  let gw: TestGateway;
  let tc: TestCluster;
  let carol: GeneratedKey;
  /** user_code of every device authorization the provider handed out. */
  const userCodes: string[] = [];
  const lives: Live[] = [];
  /** Session ids already matched to a connection of this file. */
  const known = new Set<string>();
  /** Worker of carol's device-flow session (test 1), for test 2. */
  let signInWorker: number | undefined;
  const dir = makeTempDir('gatehouse-cluster-oidc-');

  beforeAll(async () => {
    // The web sign-in's redirect URI names the admin port, so it is chosen before the provider starts.
    const adminPort = await freePort();
    const countCodes = async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
      await next();
      const body = ctx.body as Record<string, unknown> | undefined;
      if (ctx.path === '/device/auth' && typeof body?.['user_code'] === 'string') userCodes.push(body['user_code']);
    };
    provider = await startTestProvider({ redirectUris: [`http://127.0.0.1:${adminPort}/login/callback`], middleware: [countCodes] });
    provider.accounts.set('carol', { email: 'carol@example.com', preferred_username: 'carol', groups: ['sre'] });
    provider.accounts.set('hana', { email: 'hana@example.com', preferred_username: 'hana', groups: ['sre'] });
    const secretFile = join(dir, 'client-secret');
    writeFileSync(secretFile, `${provider.clientSecret}\n`, { mode: 0o600 });
    // carol and hana are in no user entry: only their OIDC group sre admits them, to db1.
    gw = await startTestGateway({
      adminPort,
      oidc: {
        issuer: provider.issuer,
        clientId: provider.clientId,
        clientSecretFile: secretFile,
        scopes: ['openid', 'email', 'profile', 'groups'],
        usernameClaim: 'preferred_username',
      },
      rules: `  - name: sre-db1
    oidcGroups: [sre]
    targets: { names: [db1] }
    logins: [root]
    allow: [shell, exec]`,
    });
    // The primary serves the admin listener (and /login) on that same port; workers do the SSH side.
    tc = await startTestCluster(gw);
    expect(tc.cluster.admin.url()).toBe(`http://127.0.0.1:${adminPort}`);
    carol = await generateKey(dir, 'carol', 'ed25519');
  }, 120_000);

  afterAll(async () => {
    for (const l of lives) if (l.child.exitCode === null) l.child.kill('SIGKILL');
    await tc?.close();
    await gw?.stop();
    await provider?.close();
  });

  const logs = () => tc.logs;
  const since = (from: number) => tc.logs.slice(from);
  const workerIds = () => tc.cluster.workers().map((w) => w.id);

  /** This connection's session, once the gateway lists it (the newest not matched before). */
  async function newSession(user: string, what: string): Promise<SessionSummary> {
    const session = await waitFor(async () => (await tc.listSessions()).find((s) => s.user === user && !known.has(s.id)), `${what} in the session list`);
    known.add(session.id);
    expect(workerIds()).toContain(session.worker);
    return session;
  }

  /** A BatchMode ssh -J session printing `<tag>-42` and then waiting for a line; listed. */
  async function startLive(key: GeneratedKey, user: string, tag: string): Promise<{ live: Live; session: SessionSummary }> {
    const child = gw.spawnSsh(['-o', 'LogLevel=INFO', '-J', jumpTo(gw, user), 'root@db1', `echo ${tag}-$((6*7)); read line; echo bye`], { identity: key });
    const live: Live = { child, out: '', err: '', exited: new Promise((r) => child.once('exit', (code) => r(code))) };
    child.stdout?.on('data', (c: Buffer) => {
      live.out += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      live.err += c.toString();
    });
    lives.push(live);
    await waitFor(
      async () => {
        if (live.out.includes(`${tag}-42`)) return true;
        if (child.exitCode !== null) throw new Error(`ssh for ${tag} exited ${child.exitCode}: ${live.err}`);
        return undefined;
      },
      `output of ${tag}`,
      20_000,
    );
    return { live, session: await newSession(user, tag) };
  }

  /** Ends a Live session the way its command expects (one line), cleanly. */
  async function finish(live: Live): Promise<void> {
    live.child.stdin?.end('\n');
    expect(await live.exited, live.err).toBe(0);
    expect(live.out).toContain('bye');
  }

  /** BatchMode connections (at most four) until each worker has refused carol's key once. */
  async function refusedByBothWorkers(): Promise<Set<unknown>> {
    const refusedBy = new Set<unknown>();
    const connections = new Set<unknown>();
    for (let i = 0; i < 4 && refusedBy.size < 2; i++) {
      const from = logs().length;
      const r = await gw.ssh(['-J', jumpTo(gw, 'carol'), 'root@db1', 'echo should-not-run'], { identity: carol });
      expect(r.code).toBe(255);
      expect(r.stdout).not.toContain('should-not-run');
      expect(r.stderr).toMatch(/Permission denied/);
      // Worker log lines reach the primary through a pipe: they may trail the client's exit.
      const refusal = await waitFor(
        async () =>
          since(from).find(
            (l) =>
              l.audit === 'auth.result' &&
              l.method === 'publickey' &&
              l.user === 'carol' &&
              String(l.reason).startsWith('key not bound to a sign-in yet') &&
              !connections.has(l.connectionId),
          ),
        'the refusal of the unbound key in the log',
      );
      connections.add(refusal.connectionId);
      expect(workerIds()).toContain(refusal.worker);
      refusedBy.add(refusal.worker);
    }
    return refusedBy;
  }

  it('a device-flow sign-in through a worker admits the user by OIDC group, and the session is recorded', async () => {
    const from = logs().length;
    const pty = await ptySsh(gw, carol, 'carol', 'root@db1', "'echo via-oidc-$((6*7)); read line; echo done-$((6*7))'");
    let session: SessionSummary;
    try {
      const { tag, url } = await devicePrompt(pty);
      await approveDeviceCode(url, 'carol');
      await pty.sendKeys(['Enter']);
      await pty.waitForText(/^via-oidc-42\s*$/m);
      session = await newSession('carol', 'the device-flow session');
      expect(session.authMethod).toBe('keyboard-interactive');
      signInWorker = session.worker;
      // The remote command waits for a line: the session was live and listed; now it ends cleanly.
      await pty.sendKeys(['Enter']);
      await pty.waitForText(/^done-42\s*$/m);
      expect(await ptyExited(pty)).toBe(0);
      // The worker that holds the connection ran the sign-in, bound the key, and applied the policy.
      const ok = await waitFor(
        async () => since(from).find((l) => l.audit === 'auth.result' && l.method === 'keyboard-interactive' && l.result === 'success'),
        'the sign-in result in the log',
      );
      expect(ok).toMatchObject({ worker: session.worker, sessionTag: tag, user: 'carol' });
      expect(String(ok.reason)).toContain('identity carol (OIDC groups: sre)');
      expect(String(ok.reason)).toContain(`key ${fingerprintSha256(parsePublicKeyLine(carol.publicLine).blob)} bound`);
      const allow = await waitFor(async () => since(from).find((l) => l.audit === 'policy.decision' && l.result === 'allow' && l.user === 'carol'), 'the policy decision');
      expect(allow).toMatchObject({ worker: session.worker, target: 'db1', rule: 'sre-db1' });
    } finally {
      await pty.stop();
    }
    expect(userCodes).toHaveLength(1);
    // The recording, written by the worker into the shared directory, is sealed and verifies.
    const index = await waitFor(async () => {
      const i = await readSessionIndex(session.recording);
      return i.state === 'closed' ? i : undefined;
    }, 'the recording to be sealed');
    expect(index.state).toBe('closed');
    const state = await loadGatewayState(gw.config.stateDir);
    const report = await verify(session.recording, state.recordingKey);
    expect(report.sessions.flatMap((s) => s.problems)).toEqual([]);
    const cast = readdirSync(session.recording).find((n) => n.endsWith('.cast'));
    expect(cast, `no .cast in ${session.recording}`).toBeDefined();
    expect(readFileSync(join(session.recording, cast ?? ''), 'utf8')).toContain('via-oidc-42');
  }, 60_000);

  it('the key binding made on one worker admits the same key on the other, with no second device flow', async () => {
    if (signInWorker === undefined) throw new Error('the device-flow test did not run');
    const other = workerIds().find((w) => w !== signInWorker);
    const codes = userCodes.length;
    const served = new Set<number | undefined>();
    // Round-robin hands connections out in turn; a few tries reach the worker that did not sign carol in.
    for (let i = 0; i < 4 && !served.has(other); i++) {
      const from = logs().length;
      const { live, session } = await startLive(carol, 'carol', `bound${i}`);
      expect(session.authMethod).toBe('publickey');
      served.add(session.worker);
      await finish(live);
      // The session's connection was admitted by publickey, on the worker the session list names.
      const start = await waitFor(async () => since(from).find((l) => l.audit === 'session.start' && l.sessionId === session.id), 'the session.start line');
      const ok = await waitFor(
        async () => since(from).find((l) => l.audit === 'auth.result' && l.result === 'success' && l.connectionId === start.connectionId),
        'the publickey success in the log',
      );
      expect(ok).toMatchObject({ method: 'publickey', user: 'carol', worker: session.worker });
    }
    expect([...served], `a session of the bound key on worker ${other}, not only on worker ${signInWorker}`).toContain(other);
    // No device code was asked for: the binding alone admitted the key, on both workers.
    expect(userCodes).toHaveLength(codes);
  }, 60_000);

  it('sessions revoke-key ends the binding for both workers: the key needs a new sign-in', async () => {
    const fingerprint = fingerprintSha256(parsePublicKeyLine(carol.publicLine).blob);
    const t = captureCliIo();
    expect(await runSessionsRevokeKey([fingerprint, '--state-dir', gw.config.stateDir], t.io), t.c.err).toBe(0);
    expect(t.c.out).toContain(`revoked the key binding of ${fingerprint}`);
    // BatchMode cannot answer keyboard-interactive: without the binding the key alone is refused, by either worker.
    expect([...(await refusedByBothWorkers())].sort()).toEqual([...workerIds()].sort());
    // With a terminal, the next connection asks for a new sign-in, which binds the key again.
    const codes = userCodes.length;
    const pty = await ptySsh(gw, carol, 'carol', 'root@db1', "'echo again-$((6*7))'");
    try {
      const { url, userCode } = await devicePrompt(pty);
      expect(userCodes.slice(codes)).toEqual([userCode]);
      await approveDeviceCode(url, 'carol');
      await pty.sendKeys(['Enter']);
      await pty.waitForText(/^again-42\s*$/m);
      expect(await ptyExited(pty)).toBe(0);
    } finally {
      await pty.stop();
    }
  }, 60_000);

  /** Waits until the primary and both workers have applied a policy since `from`. */
  async function appliedEverywhere(from: number, what: string): Promise<void> {
    await waitFor(
      async () => {
        const applied = new Set(since(from).filter((l) => l.audit === 'policy.reload' && l.result === 'applied').map((l) => l.worker ?? 'primary'));
        return applied.size === 3 ? true : undefined;
      },
      `${what} in the primary and both workers`,
      15_000,
    );
  }

  it('a policy reload that no longer admits the identity revokes its binding once, in the primary, for both workers', async () => {
    const bound = await startLive(carol, 'carol', 'rebound');
    await finish(bound.live);
    const from = logs().length;
    // No rule names the group sre any more (carol's only claim to access).
    gw.writePolicy(gw.policyYaml.replace('oidcGroups: [sre]', 'oidcGroups: [sre-retired]'));
    try {
      const line = await waitFor(
        async () => since(from).find((l) => typeof l.msg === 'string' && /revoked \d+ key binding\(s\): policy v\d+ no longer admits/.test(l.msg)),
        'the revocation log line',
        15_000,
      );
      expect(line.revoked).toBe(1);
      // The primary revokes (one process per state directory), not each worker again.
      expect(line.worker).toBeUndefined();
      // Restored only once every process runs the edit, so the restore is the last policy each applies.
      await appliedEverywhere(from, 'the edited policy');
    } finally {
      const back = logs().length;
      gw.writePolicy(gw.policyYaml);
      await appliedEverywhere(back, 'the restored policy');
    }
    expect(since(from).filter((l) => typeof l.msg === 'string' && l.msg.includes('key binding(s)'))).toHaveLength(1);
    // Even with the rule back, the key needs a browser sign-in again, on either worker.
    expect([...(await refusedByBothWorkers())].sort()).toEqual([...workerIds()].sort());
  }, 60_000);

  it('`gatehouse login` at the primary gives a certificate that both workers accept', async () => {
    const home = makeTempDir('gatehouse-login-home-');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    const hana = await generateKey(join(home, '.ssh'), 'id_ed25519', 'ed25519');
    const from = logs().length;
    const browser = new TestBrowser();
    const t = captureCliIo();
    const code = await runLogin(['--gateway', tc.cluster.admin.url(), '--key', `${hana.privatePath}.pub`, '--timeout', '60'], {
      ...t.io,
      home,
      // The "browser": the primary's /login → the provider (sign in, consent) → /login/callback → the CLI's loopback.
      openBrowser: async (url) => {
        const atProvider = await playUser(browser, await browser.request(url), 'hana', { providerOrigin: provider.issuer });
        if (atProvider.location === undefined) throw new Error(`the provider did not redirect back: ${atProvider.body.slice(0, 200)}`);
        await browser.follow(atProvider.location);
      },
    });
    expect(t.c.out + t.c.err).toContain('Signed in as hana');
    expect(code).toBe(0);
    // Issued by the primary (its lines carry no worker id).
    const issued = await waitFor(async () => since(from).find((l) => l.audit === 'oidc.web-login' && l.result === 'issued'), 'the web sign-in event');
    expect(issued).toMatchObject({ user: 'hana' });
    expect(issued.worker).toBeUndefined();
    // ssh offers the plain key (unknown, refused), then the certificate beside it.
    const served = new Set<number | undefined>();
    for (let i = 0; i < 4 && served.size < 2; i++) {
      const { live, session } = await startLive(hana, 'hana', `cert${i}`);
      expect(session.authMethod).toBe('publickey');
      served.add(session.worker);
      await finish(live);
    }
    expect([...served].sort(), 'certificate sessions on both workers').toEqual([...workerIds()].sort());
    const allowed = since(from).filter((l) => l.audit === 'policy.decision' && l.result === 'allow' && l.user === 'hana');
    expect(allowed.every((l) => l.rule === 'sre-db1')).toBe(true);
  }, 60_000);
});
