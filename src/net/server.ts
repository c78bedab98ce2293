/**
 * SshServer: a TCP listener whose connections speak SSH through ServerConnection. Decisions
 * (authentication, channel opens, global requests) come from typed async hooks; limits on
 * connections (total and per source address) are enforced at accept, before any SSH byte.
 *
 *   const server = new SshServer({ hostKeys: [key], hooks: { authenticate, channelOpen } });
 *   const { port } = await server.listen(0, '127.0.0.1');
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { AuthMethodName } from '../auth/auth-types.js';
import type { PrivateKey } from '../keys/private-key.js';
import { defaultSignatureVerifier } from '../keys/signature.js';
import type { HostKeySigner, SignatureVerifier } from '../transport/host-key.js';
import type { TransportOptions } from '../transport/transport-types.js';
import { DisconnectReason } from '../wire/index.js';
import type { CoreOptions } from './connection-core.js';
import type { CloseInfo } from './errors.js';
import { toHostKeySigner } from './host-key-signer.js';
import { type Denial, ServerConnection, type SshServerHooks } from './server-connection.js';

export interface SshServerOptions extends CoreOptions {
  /** Host keys (loaded private keys or ready signers, e.g. with a host certificate). */
  readonly hostKeys: readonly (PrivateKey | HostKeySigner)[];
  readonly hooks: SshServerHooks;
  /** Transport settings (algorithm preferences, rekey limits, software version). */
  readonly transport?: Omit<TransportOptions, 'role' | 'hostKeys'>;
  /** Userauth methods offered; default publickey and keyboard-interactive (password only when listed). */
  readonly authMethods?: readonly AuthMethodName[];
  /** Failed attempts before DISCONNECT; default 6. */
  readonly maxAuthAttempts?: number;
  /** Time from accept until authentication must have succeeded; default 120 s. */
  readonly loginGraceMs?: number;
  readonly banner?: string;
  /** Signature checks for publickey userauth; default the src/keys verifier. */
  readonly verify?: SignatureVerifier;
  /** Connections at once; more are closed at accept. Default 1024. */
  readonly maxConnections?: number;
  /** Connections at once from one source address. Default 64. */
  readonly maxConnectionsPerSource?: number;
}

/** Emitted events: 'connection' (ServerConnection), 'denied' (Denial & {connection}), 'connection-closed' (ServerConnection, CloseInfo), 'error'. */
export class SshServer extends EventEmitter {
  private readonly server: Server;
  private readonly connections = new Set<ServerConnection>();
  private readonly perSource = new Map<string, number>();
  private readonly hostKeys: readonly HostKeySigner[];

  constructor(private readonly options: SshServerOptions) {
    super();
    if (options.hostKeys.length === 0) throw new Error('SshServer needs at least one host key');
    this.hostKeys = options.hostKeys.map(toHostKeySigner);
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (e) => this.emit('error', e));
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free one). */
  listen(port: number, host = '127.0.0.1'): Promise<{ port: number; host: string }> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const a = this.server.address();
        if (a === null || typeof a === 'string') {
          reject(new Error('unexpected listen address'));
          return;
        }
        resolve({ port: a.port, host: a.address });
      });
    });
  }

  /** The bound port (after listen). */
  get port(): number {
    const a = this.server.address();
    return a !== null && typeof a !== 'string' ? a.port : 0;
  }

  /** Live connections. */
  get activeConnections(): readonly ServerConnection[] {
    return [...this.connections];
  }

  /** Serves an already-connected socket (e.g. after a PROXY protocol header was read). */
  handle(socket: Socket): ServerConnection | undefined {
    return this.accept(socket);
  }

  private accept(socket: Socket): ServerConnection | undefined {
    const source = socket.remoteAddress ?? '';
    const fromSource = this.perSource.get(source) ?? 0;
    if (this.connections.size >= (this.options.maxConnections ?? 1024)) {
      this.emit('denied', { kind: 'disconnect', what: 'connection', reason: 'too many connections', source });
      socket.destroy();
      return undefined;
    }
    if (fromSource >= (this.options.maxConnectionsPerSource ?? 64)) {
      this.emit('denied', { kind: 'disconnect', what: 'connection', reason: `too many connections from ${source}`, source });
      socket.destroy();
      return undefined;
    }
    this.perSource.set(source, fromSource + 1);
    const o = this.options;
    const conn = new ServerConnection(socket, {
      hostKeys: this.hostKeys,
      verify: o.verify ?? defaultSignatureVerifier,
      hooks: o.hooks,
      ...(o.transport === undefined ? {} : { transport: o.transport }),
      ...(o.authMethods === undefined ? {} : { authMethods: o.authMethods }),
      ...(o.maxAuthAttempts === undefined ? {} : { maxAuthAttempts: o.maxAuthAttempts }),
      ...(o.loginGraceMs === undefined ? {} : { loginGraceMs: o.loginGraceMs }),
      ...(o.banner === undefined ? {} : { banner: o.banner }),
      ...(o.keepaliveIntervalMs === undefined ? {} : { keepaliveIntervalMs: o.keepaliveIntervalMs }),
      ...(o.keepaliveCountMax === undefined ? {} : { keepaliveCountMax: o.keepaliveCountMax }),
      ...(o.connection === undefined ? {} : { connection: o.connection }),
      ...(o.channelHighWaterMark === undefined ? {} : { channelHighWaterMark: o.channelHighWaterMark }),
      ...(o.maxPendingOutput === undefined ? {} : { maxPendingOutput: o.maxPendingOutput }),
    });
    this.connections.add(conn);
    conn.on('denied', (d: Denial) => this.emit('denied', { ...d, connection: conn }));
    conn.once('close', (info: CloseInfo) => {
      this.connections.delete(conn);
      const n = (this.perSource.get(source) ?? 1) - 1;
      if (n <= 0) this.perSource.delete(source);
      else this.perSource.set(source, n);
      this.emit('connection-closed', conn, info);
    });
    this.emit('connection', conn);
    return conn;
  }

  /**
   * Stops accepting; with `disconnectAll` also ends every live connection, with `description` as
   * the DISCONNECT message clients print. Resolves when the listener closed.
   */
  close(disconnectAll = true, description?: string): Promise<void> {
    if (disconnectAll) for (const c of this.connections) c.disconnect(DisconnectReason.BY_APPLICATION, description);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
