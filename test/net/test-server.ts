/**
 * A small SshServer application for interop tests: authorizes keys, certificates from a CA,
 * keyboard-interactive with fixed answers; runs exec commands with /bin/sh; a line-echo "shell"
 * that reports pty size and window changes; sftp via the real sftp-server; direct-tcpip and
 * tcpip-forward to loopback.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import type { AuthAnswer, AuthCheck } from '../../src/auth/auth-types.js';
import { ChannelOpenFailure } from '../../src/connection/channel-opens.js';
import type { ChannelRequest } from '../../src/connection/channel-requests.js';
import { verifyCertificate } from '../../src/keys/certificate.js';
import { parsePrivateKey } from '../../src/keys/private-key.js';
import { parsePublicKeyLine } from '../../src/keys/public-key.js';
import type { SshChannel } from '../../src/net/channel-stream.js';
import { SshServer, type SshServerOptions } from '../../src/net/server.js';
import type { Denial, ServerConnection } from '../../src/net/server-connection.js';
import { bytesEqual } from '../../src/wire/index.js';
import { generateKey, type KeyType } from '../support/index.js';

export interface TestServerOptions {
  readonly dir: string;
  readonly hostKeyTypes?: readonly KeyType[];
  /** authorized public key lines. */
  readonly authorizedKeys?: readonly string[];
  /** keyboard-interactive: prompts and the answers that pass. */
  readonly kbd?: readonly { prompt: string; answer: string }[];
  readonly sftpServer?: string;
  readonly server?: Partial<SshServerOptions>;
  /** Trusted user CA public key lines: certificates are checked with src/keys verifyCertificate. */
  readonly userCaKeys?: readonly string[];
}

export interface TestServer {
  readonly server: SshServer;
  readonly port: number;
  readonly hostKeyLines: readonly string[];
  readonly knownHosts: string;
  readonly denials: Denial[];
  /** Requests seen on session channels, in order. */
  readonly requests: ChannelRequest[];
  stop(): Promise<void>;
}

function blobOf(line: string): Uint8Array {
  return parsePublicKeyLine(line).blob;
}

