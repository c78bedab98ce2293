/**
 * Our client (ClientConnection + session helpers) against a real sshd (9.2, and 10.0 where
 * unpacked): key types and rsa-sha2-256/512, certificates, an ssh-agent, host key trust
 * (known_hosts, pinned, host CA), exec with exit codes and signals, a pty shell with
 * window-change, the sftp subsystem, direct-tcpip, tcpip-forward, 100 MB, 64 channels, and
 * agent forwarding with a real ssh-agent. keyboard-interactive and password run against our
 * own server (sshd would need PAM for them).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrivateKey, parsePublicKeyLine } from '../../src/keys/index.js';
import { agentSigners } from '../../src/net/agent-signers.js';
import type { SshChannel } from '../../src/net/channel-stream.js';
import { SshClient, signerFromPrivateKey } from '../../src/net/client.js';
import type { ClientAuthMethod, ClientConnection } from '../../src/net/client-connection.js';
import { type HostKeyTrust, hostKeyVerifier } from '../../src/net/host-key-verifier.js';
import { ChannelRouter, directTcpip, exec, resizePty, shell, subsystem } from '../../src/net/session.js';
import {
  type AgentHandle,
  type GeneratedKey,
  generateKey,
  makeTempDir,
  requireBinaries,
  requireOpenssh10,
  type SshdHandle,
  signCertificate,
  startSshAgent,
  startSshd,
  waitFor,
} from '../support/index.js';
import { startTestServer } from './test-server.js';

const req = requireBinaries('sshd', 'ssh-keygen', 'ssh-agent', 'ssh-add', '/usr/lib/openssh/sftp-server');

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

/** Runs a command to completion: stdout, stderr and exit status/signal. */
async function run(conn: ClientConnection, command: string, input?: Buffer) {
  const ch = await exec(conn, command);
  const exit = new Promise<{ status: number | null; signal: string | null }>((r) =>
    ch.once('exit', (status: number | null, signal: string | null) => r({ status, signal })),
  );
  ch.end(input);
  const [out, err] = await Promise.all([collect(ch), collect(ch.stderr)]);
  return { out, err: err.toString(), ...(await exit) };
}

