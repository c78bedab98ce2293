/**
 * The real OpenSSH client (ssh, sftp; 9.2, and 10.0 where unpacked) against our SshServer on
 * loopback: publickey with every key type, certificates from an ssh-keygen CA,
 * keyboard-interactive, exec with exit codes and signals, a pty shell in tmux with
 * window-change, sftp through the real sftp-server, -L and -R forwarding, 100 MB through one
 * channel, 64 channels on one connection, and the denial paths.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GeneratedKey,
  generateKey,
  makeTempDir,
  requireBinaries,
  requireOpenssh10,
  runSsh,
  shellQuote,
  signCertificate,
  spawnSsh,
  sshArgs,
  startPty,
  stopChild,
  waitFor,
} from '../support/index.js';
import { startTestServer, type TestServer } from './test-server.js';

const req = requireBinaries('ssh', 'sftp', 'ssh-keygen', 'tmux', '/usr/lib/openssh/sftp-server');

/** A loopback TCP echo server for forwarding tests. */
function startEcho(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((s) => s.pipe(s));
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      if (got.length >= text.length) {
        s.end();
        resolve(got);
      }
    });
    s.on('error', reject);
    s.write(text);
  });
}

describe.skipIf(req.skip)(`OpenSSH client against our SshServer${req.reason}`, () => {
  let dir: string;
  let ts: TestServer;
  const keys: Record<string, GeneratedKey> = {};
  let ca: GeneratedKey;
  let echo: { server: Server; port: number };

  beforeAll(async () => {
    dir = makeTempDir();
    for (const t of ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-3072'] as const) keys[t] = await generateKey(dir, `user-${t}`, t);
    ca = await generateKey(dir, 'user-ca', 'ed25519');
    ts = await startTestServer({
      dir,
      authorizedKeys: Object.values(keys).map((k) => k.publicLine),
      userCaKeys: [ca.publicLine],
      kbd: [
        { prompt: 'Password: ', answer: 'hunter2' },
        { prompt: 'Code: ', answer: '123456' },
      ],
    });
    echo = await startEcho();
  });
  afterAll(async () => {
    echo?.server.close();
    await ts?.stop();
  });

  const key = (t: string): string => {
    const k = keys[t];
    if (k === undefined) throw new Error(t);
    return k.privatePath;
  };
  const base = (t = 'ed25519') => ({ port: ts.port, identity: key(t), knownHosts: ts.knownHosts });

  it.each([
    ['ed25519', 'ssh-ed25519'],
    ['ecdsa-256', 'ecdsa-sha2-nistp256'],
    ['ecdsa-384', 'ecdsa-sha2-nistp384'],
    ['ecdsa-521', 'ecdsa-sha2-nistp521'],
    ['rsa-3072', 'rsa-sha2-512'],
    ['rsa-3072', 'rsa-sha2-256'],
  ])('publickey with %s signing %s', async (t, alg) => {
    const r = await runSsh(['root@127.0.0.1', 'echo ok'], { ...base(t), options: [`PubkeyAcceptedAlgorithms=${alg}`] });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok\n');
  });

  it('publickey with a certificate from an ssh-keygen CA, honouring force-command', async () => {
    const k = await generateKey(dir, 'certuser', 'ecdsa-256');
    await signCertificate(ca.privatePath, k.publicPath, { identity: 'alice', principals: ['root'], validity: '-5m:+1h' });
    const r = await runSsh(['root@127.0.0.1', 'echo cert-ok'], { ...base(), identity: k.privatePath });
    expect(r.stdout).toBe('cert-ok\n');

    const f = await generateKey(dir, 'forced', 'ed25519');
    await signCertificate(ca.privatePath, f.publicPath, {
      identity: 'bob',
      principals: ['root'],
      options: ['force-command=echo forced'],
    });
    const r2 = await runSsh(['root@127.0.0.1', 'echo asked'], { ...base(), identity: f.privatePath });
    expect(r2.stdout).toBe('forced\n');

    const wrong = await generateKey(dir, 'wrongprincipal', 'ed25519');
    await signCertificate(ca.privatePath, wrong.publicPath, { identity: 'eve', principals: ['nobody'] });
    const r3 = await runSsh(['root@127.0.0.1', 'true'], { ...base(), identity: wrong.privatePath });
    expect(r3.code).toBe(255);
    expect(ts.denials.some((d) => d.kind === 'auth' && /root is not a principal/.test(d.reason))).toBe(true);
  });

  it('keyboard-interactive with two prompts (answered through SSH_ASKPASS)', async () => {
    const askpass = join(dir, 'askpass.sh');
    writeFileSync(askpass, '#!/bin/sh\ncase "$1" in *Code*) echo 123456;; *Password*) echo hunter2;; *) echo nope;; esac\n');
    chmodSync(askpass, 0o755);
    const r = await runSsh(['root@127.0.0.1', 'echo kbd-ok'], {
      port: ts.port,
      knownHosts: ts.knownHosts,
      interactive: true,
      options: ['PreferredAuthentications=keyboard-interactive', 'NumberOfPasswordPrompts=1'],
      env: { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
    });
    expect(r.stdout).toBe('kbd-ok\n');
  });

  it('exec reports exit codes, stderr and exit signals', async () => {
    for (const code of [0, 3, 42]) {
      const r = await runSsh(['root@127.0.0.1', `echo out; echo err >&2; exit ${code}`], base());
      expect([r.code, r.stdout, r.stderr]).toEqual([code, 'out\n', 'err\n']);
    }
    const sig = await runSsh(['-v', 'root@127.0.0.1', 'kill -TERM $$'], base());
    expect(sig.code).toBe(255);
    expect(sig.stderr).toContain('rtype exit-signal');
  });

  it('a pty shell in tmux sees its size and window-change', async () => {
    const { program, argv } = sshArgs(['-tt', 'root@127.0.0.1'], base());
    const pty = await startPty([program, ...argv].map(shellQuote).join(' '), { columns: 100, rows: 30 });
    try {
      await pty.waitForText('gatehouse test shell (100x30)');
      await pty.typeLine('hello');
      await pty.waitForText('echo: hello');
      await pty.resize(132, 43);
      await pty.waitForText('[window 132x43]');
      await pty.typeLine('size');
      await pty.waitForText('size 132x43');
      await pty.typeLine('exit');
      await waitFor(async () => ((await pty.isDead()) ? true : undefined), 'ssh to exit');
      expect(await pty.exitStatus()).toBe(0);
      const ptyReq = ts.requests.find((r) => r.type === 'pty-req');
      expect(ptyReq).toMatchObject({ type: 'pty-req', cols: 100, rows: 30 });
    } finally {
      await pty.stop();
    }
  });

  it('sftp through the real sftp-server subsystem', async () => {
    const local = join(dir, 'up.bin');
    const content = randomBytes(300_000);
    writeFileSync(local, content);
    const remote = join(dir, 'remote.bin');
    const back = join(dir, 'down.bin');
    const batch = join(dir, 'batch');
    writeFileSync(batch, `put ${local} ${remote}\nget ${remote} ${back}\nls -l ${remote}\n`);
    const r = await runSsh(['-b', batch, 'root@127.0.0.1'], { ...base(), tool: 'sftp' });
    expect(r.code).toBe(0);
    expect(readFileSync(back).equals(content)).toBe(true);
    expect(readFileSync(remote).equals(content)).toBe(true);
  });

  it('-L local forwarding through direct-tcpip', async () => {
    const lport = await (async () => {
      const s = createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      const p = (s.address() as { port: number }).port;
      await new Promise((r) => s.close(r));
      return p;
    })();
    const child = spawnSsh(['-N', '-L', `${lport}:127.0.0.1:${echo.port}`, 'root@127.0.0.1'], base());
    try {
      const got = await waitFor(async () => {
        try {
          return await roundTrip(lport, 'through -L');
        } catch {
          return undefined;
        }
      }, '-L listener');
      expect(got).toBe('through -L');
    } finally {
      await stopChild(child);
    }
  });

  it('-R remote forwarding through tcpip-forward and forwarded-tcpip', async () => {
    const child = spawnSsh(['-N', '-R', `0:127.0.0.1:${echo.port}`, 'root@127.0.0.1'], {
      ...base(),
      options: ['LogLevel=INFO', 'ExitOnForwardFailure=yes'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    try {
      const port = await waitFor(() => {
        const m = /Allocated port (\d+) for remote forward/.exec(stderr);
        return m?.[1] === undefined ? undefined : Number(m[1]);
      }, 'the allocated port');
      expect(await roundTrip(port, 'through -R')).toBe('through -R');
    } finally {
      await stopChild(child);
    }
  });

  it('100 MB through one channel, both directions, sha256 intact', async () => {
    const data = randomBytes(100 * 1024 * 1024);
    const r = await runSsh(['root@127.0.0.1', 'cat'], { ...base(), input: data, timeoutMs: 50_000 });
    expect(r.code).toBe(0);
    expect(r.stdoutBytes.length).toBe(data.length);
    expect(createHash('sha256').update(r.stdoutBytes).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  }, 60_000);

  // 32 at once: well past OpenSSH's own MaxSessions default of 10, while 64 ssh processes plus
  // 64 shells at once sometimes outran ssh's 30 s timeout on a loaded 2-core CI machine.
  it('32 parallel channels on one connection (ControlMaster)', async () => {
    const sock = join(dir, 'mux.sock');
    const before = ts.server.activeConnections.length;
    const master = spawnSsh(['-M', '-S', sock, '-N', 'root@127.0.0.1'], base());
    try {
      await waitFor(() => (existsSync(sock) ? true : undefined), 'control socket');
      const results = await Promise.all(
        Array.from({ length: 32 }, (_, i) =>
          runSsh(['-S', sock, 'root@127.0.0.1', `echo chan-${i}`], { ...base(), options: ['ControlMaster=no'] }),
        ),
      );
      expect(results.map((r) => r.stdout)).toEqual(results.map((_, i) => `chan-${i}\n`));
      expect(ts.server.activeConnections.length).toBe(before + 1);
    } finally {
      await stopChild(master);
    }
  });

  describe('denials send the right protocol message and are logged', () => {
    it('an unknown key gets USERAUTH_FAILURE listing the methods', async () => {
      const stranger = await generateKey(dir, 'stranger', 'ed25519');
      const r = await runSsh(['-v', 'root@127.0.0.1', 'true'], { ...base(), identity: stranger.privatePath });
      expect(r.code).toBe(255);
      expect(r.stderr).toContain('Authentications that can continue: publickey,keyboard-interactive');
      expect(ts.denials.some((d) => d.kind === 'auth' && d.reason === 'key not authorized')).toBe(true);
    });

    it('a refused channel open gets CHANNEL_OPEN_FAILURE with the reason', async () => {
      const r = await runSsh(['-v', '-W', '10.255.255.1:22', 'root@127.0.0.1'], { ...base(), input: '' });
      expect(r.code).toBe(255);
      expect(r.stderr).toContain('administratively prohibited: only loopback');
      expect(ts.denials.some((d) => d.kind === 'channel-open' && d.reason === 'only loopback')).toBe(true);
    });

    it('an unknown subsystem gets CHANNEL_FAILURE', async () => {
      const r = await runSsh(['-s', 'root@127.0.0.1', 'no-such-subsystem'], base());
      expect(r.code).toBe(255);
      expect(r.stderr).toContain('subsystem request failed');
      expect(ts.denials.some((d) => d.kind === 'channel-request' && d.what === 'subsystem')).toBe(true);
    });
  });
});

describe.skipIf(req.skip)(`attempt limits against our SshServer${req.reason}`, () => {
  it('too many failures end with DISCONNECT no-more-auth-methods (14)', async () => {
    const dir = makeTempDir();
    const good = await generateKey(dir, 'good', 'ed25519');
    const bad = await Promise.all([1, 2, 3].map((i) => generateKey(dir, `bad${i}`, 'ed25519')));
    const ts = await startTestServer({ dir, authorizedKeys: [good.publicLine], server: { maxAuthAttempts: 2 } });
    try {
      const r = await runSsh(['root@127.0.0.1', 'true'], {
        port: ts.port,
        knownHosts: ts.knownHosts,
        identity: bad.map((b) => b.privatePath),
        options: ['LogLevel=INFO'],
      });
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Received disconnect from 127\.0\.0\.1 port \d+:14: too many authentication failures/);
      expect(ts.denials.some((d) => d.kind === 'disconnect' && d.reason === 'too many authentication failures')).toBe(true);
    } finally {
      await ts.stop();
    }
  });

  it('login grace time ends a silent connection', async () => {
    const dir = makeTempDir();
    const ts = await startTestServer({ dir, server: { loginGraceMs: 1500 } });
    try {
      const closed = await new Promise<string>((resolve) => {
        const s = connect({ host: '127.0.0.1', port: ts.port });
        let got = '';
        s.on('data', (d) => {
          got += d.toString('latin1');
        });
        s.on('close', () => resolve(got));
      });
      expect(closed.startsWith('SSH-2.0-')).toBe(true);
      expect(ts.denials.some((d) => d.reason === 'login grace time exceeded')).toBe(true);
    } finally {
      await ts.stop();
    }
  });
});

const req10 = requireOpenssh10();
describe.skipIf(req.skip || req10.skip)(`OpenSSH 10.0 client against our SshServer${req10.reason}`, () => {
  it('mlkem768x25519-sha256, exec and sftp', async () => {
    const dir = makeTempDir();
    const k = await generateKey(dir, 'u', 'ed25519');
    const ts = await startTestServer({ dir, authorizedKeys: [k.publicLine] });
    try {
      const r = await runSsh(['-v', 'root@127.0.0.1', 'echo ten; exit 4'], {
        version: '10.0',
        port: ts.port,
        identity: k.privatePath,
        knownHosts: ts.knownHosts,
      });
      expect(r.stdout).toBe('ten\n');
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('kex: algorithm: mlkem768x25519-sha256');
      const batch = join(dir, 'b');
      writeFileSync(batch, `ls ${dir}\n`);
      const s = await runSsh(['-b', batch, 'root@127.0.0.1'], {
        tool: 'sftp',
        version: '10.0',
        port: ts.port,
        identity: k.privatePath,
        knownHosts: ts.knownHosts,
      });
      expect(s.code).toBe(0);
      expect(s.stdout).toContain('u.pub');
    } finally {
      await ts.stop();
    }
  });
});