export async function startTestServer(o: TestServerOptions): Promise<TestServer> {
  const hostKeyLines: string[] = [];
  const hostKeys = [];
  for (const [i, t] of (o.hostKeyTypes ?? ['ed25519']).entries()) {
    const k = await generateKey(o.dir, `ours_host_${i}_${t}`, t);
    hostKeyLines.push(k.publicLine);
    hostKeys.push(parsePrivateKey(readFileSync(k.privatePath, 'utf8')));
  }
  const authorized = (o.authorizedKeys ?? []).map(blobOf);
  const denials: Denial[] = [];
  const requests: ChannelRequest[] = [];
  const children = new Set<ChildProcess>();
  const listeners = new Set<Server>();

  const caKeys = (o.userCaKeys ?? []).map(blobOf);
  /** force-command from the certificate that authenticated each connection. */
  const forced = new WeakMap<ServerConnection, string>();
  const authenticate = (c: ServerConnection, user: string, check: AuthCheck): AuthAnswer => {
    switch (check.kind) {
      case 'none':
      case 'password':
        return { type: 'reject', reason: `${check.kind} not accepted` };
      case 'publickey-query':
      case 'publickey': {
        const blob = check.key.blob;
        if (check.key.isCertificate) {
          const v = verifyCertificate(blob, { type: 'user', caKeys, principal: user, sourceAddress: c.remoteAddress });
          if (!v.ok) return { type: 'reject', reason: `certificate: ${v.message}` };
          if (check.kind === 'publickey' && v.forceCommand !== null) forced.set(c, v.forceCommand);
          return { type: 'accept' };
        }
        return authorized.some((a) => bytesEqual(a, blob)) ? { type: 'accept' } : { type: 'reject', reason: 'key not authorized' };
      }
      case 'keyboard-interactive': {
        const kbd = o.kbd;
        if (kbd === undefined) return { type: 'reject', reason: 'no keyboard-interactive' };
        return { type: 'prompt', name: 'gatehouse test', instruction: 'answer please', prompts: kbd.map((p) => ({ prompt: p.prompt, echo: false })) };
      }
      case 'keyboard-interactive-answers': {
        const ok = o.kbd !== undefined && check.responses.every((r, i) => r === o.kbd?.[i]?.answer);
        return ok ? { type: 'accept' } : { type: 'reject', reason: 'wrong answers' };
      }
      default: {
        const never: never = check;
        throw new Error(String(never));
      }
    }
  };

  const runSession = (conn: ServerConnection, ch: SshChannel) => {
    let pty: { cols: number; rows: number } | null = null;
    const env: Record<string, string> = {};
    ch.requestHandler = (req) => {
      requests.push(req);
      switch (req.type) {
        case 'pty-req':
          pty = { cols: req.cols, rows: req.rows };
          return true;
        case 'env':
          env[req.name] = req.value;
          return true;
        case 'window-change':
          if (pty !== null) pty = { cols: req.cols, rows: req.rows };
          ch.write(`\r\n[window ${req.cols}x${req.rows}]\r\n`);
          return true;
        case 'exec': {
          const command = forced.get(conn) ?? req.command;
          const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
          attach(ch, child);
          return true;
        }
        case 'subsystem': {
          if (req.name !== 'sftp') return false;
          const child = spawn(o.sftpServer ?? '/usr/lib/openssh/sftp-server', [], { stdio: ['pipe', 'pipe', 'pipe'] });
          attach(ch, child);
          return true;
        }
        case 'shell': {
          // A line-echo shell: good enough to prove keystrokes, pty size and window-change.
          const size = () => (pty === null ? 'no pty' : `${pty.cols}x${pty.rows}`);
          ch.write(`gatehouse test shell (${size()})\r\n$ `);
          let line = '';
          ch.on('data', (d: Buffer) => {
            for (const c of d.toString('latin1')) {
              if (c === '\r' || c === '\n') {
                ch.write('\r\n');
                const cmd = line.trim();
                line = '';
                if (cmd === 'exit') {
                  ch.exit({ status: 0 });
                  return;
                }
                if (cmd === 'size') ch.write(`size ${size()}\r\n`);
                else if (cmd !== '') ch.write(`echo: ${cmd}\r\n`);
                ch.write('$ ');
              } else if (c === '\x04') {
                ch.exit({ status: 0 });
                return;
              } else {
                line += c;
                ch.write(c);
              }
            }
          });
          return true;
        }
        case 'signal':
        case 'break':
        case 'xon-xoff':
        case 'eow@openssh.com':
          return true;
        default:
          return false;
      }
    };
  };

  const attach = (ch: SshChannel, child: ChildProcess) => {
    children.add(child);
    const { stdin, stdout, stderr } = child;
    if (stdin === null || stdout === null || stderr === null) throw new Error('no stdio');
    ch.pipe(stdin);
    stdin.on('error', () => {});
    stdout.pipe(ch, { end: false });
    stderr.pipe(ch.stderrOut, { end: false });
    // The client may close the channel while the command still writes: those writes fail with
    // "write after end", which is expected here and must not become an uncaught exception.
    ch.on('error', () => {});
    ch.stderrOut.on('error', () => {});
    let outDone = false;
    let errDone = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    const finish = () => {
      if (!outDone || !errDone || exit === null) return;
      ch.exit(exit.signal !== null ? { signal: exit.signal.replace(/^SIG/, '') } : { status: exit.code ?? 255 });
    };
    stdout.on('end', () => {
      outDone = true;
      finish();
    });
    stderr.on('end', () => {
      errDone = true;
      finish();
    });
    child.on('exit', (code, signal) => {
      children.delete(child);
      exit = { code, signal };
      finish();
    });
    ch.on('request', (req: ChannelRequest) => {
      if (req.type === 'signal') child.kill(`SIG${req.signal}` as NodeJS.Signals);
    });
    ch.on('close', () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  };

  const server = new SshServer({
    hostKeys,
    hooks: {
      authenticate,
      channelOpen: (c, open) => {
        switch (open.type) {
          case 'session':
            return { type: 'accept', onOpen: (ch) => runSession(c, ch) };
          case 'direct-tcpip':
            if (open.host !== '127.0.0.1' && open.host !== 'localhost') {
              return { type: 'reject', reason: ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED, description: 'only loopback' };
            }
            return new Promise((resolve) => {
              const s = connect({ host: '127.0.0.1', port: open.port });
              s.once('error', () =>
                resolve({ type: 'reject', reason: ChannelOpenFailure.CONNECT_FAILED, description: 'connect failed' }),
              );
              s.once('connect', () =>
                resolve({
                  type: 'accept',
                  onOpen: (ch) => {
                    s.removeAllListeners('error');
                    s.on('error', () => ch.destroy());
                    ch.on('error', () => s.destroy());
                    ch.pipe(s);
                    s.pipe(ch);
                    ch.on('close', () => s.destroy());
                  },
                }),
              );
            });
          default:
            return { type: 'reject', reason: ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED, description: `${open.type} refused` };
        }
      },
      globalRequest: (conn, req) => {
        if (req.type !== 'tcpip-forward') return { ok: false };
        return new Promise((resolve) => {
          const l = createServer((sock) => {
            conn
              .openChannel({
                type: 'forwarded-tcpip',
                connectedHost: req.address,
                connectedPort: (l.address() as { port: number }).port,
                originHost: sock.remoteAddress ?? '',
                originPort: sock.remotePort ?? 0,
              })
              .then(
                (ch) => {
                  ch.on('error', () => sock.destroy());
                  sock.on('error', () => ch.destroy());
                  ch.pipe(sock);
                  sock.pipe(ch);
                },
                () => sock.destroy(),
              );
          });
          listeners.add(l);
          conn.once('close', () => l.close());
          l.once('error', () => resolve({ ok: false }));
          l.listen(req.port, '127.0.0.1', () => resolve({ ok: true, boundPort: (l.address() as { port: number }).port }));
        });
      },
    },
    ...(o.server ?? {}),
  });
  server.on('denied', (d: Denial) => denials.push(d));
  const { port } = await server.listen(0, '127.0.0.1');
  return {
    server,
    port,
    hostKeyLines,
    knownHosts: hostKeyLines.map((l) => `[127.0.0.1]:${port} ${l.split(' ').slice(0, 2).join(' ')}\n`).join(''),
    denials,
    requests,
    async stop() {
      for (const c of children) c.kill('SIGKILL');
      for (const l of listeners) l.close();
      await server.close(true);
    },
  };
}