function startEcho(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((s) => s.pipe(s));
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

describe.skipIf(req.skip)(`our client against a real sshd 9.2${req.reason}`, () => {
  let dir: string;
  let sshd: SshdHandle;
  const keys: Record<string, GeneratedKey> = {};
  let userCa: GeneratedKey;
  let hostCa: GeneratedKey;
  let hostCertKey: GeneratedKey;
  let conn: ClientConnection;
  let agent: AgentHandle;
  let echo: { server: Server; port: number };
  const router = new ChannelRouter();
  let knownHosts = '';

  const connectWith = (auth: readonly ClientAuthMethod[], trust?: HostKeyTrust, extra: Partial<Parameters<typeof SshClient.connect>[0]> = {}) =>
    SshClient.connect({
      host: '127.0.0.1',
      port: sshd.port,
      username: 'root',
      verifyHostKey: hostKeyVerifier(trust ?? { type: 'known-hosts', knownHosts }, '127.0.0.1', sshd.port),
      auth,
      ...extra,
    });
  const keyAuth = (t: string): ClientAuthMethod[] => {
    const k = keys[t];
    if (k === undefined) throw new Error(t);
    return [{ type: 'signer', signer: signerFromPrivateKey(parsePrivateKey(k.privatePem)) }];
  };

  beforeAll(async () => {
    dir = makeTempDir();
    for (const t of ['ed25519', 'ecdsa-256', 'ecdsa-521', 'rsa-3072'] as const) keys[t] = await generateKey(dir, `user-${t}`, t);
    userCa = await generateKey(dir, 'user-ca', 'ed25519');
    hostCa = await generateKey(dir, 'host-ca', 'ed25519');
    hostCertKey = await generateKey(dir, 'host-with-cert', 'ed25519');
    await signCertificate(hostCa.privatePath, hostCertKey.publicPath, { identity: 'host', host: true, principals: ['127.0.0.1'] });
    sshd = await startSshd({
      hostKeyTypes: ['ecdsa-256'],
      authorizedKeys: Object.values(keys).map((k) => k.publicLine),
      trustedUserCaKeys: [userCa.publicLine],
      extraConfig: [`HostKey ${hostCertKey.privatePath}`, `HostCertificate ${hostCertKey.privatePath}-cert.pub`],
    });
    knownHosts = `${sshd.knownHosts}[127.0.0.1]:${sshd.port} ${hostCertKey.publicLine}\n`;
    conn = await connectWith(keyAuth('ed25519'), undefined, { hooks: { channelOpen: router.channelOpen } });
    agent = await startSshAgent();
    echo = await startEcho();
  });
  afterAll(async () => {
    conn?.disconnect();
    echo?.server.close();
    await agent?.stop();
    await sshd?.stop();
  });

  it.each(['ed25519', 'ecdsa-256', 'ecdsa-521', 'rsa-3072'])('publickey with %s', async (t) => {
    const c = await connectWith(keyAuth(t));
    expect(c.isClosed).toBe(false);
    c.disconnect();
  });

  it.each(['rsa-sha2-256', 'rsa-sha2-512'])('RSA signs with %s when that is what we offer', async (alg) => {
    const key = parsePrivateKey(keys['rsa-3072']?.privatePem ?? '');
    const signer = { ...signerFromPrivateKey(key), algorithms: [alg] };
    const from = sshd.logs().length;
    const c = await connectWith([{ type: 'signer', signer }]);
    c.disconnect();
    const fresh = () => sshd.logs().slice(from);
    // sshd logs the algorithm of the signed request it accepted (the neighbouring test uses the other one).
    const accepted = new RegExp(`authenticated 1 pkalg ${alg} `);
    await waitFor(() => (accepted.test(fresh()) ? true : undefined), `sshd to accept ${alg}`);
  });

  it('publickey with a user certificate from an ssh-keygen CA', async () => {
    const k = await generateKey(dir, 'certuser', 'ed25519');
    const certLine = await signCertificate(userCa.privatePath, k.publicPath, { identity: 'alice', principals: ['root'] });
    const signer = signerFromPrivateKey(parsePrivateKey(k.privatePem), parsePublicKeyLine(certLine).blob);
    const c = await connectWith([{ type: 'signer', signer }]);
    c.disconnect();
    expect(sshd.logs()).toMatch(/Accepted publickey for root .*ID alice/);
  });

  it('authenticates through a real ssh-agent (SSH_AUTH_SOCK)', async () => {
    await agent.add(keys['ecdsa-256']?.privatePath ?? '');
    const a = await agentSigners(agent.socket);
    try {
      expect(a.signers.length).toBeGreaterThan(0);
      const c = await connectWith(a.signers.map((signer) => ({ type: 'signer' as const, signer })));
      c.disconnect();
      expect(sshd.logs()).toMatch(/Accepted publickey for root .*ECDSA SHA256/);
    } finally {
      a.close();
    }
  });

  it('trusts a host certificate from a host CA, and refuses unknown or mismatched keys', async () => {
    const viaCa = await connectWith(keyAuth('ed25519'), { type: 'host-ca', caKeys: [hostCa.publicLine] }, {
      transport: { algorithms: { hostKey: ['ssh-ed25519-cert-v01@openssh.com'] } },
    });
    viaCa.disconnect();
    const pinned = await connectWith(keyAuth('ed25519'), { type: 'pinned', keys: [...sshd.hostKeys, hostCertKey.publicLine] });
    pinned.disconnect();
    const other = await generateKey(dir, 'not-the-host', 'ecdsa-256');
    await expect(
      connectWith(keyAuth('ed25519'), { type: 'known-hosts', knownHosts: `[127.0.0.1]:${sshd.port} ${other.publicLine}\n` }, {
        transport: { algorithms: { hostKey: ['ecdsa-sha2-nistp256'] } },
      }),
    ).rejects.toThrow(/host key refused: .*different key/);
    await expect(connectWith(keyAuth('ed25519'), { type: 'known-hosts', knownHosts: '' })).rejects.toThrow(
      /not in known_hosts|no @cert-authority line trusts/,
    );
  });

  it('exec reports exit codes, stderr and exit signals', async () => {
    for (const code of [0, 42]) {
      const r = await run(conn, `echo out; echo err >&2; exit ${code}`);
      expect([r.out.toString(), r.err.endsWith('err\n'), r.status]).toEqual(['out\n', true, code]);
    }
    const s = await run(conn, 'kill -TERM $$');
    expect(s.signal).toBe('TERM');
  });

  it('a pty shell sees its size and window-change', async () => {
    const ch = await shell(conn, { pty: { cols: 90, rows: 33, term: 'xterm' } });
    let screen = '';
    ch.on('data', (d: Buffer) => {
      screen += d.toString();
    });
    ch.write('stty size; echo M1-$((40+2))\n');
    await waitFor(() => (/33 90\r?\nM1-42/.test(screen) ? true : undefined), 'stty size 33 90');
    resizePty(ch, 140, 50);
    ch.write('stty size; echo M2-$((40+3))\n');
    await waitFor(() => (/50 140\r?\nM2-43/.test(screen) ? true : undefined), 'stty size 50 140');
    const exit = new Promise((r) => ch.once('exit', r));
    ch.write('exit 3\n');
    expect(await exit).toBe(3);
  });

  it('sftp through the subsystem: SSH_FXP_INIT gets SSH_FXP_VERSION 3', async () => {
    const ch = await subsystem(conn, 'sftp');
    // draft-ietf-secsh-filexfer-02 §4: uint32 length, byte type (1 = INIT), uint32 version.
    ch.write(Buffer.from([0, 0, 0, 5, 1, 0, 0, 0, 3]));
    const reply = await new Promise<Buffer>((r) => ch.once('data', r));
    expect(reply[4]).toBe(2); // SSH_FXP_VERSION
    expect(reply.readUInt32BE(5)).toBe(3);
    ch.end();
  });

  it('direct-tcpip (-L) reaches a loopback service through sshd', async () => {
    const ch = await directTcpip(conn, '127.0.0.1', echo.port);
    ch.end('via direct-tcpip');
    expect((await collect(ch)).toString()).toBe('via direct-tcpip');
  });

  it('tcpip-forward (-R) brings connections back as forwarded-tcpip channels', async () => {
    const fwd = await router.forwardRemote(conn, '127.0.0.1', 0, (ch) => {
      // Bridge each forwarded connection to the local echo service.
      const s = connect({ host: '127.0.0.1', port: echo.port });
      ch.pipe(s);
      s.pipe(ch);
    });
    expect(fwd.port).toBeGreaterThan(0);
    const got = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: fwd.port });
      let text = '';
      s.on('data', (d) => {
        text += d.toString();
        if (text.length >= 10) {
          s.end();
          resolve(text);
        }
      });
      s.on('error', reject);
      s.write('via -R fwd');
    });
    expect(got).toBe('via -R fwd');
    await fwd.cancel();
  });

  it('100 MB through one channel, both directions, sha256 intact', async () => {
    const data = randomBytes(100 * 1024 * 1024);
    const r = await run(conn, 'cat', data);
    expect(r.out.length).toBe(data.length);
    expect(createHash('sha256').update(r.out).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  }, 60_000);

  it('64 parallel channels on one connection', async () => {
    // direct-tcpip channels, so the count is not bounded by how fast sshd forks shells.
    const results = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        const ch = await directTcpip(conn, '127.0.0.1', echo.port);
        ch.end(`chan-${i}`);
        return (await collect(ch)).toString();
      }),
    );
    expect(results).toEqual(results.map((_, i) => `chan-${i}`));
  });

  it('agent forwarding: the remote side uses our real ssh-agent', async () => {
    const fk = await generateKey(dir, 'forwarded', 'ed25519', { comment: 'forwarded-key' });
    await agent.add(fk.privatePath);
    const fwdRouter = new ChannelRouter(agent.socket);
    const c = await connectWith(keyAuth('ed25519'), undefined, { hooks: { channelOpen: fwdRouter.channelOpen } });
    try {
      const ch = await exec(c, 'ssh-add -L', { agentForwarding: true });
      ch.end();
      const out = (await collect(ch)).toString();
      expect(out).toContain('forwarded-key');
    } finally {
      c.disconnect();
    }
  });
});

