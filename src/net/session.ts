/**
 * Session and forwarding helpers over a client connection (RFC 4254 §6, §7): exec, shell with
 * a pty, subsystems, direct-tcpip, remote forwards (tcpip-forward + forwarded-tcpip) and agent
 * forwarding. `channelRouter()` gives the ClientConnection hook that routes channels the
 * server opens to the forwards registered here.
 */
import type { ChannelOpen } from '../connection/channel-opens.js';
import { ChannelOpenFailure } from '../connection/channel-opens.js';
import type { ChannelRequest } from '../connection/channel-requests.js';
import type { TerminalMode } from '../connection/terminal-modes.js';
import { bridgeAgentChannel } from './agent-forward.js';
import type { SshChannel } from './channel-stream.js';
import type { ConnectionCore } from './connection-core.js';
import { RequestRefusedError } from './errors.js';

export interface PtyOptions {
  readonly term?: string;
  readonly cols?: number;
  readonly rows?: number;
  readonly modes?: readonly TerminalMode[];
}

export interface SessionOptions {
  /** env requests; refusals (sshd's AcceptEnv) are ignored, as ssh does. */
  readonly env?: Readonly<Record<string, string>>;
  readonly pty?: PtyOptions;
  /** Send auth-agent-req@openssh.com (the connection's router must have an agent socket). */
  readonly agentForwarding?: boolean;
}

type Opener = Pick<ConnectionCore, 'openChannel' | 'globalRequest'>;

async function must(ch: SshChannel, request: ChannelRequest): Promise<void> {
  if (!(await ch.request(request, true))) throw new RequestRefusedError(`${request.type} refused by the server`);
}

async function session(conn: Opener, opts: SessionOptions): Promise<SshChannel> {
  const ch = await conn.openChannel({ type: 'session' });
  try {
    for (const [name, value] of Object.entries(opts.env ?? {})) await ch.request({ type: 'env', name, value }, true);
    if (opts.agentForwarding === true) await must(ch, { type: 'auth-agent-req@openssh.com' });
    if (opts.pty !== undefined) {
      await must(ch, {
        type: 'pty-req',
        term: opts.pty.term ?? 'xterm-256color',
        cols: opts.pty.cols ?? 80,
        rows: opts.pty.rows ?? 24,
        widthPx: 0,
        heightPx: 0,
        modes: opts.pty.modes ?? [],
      });
    }
  } catch (e) {
    ch.destroy();
    throw e;
  }
  return ch;
}

/** Opens a session and runs `command`; resolves once the server accepted the exec. */
export async function exec(conn: Opener, command: string, opts: SessionOptions = {}): Promise<SshChannel> {
  const ch = await session(conn, opts);
  await must(ch, { type: 'exec', command, commandBytes: new TextEncoder().encode(command) }).catch((e: unknown) => {
    ch.destroy();
    throw e;
  });
  return ch;
}

/** Opens a session with a shell (interactive with opts.pty). */
export async function shell(conn: Opener, opts: SessionOptions = {}): Promise<SshChannel> {
  const ch = await session(conn, opts);
  await must(ch, { type: 'shell' }).catch((e: unknown) => {
    ch.destroy();
    throw e;
  });
  return ch;
}

/** Opens a session running a subsystem such as 'sftp'. */
export async function subsystem(conn: Opener, name: string, opts: SessionOptions = {}): Promise<SshChannel> {
  const ch = await session(conn, opts);
  await must(ch, { type: 'subsystem', name }).catch((e: unknown) => {
    ch.destroy();
    throw e;
  });
  return ch;
}

/** window-change for a pty session (RFC 4254 §6.7). */
export function resizePty(ch: SshChannel, cols: number, rows: number): void {
  ch.request({ type: 'window-change', cols, rows, widthPx: 0, heightPx: 0 }, false).catch(() => {});
}

/** A direct-tcpip channel (RFC 4254 §7.2): the server connects to host:port for us (ssh -L, -W). */
export function directTcpip(conn: Opener, host: string, port: number, originHost = '127.0.0.1', originPort = 0): Promise<SshChannel> {
  return conn.openChannel({ type: 'direct-tcpip', host, port, originHost, originPort });
}

type OpenDecision =
  | { readonly type: 'accept'; readonly onOpen: (channel: SshChannel) => void }
  | { readonly type: 'reject'; readonly reason: 1 | 2 | 3 | 4; readonly description: string };

/**
 * Routes channels a server opens towards a client: forwarded-tcpip to the remote forwards
 * registered with forwardRemote(), auth-agent@openssh.com to a local agent socket. Pass
 * `router.channelOpen` as ClientConnection's hooks.channelOpen.
 */
export class ChannelRouter {
  private readonly forwards = new Map<string, (channel: SshChannel, open: ChannelOpen) => void>();

  constructor(private readonly agentSocket?: string) {}

  readonly channelOpen = (_conn: unknown, open: ChannelOpen): OpenDecision => {
    if (open.type === 'forwarded-tcpip') {
      const handler = this.forwards.get(`${open.connectedHost}:${open.connectedPort}`);
      if (handler === undefined) {
        return { type: 'reject', reason: ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED, description: 'no such forward' };
      }
      return { type: 'accept', onOpen: (ch) => handler(ch, open) };
    }
    const socket = this.agentSocket;
    if (open.type === 'auth-agent@openssh.com' && socket !== undefined) {
      return {
        type: 'accept',
        onOpen: (ch) => {
          bridgeAgentChannel(ch, socket).catch(() => ch.destroy());
        },
      };
    }
    return { type: 'reject', reason: ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED, description: `${open.type} not accepted` };
  };

  /**
   * tcpip-forward (RFC 4254 §7.1): the server listens on address:port (0 = any free port) and
   * each connection arrives as a forwarded-tcpip channel handed to onConnection.
   */
  async forwardRemote(
    conn: Opener,
    address: string,
    port: number,
    onConnection: (channel: SshChannel, open: ChannelOpen) => void,
  ): Promise<{ readonly port: number; cancel(): Promise<void> }> {
    const r = await conn.globalRequest({ type: 'tcpip-forward', address, port }, true);
    if (!r.ok) throw new RequestRefusedError(`tcpip-forward ${address}:${port} refused`);
    const bound = port === 0 ? (r.boundPort ?? 0) : port;
    const key = `${address}:${bound}`;
    this.forwards.set(key, onConnection);
    return {
      port: bound,
      cancel: async () => {
        this.forwards.delete(key);
        await conn.globalRequest({ type: 'cancel-tcpip-forward', address, port: bound }, true);
      },
    };
  }
}
