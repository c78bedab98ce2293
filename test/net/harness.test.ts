/**
 * Proves the shared OpenSSH harness (test/support) works before other tests lean on it:
 * real ssh → real sshd (9.2 and 10.0) with a generated key, certificates, agent and a tmux pty.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateKey,
  makeTempDir,
  requireBinaries,
  requireOpenssh10,
  runSsh,
  type SshdHandle,
  signCertificate,
  startPty,
  startSshAgent,
  startSshd,
} from '../support/index.js';

const req = requireBinaries('ssh', 'sshd', 'ssh-keygen', 'ssh-agent', 'ssh-add', 'tmux');

describe.skipIf(req.skip)(`test harness against real OpenSSH${req.reason}`, () => {
  let dir: string;
  let sshd: SshdHandle;
  let user: Awaited<ReturnType<typeof generateKey>>;
  let ca: Awaited<ReturnType<typeof generateKey>>;
  beforeAll(async () => {
    dir = makeTempDir();
    user = await generateKey(dir, 'user', 'ed25519');
    ca = await generateKey(dir, 'ca', 'ed25519');
    sshd = await startSshd({ authorizedKeys: [user.publicLine], trustedUserCaKeys: [ca.publicLine] });
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('runs a command over a strict known_hosts check and reports exit codes', async () => {
    const ok = await runSsh(['root@127.0.0.1', 'echo hello; exit 3'], {
      port: sshd.port,
      identity: user.privatePath,
      knownHosts: sshd.knownHosts,
    });
    expect(ok.stdout).toBe('hello\n');
    expect(ok.code).toBe(3);
    expect(sshd.logs()).toContain('Accepted publickey for root');
  });

  it('rejects a wrong host key and an unknown user key', async () => {
    const other = await generateKey(dir, 'other', 'ed25519');
    const badHost = await runSsh(['root@127.0.0.1', 'true'], {
      port: sshd.port,
      identity: user.privatePath,
      knownHosts: `[127.0.0.1]:${sshd.port} ${other.publicLine}\n`,
    });
    expect(badHost.code).toBe(255);
    const badUser = await runSsh(['root@127.0.0.1', 'true'], { port: sshd.port, identity: other.privatePath });
    expect(badUser.code).toBe(255);
  });

  it('logs in with a certificate from an ssh-keygen CA, through a real agent', async () => {
    const k = await generateKey(dir, 'certuser', 'ecdsa-256');
    await signCertificate(ca.privatePath, k.publicPath, { identity: 'alice', principals: ['root'], validity: '-5m:+1h' });
    const agent = await startSshAgent();
    try {
      await agent.add(k.privatePath);
      expect((await agent.list()).some((l) => l.includes('-cert-v01@openssh.com'))).toBe(true);
      const r = await runSsh(['root@127.0.0.1', 'echo cert'], { port: sshd.port, agentSocket: agent.socket });
      expect(r.stdout).toBe('cert\n');
      expect(sshd.logs()).toMatch(/Accepted publickey for root .*ID alice/);
    } finally {
      await agent.stop();
    }
  });

  it('drives a pty session through tmux, including a resize', async () => {
    const pty = await startPty(
      `ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -i ${user.privatePath} -p ${sshd.port} -tt root@127.0.0.1`,
      { columns: 100, rows: 30 },
    );
    try {
      await pty.typeLine('stty size; echo MARK-$((6*7))');
      await pty.waitForText('MARK-42');
      expect(await pty.capture()).toContain('30 100');
      await pty.resize(120, 40);
      await pty.typeLine('stty size; echo MARK-$((7*7))');
      const screen = await pty.waitForText('MARK-49');
      expect(screen).toContain('40 120');
      await pty.typeLine('exit 5');
      await pty.waitForText('Connection to 127.0.0.1 closed');
    } finally {
      await pty.stop();
    }
  });
});

const req10 = requireOpenssh10();
describe.skipIf(req.skip || req10.skip)(`test harness with OpenSSH 10.0${req10.reason}`, () => {
  it('starts sshd 10.0 and connects with the 10.0 client using mlkem768x25519-sha256', async () => {
    const dir = makeTempDir();
    const user = await generateKey(dir, 'user', 'ed25519');
    const sshd = await startSshd({ version: '10.0', authorizedKeys: [user.publicLine] });
    try {
      const r = await runSsh(['root@127.0.0.1', 'echo ten'], {
        version: '10.0',
        port: sshd.port,
        identity: user.privatePath,
        options: ['KexAlgorithms=mlkem768x25519-sha256'],
      });
      expect(r.stdout).toBe('ten\n');
      expect(sshd.logs()).toContain('kex: algorithm: mlkem768x25519-sha256');
    } finally {
      await sshd.stop();
    }
  });
});