describe.skipIf(req.skip)(`our client against our server: keyboard-interactive and password${req.reason}`, () => {
  it('answers keyboard-interactive rounds and falls back to password', async () => {
    const dir = makeTempDir();
    const ts = await startTestServer({
      dir,
      kbd: [{ prompt: 'Code: ', answer: '424242' }],
      server: { authMethods: ['keyboard-interactive', 'password'] },
    });
    try {
      const seen: string[] = [];
      const c = await SshClient.connect({
        host: '127.0.0.1',
        port: ts.port,
        username: 'alice',
        verifyHostKey: hostKeyVerifier({ type: 'pinned', keys: ts.hostKeyLines }, '127.0.0.1', ts.port),
        auth: [
          {
            type: 'keyboard-interactive',
            answer: async (_n, _i, prompts) => {
              seen.push(...prompts.map((p) => p.prompt));
              return prompts.map(() => '424242');
            },
          },
        ],
      });
      expect(seen).toEqual(['Code: ']);
      expect((await run(c, 'echo kbd')).out.toString()).toBe('kbd\n');
      c.disconnect();
      await expect(
        SshClient.connect({
          host: '127.0.0.1',
          port: ts.port,
          username: 'alice',
          verifyHostKey: hostKeyVerifier({ type: 'pinned', keys: ts.hostKeyLines }, '127.0.0.1', ts.port),
          auth: [{ type: 'password', password: 'wrong' }],
        }),
      ).rejects.toThrow(/authentication failed/);
      expect(ts.denials.some((d) => d.kind === 'auth' && d.what === 'password')).toBe(true);
    } finally {
      await ts.stop();
    }
  });
});

const req10 = requireOpenssh10();
describe.skipIf(req.skip || req10.skip)(`our client against a real sshd 10.0${req10.reason}`, () => {
  it('mlkem768x25519-sha256, exec and the sftp subsystem', async () => {
    const dir = makeTempDir();
    const k = await generateKey(dir, 'u', 'ed25519');
    const sshd = await startSshd({ version: '10.0', authorizedKeys: [k.publicLine] });
    try {
      const c = await SshClient.connect({
        host: '127.0.0.1',
        port: sshd.port,
        username: 'root',
        verifyHostKey: hostKeyVerifier({ type: 'known-hosts', knownHosts: sshd.knownHosts }, '127.0.0.1', sshd.port),
        auth: [{ type: 'signer', signer: signerFromPrivateKey(parsePrivateKey(readFileSync(k.privatePath, 'utf8'))) }],
      });
      expect(c.algorithms?.kex).toBe('mlkem768x25519-sha256');
      expect((await run(c, 'echo ten; exit 6')).status).toBe(6);
      const ch: SshChannel = await subsystem(c, 'sftp');
      ch.write(Buffer.from([0, 0, 0, 5, 1, 0, 0, 0, 3]));
      const reply = await new Promise<Buffer>((r) => ch.once('data', r));
      expect(reply[4]).toBe(2);
      c.disconnect();
    } finally {
      await sshd.stop();
    }
  });
});
void join;
