/**
 * What SshServer's and SshClient's connections share: one socket, one transport machine, the
 * connection machine once authenticated, the channel streams, one clock, keepalives, and the
 * one teardown path (DESIGN principle 8). Role-specific parts (userauth, host key checks,
 * which opens and global requests are allowed) live in server-connection.ts and
 * client-connection.ts.
 *
 * Everything runs on the event loop: machine calls are synchronous; async decisions (hooks)
 * answer the machines later by id or token. Any error ends the connection through
 * teardown(): DISCONNECT with the mapped reason (when the transport is still up), socket
 * ended, every channel closed with the error, then one 'close' event with the reason.
 */
import { EventEmitter } from 'node:events';
import { type AuthPhase, routeMessage } from '../auth/dispatch.js';
import type { ChannelOpen, ChannelOpenFailureCode } from '../connection/channel-opens.js';
import type { ChannelRequest } from '../connection/channel-requests.js';
import { SshConnection } from '../connection/connection.js';
import type { ChannelId, ConnectionEvent, ConnectionOptions, RequestToken } from '../connection/connection-types.js';
import type { GlobalRequest } from '../connection/global-requests.js';
import { Transport } from '../transport/transport.js';
import type { NegotiatedAlgorithms, TransportEvent, TransportOptions } from '../transport/transport-types.js';
import { DisconnectReason, disconnectReasonOf } from '../wire/index.js';
import { type ChannelPort, SshChannel } from './channel-stream.js';
import { ChannelOpenError, type CloseInfo, SshConnectionClosedError } from './errors.js';
import { SharedClock } from './shared-clock.js';
import { type ByteStream, SocketEdge } from './socket-edge.js';

/** Timers and limits every connection has. */
export interface CoreOptions {
  /** Send keepalive@openssh.com after this long without input (ms); 0 = off. Default 0. */
  readonly keepaliveIntervalMs?: number;
  /** Unanswered keepalives before the connection is declared dead. Default 3. */
  readonly keepaliveCountMax?: number;
  /** Connection-machine limits (window, packet size, channel count). */
  readonly connection?: Omit<ConnectionOptions, 'role' | 'sink'>;
  /** Readable highWaterMark of channel streams. Default 64 KiB. */
  readonly channelHighWaterMark?: number;
  /** Stop producing channel data while this many bytes wait for the socket or a key exchange. Default 1 MiB. */
  readonly maxPendingOutput?: number;
}

/** The once-a-second housekeeping of every connection in the process, on one timer. */
const connectionClock = new SharedClock(1000);

interface PendingOpen {
  resolve(ch: SshChannel): void;
  reject(e: Error): void;
}

interface PendingReply {
  resolve(v: { ok: boolean; boundPort: number | undefined }): void;
  reject(e: Error): void;
}

export abstract class ConnectionCore extends EventEmitter {
  protected readonly edge: SocketEdge;
  protected readonly transport: Transport;
  protected conn: SshConnection | null = null;
  protected authPhase: AuthPhase = 'service';
  /** Set once the first key exchange finished. */
  sessionId: Uint8Array | undefined;
  algorithms: NegotiatedAlgorithms | undefined;
  peerVersion = '';
  /** Set when the connection ended. */
  closeInfo: CloseInfo | undefined;

  private readonly channels = new Map<ChannelId, SshChannel>();
  private readonly pendingOpens = new Map<ChannelId, PendingOpen>();
  private readonly channelReplies = new Map<ChannelId, PendingReply[]>();
  private readonly globalReplies: PendingReply[] = [];
  /** Unsubscribes from the shared clock; nothing to do before subscribing or after teardown. */
  private stopClock: () => void = () => {};
  private lastInput = Date.now();
  private keepalivesOutstanding = 0;
  private readonly maxPendingOutput: number;
  private inputPaused = false;

  constructor(
    readonly socket: ByteStream,
    transportOptions: TransportOptions,
    protected readonly coreOptions: CoreOptions,
  ) {
    super();
    this.maxPendingOutput = coreOptions.maxPendingOutput ?? 1024 * 1024;
    this.edge = new SocketEdge(socket, {
      data: (chunk, borrowed) => {
        this.lastInput = Date.now();
        this.keepalivesOutstanding = 0;
        this.transport.receive(chunk, borrowed);
        this.checkInputPressure();
      },
      drain: () => {
        if (this.inputPaused && this.edge.pendingBytes < this.maxPendingOutput) {
          this.inputPaused = false;
          this.socket.resume();
        }
        this.wakeChannels();
      },
      closed: (error) =>
        this.teardown(DisconnectReason.CONNECTION_LOST, error?.message ?? 'connection closed by peer', true, false),
    });
    this.transport = new Transport(
      {
        write: (bytes) => this.edge.write(bytes),
        writeParts: (parts) => this.edge.writeParts(parts),
        event: (ev) => this.onTransportEvent(ev),
      },
      transportOptions,
    );
    if (this.closeInfo === undefined) this.stopClock = connectionClock.subscribe((now) => this.onClock(now));
  }

  /** Starts the protocol (sends our version line and KEXINIT). */
  protected start(): void {
    this.transport.start();
  }

  get isClosed(): boolean {
    return this.closeInfo !== undefined;
  }

  /** Bytes written to / read from the socket so far. */
  get bytesOut(): number {
    return this.edge.bytesOut;
  }
  get bytesIn(): number {
    return this.edge.bytesIn;
  }

  /** Channels currently open (or opening) on this connection. */
  get channelCount(): number {
    return this.channels.size + this.pendingOpens.size;
  }

  /** Ends the connection: DISCONNECT with `reason`, every channel closed, then 'close'. */
  disconnect(reason: number = DisconnectReason.BY_APPLICATION, description = 'closed by application'): void {
    this.teardown(reason, description, false, true);
  }

  // ---------------------------------------------------------------- role hooks

  /** Client: the server proved this host key; call transport.acceptHostKey/rejectHostKey. */
  protected abstract onHostKey(algorithm: string, publicKey: Uint8Array): void;
  /** The first (initial=true) or a later key exchange completed. */
  protected abstract onKexComplete(initial: boolean): void;
  /** A userauth or service message (routed by auth/dispatch.ts). */
  protected abstract onAuthPayload(payload: Uint8Array): void;
  /** The transport's EXT_INFO. */
  protected onExtInfo(_extensions: ReadonlyMap<string, Uint8Array>): void {}
  /** The peer asks to open a channel: accept with acceptOpen(id) or refuse with rejectOpen(id, ...). */
  protected abstract onOpenRequest(id: ChannelId, open: ChannelOpen): void;
  /** A global request that the connection machine left to us (tcpip-forward and friends). */
  protected abstract onGlobalRequest(request: GlobalRequest, token: RequestToken | null): void;
  /** Each clock tick (about once a second), e.g. for the login grace time. */
  protected onTick(_now: number): void {}

  // ---------------------------------------------------------------- for subclasses

  /** Authentication succeeded: connection-protocol messages are allowed from now on. */
  protected enterConnectionPhase(): void {
    this.authPhase = 'connection';
    this.conn = new SshConnection({
      ...(this.coreOptions.connection ?? {}),
      role: this.transport.role,
      sink: (payload) => this.transport.send(payload),
      sinkData: (header, data) => this.transport.send(header, data),
    });
  }

  /** Sends a payload through the transport (userauth messages use this). */
  protected sendPayload(payload: Uint8Array): void {
    this.transport.send(payload);
  }

  protected acceptOpen(id: ChannelId, open: ChannelOpen): SshChannel {
    const conn = this.requireConn();
    conn.acceptChannel(id);
    return this.register(id, open);
  }

  protected rejectOpen(id: ChannelId, reason: ChannelOpenFailureCode, description: string): void {
    if (this.conn === null || this.isClosed) return;
    this.guard(() => this.conn?.rejectChannel(id, reason, description));
  }

  protected replyGlobal(token: RequestToken, ok: boolean, boundPort?: number): void {
    if (this.conn === null || this.isClosed) return;
    this.guard(() => this.conn?.replyGlobalRequest(token, ok, boundPort));
  }

  /** Opens a channel of ours and resolves once the peer confirmed it. */
  openChannel(open: ChannelOpen): Promise<SshChannel> {
    if (this.isClosed) return Promise.reject(this.closedError());
    const conn = this.requireConn();
    return new Promise((resolve, reject) => {
      this.guard(() => {
        const id = conn.openChannel(open);
        this.pendingOpens.set(id, { resolve, reject });
      });
    });
  }

  /** Sends a global request; with wantReply resolves with the answer (and tcpip-forward's bound port). */
  globalRequest(request: GlobalRequest, wantReply = true): Promise<{ ok: boolean; boundPort: number | undefined }> {
    if (this.isClosed) return Promise.reject(this.closedError());
    const conn = this.requireConn();
    return new Promise((resolve, reject) => {
      this.guard(() => {
        conn.sendGlobalRequest(request, wantReply);
        if (wantReply) this.globalReplies.push({ resolve, reject });
        else resolve({ ok: true, boundPort: undefined });
      });
    });
  }

  /** Runs a machine call; an exception ends the connection with the reason it maps to. */
  protected guard(step: () => void): void {
    try {
      step();
    } catch (e) {
      this.fail(e);
    }
  }

  /** Ends the connection because of `error` (DISCONNECT reason from the error's type). */
  protected fail(error: unknown): void {
    const description = error instanceof Error ? error.message : String(error);
    this.teardown(disconnectReasonOf(error), description, false, true);
  }

  private requireConn(): SshConnection {
    if (this.conn === null) throw new Error('not authenticated yet');
    return this.conn;
  }

  private closedError(): Error {
    return new SshConnectionClosedError(
      this.closeInfo ?? { reason: DisconnectReason.CONNECTION_LOST, description: 'closed', byPeer: false },
    );
  }

  // ---------------------------------------------------------------- transport

  private onTransportEvent(ev: TransportEvent): void {
    switch (ev.type) {
      case 'peer-version':
        this.peerVersion = ev.version;
        this.emit('peer-version', ev.version);
        return;
      case 'host-key':
        this.onHostKey(ev.algorithm, ev.publicKey);
        return;
      case 'kex-complete':
        if (ev.initial) this.sessionId = ev.sessionId;
        this.algorithms = ev.algorithms;
        this.emit('kex', ev.algorithms, ev.initial);
        this.onKexComplete(ev.initial);
        this.wakeChannels();
        return;
      case 'ext-info':
        this.onExtInfo(ev.extensions);
        return;
      case 'payload':
        this.route(ev.payload);
        return;
      case 'disconnect':
        this.teardown(ev.reason, ev.description, ev.byPeer, false);
        return;
      default: {
        const never: never = ev;
        throw new Error(`unhandled transport event ${String(never)}`);
      }
    }
  }

  private route(payload: Uint8Array): void {
    const r = routeMessage(payload, this.transport.role, this.authPhase);
    switch (r.route) {
      case 'transport':
      case 'ignore':
        return;
      case 'auth':
        this.guard(() => this.onAuthPayload(payload));
        return;
      case 'connection':
        this.guard(() => {
          const events = this.requireConn().handle(payload);
          for (const e of events) this.onConnectionEvent(e);
        });
        return;
      case 'unimplemented':
        // RFC 4253 §11.4 wants UNIMPLEMENTED with the packet's sequence number, which the
        // transport does not expose; an unassigned message after auth is dropped instead.
        this.emit('debug', `dropped unassigned message ${payload[0]}`);
        return;
      case 'disconnect':
        this.teardown(r.reason, r.message, false, true);
        return;
      default: {
        const never: never = r;
        throw new Error(`unhandled route ${String(never)}`);
      }
    }
  }

  // ---------------------------------------------------------------- connection machine

  private onConnectionEvent(e: ConnectionEvent): void {
    switch (e.type) {
      case 'open-request':
        this.onOpenRequest(e.channel, e.open);
        return;
      case 'open-refused':
        this.emit('refused', { scope: 'open', name: e.open.type, reason: e.description });
        return;
      case 'open-confirmed': {
        const p = this.pendingOpens.get(e.channel);
        this.pendingOpens.delete(e.channel);
        const info = this.conn?.channelInfo(e.channel);
        if (p === undefined || info === undefined) return;
        p.resolve(this.register(e.channel, info.open, true));
        return;
      }
      case 'open-failed': {
        const p = this.pendingOpens.get(e.channel);
        this.pendingOpens.delete(e.channel);
        p?.reject(new ChannelOpenError(e.reason, e.description));
        return;
      }
      case 'data':
        this.channels.get(e.channel)?.onData(e.data, false);
        return;
      case 'extended-data':
        // Only type 1 (stderr) is defined (RFC 4254 §5.2); other types are credited and dropped.
        if (e.dataType === 1) this.channels.get(e.channel)?.onData(e.data, true);
        else this.conn?.consumed(e.channel, e.data.length);
        return;
      case 'eof':
        this.channels.get(e.channel)?.onEof();
        return;
      case 'close': {
        const ch = this.channels.get(e.channel);
        this.channels.delete(e.channel);
        for (const r of this.channelReplies.get(e.channel) ?? []) r.resolve({ ok: false, boundPort: undefined });
        this.channelReplies.delete(e.channel);
        ch?.onClose();
        return;
      }
      case 'window':
        this.channels.get(e.channel)?.wake();
        return;
      case 'channel-request':
        this.onChannelRequest(e.channel, e.request, e.token);
        return;
      case 'channel-reply': {
        const q = this.channelReplies.get(e.channel);
        q?.shift()?.resolve({ ok: e.ok, boundPort: undefined });
        return;
      }
      case 'global-request':
        this.onGlobalRequest(e.request, e.token);
        return;
      case 'global-reply': {
        this.keepalivesOutstanding = 0;
        this.globalReplies.shift()?.resolve({ ok: e.ok, boundPort: e.boundPort });
        return;
      }
      case 'request-refused':
        this.emit('refused', { scope: e.scope, name: e.name, reason: e.reason });
        return;
      case 'no-more-sessions':
        this.emit('no-more-sessions');
        return;
      default: {
        const never: never = e;
        throw new Error(`unhandled connection event ${String(never)}`);
      }
    }
  }

  private onChannelRequest(id: ChannelId, request: ChannelRequest, token: RequestToken | null): void {
    const ch = this.channels.get(id);
    if (ch === undefined) {
      if (token !== null) this.guard(() => this.conn?.replyRequest(token, false));
      return;
    }
    void ch.onRequest(request).then((ok) => {
      if (token !== null && !this.isClosed) this.guard(() => this.conn?.replyRequest(token, ok));
      // Only a refusal the peer hears about is a denial; exit-status and friends want no reply.
      if (!ok && token !== null) this.emit('refused', { scope: 'channel', name: request.type, reason: 'refused by handler' });
    });
  }

  private register(id: ChannelId, open: ChannelOpen, openedByUs = false): SshChannel {
    const port: ChannelPort = {
      remoteWindow: () => this.conn?.remoteWindow(id) ?? 0,
      remoteMaxPacket: () => this.conn?.remoteMaxPacket(id) ?? 0,
      canSend: () =>
        !this.isClosed && this.edge.canWrite && this.edge.pendingBytes + this.transport.pendingBytes < this.maxPendingOutput,
      sendData: (data, stderr) =>
        this.guard(() => {
          const conn = this.requireConn();
          if (stderr) conn.sendExtended(id, data, 1);
          else conn.send(id, data);
        }),
      sendEof: () => this.guard(() => this.conn?.eof(id)),
      sendClose: () => this.guard(() => this.conn?.close(id)),
      consumed: (n) => this.guard(() => this.conn?.consumed(id, n)),
      request: (request, wantReply) =>
        new Promise((resolve, reject) => {
          if (this.isClosed) {
            reject(this.closedError());
            return;
          }
          this.guard(() => {
            this.requireConn().sendRequest(id, request, wantReply);
            if (!wantReply) {
              resolve(true);
              return;
            }
            const q = this.channelReplies.get(id) ?? [];
            q.push({ resolve: (v) => resolve(v.ok), reject });
            this.channelReplies.set(id, q);
          });
        }),
    };
    const ch = new SshChannel(id, port, this.coreOptions.channelHighWaterMark, openedByUs);
    ch.open = open;
    this.channels.set(id, ch);
    return ch;
  }

  private wakeChannels(): void {
    for (const ch of this.channels.values()) ch.wake();
  }

  /** Stop reading from a peer that does not read our replies (our output would grow). */
  private checkInputPressure(): void {
    if (!this.inputPaused && this.edge.pendingBytes > 4 * this.maxPendingOutput) {
      this.inputPaused = true;
      this.socket.pause();
    }
  }

  private onClock(now: number): void {
    if (this.isClosed) return;
    this.transport.tick(now);
    this.onTick(now);
    const interval = this.coreOptions.keepaliveIntervalMs ?? 0;
    if (interval > 0 && this.conn !== null && now - this.lastInput >= interval) {
      if (this.keepalivesOutstanding >= (this.coreOptions.keepaliveCountMax ?? 3)) {
        this.teardown(DisconnectReason.CONNECTION_LOST, 'keepalive timeout', false, true);
        return;
      }
      this.keepalivesOutstanding++;
      this.lastInput = now;
      this.globalRequest({ type: 'keepalive@openssh.com' }, true).catch(() => {});
    }
  }

  // ---------------------------------------------------------------- the one teardown path

  protected teardown(reason: number, description: string, byPeer: boolean, sendDisconnect: boolean): void {
    if (this.closeInfo !== undefined) return;
    const info: CloseInfo = { reason, description, byPeer };
    this.closeInfo = info;
    this.stopClock();
    this.stopClock = () => {};
    if (sendDisconnect) this.transport.disconnect(reason, description);
    this.edge.close();
    const err = new SshConnectionClosedError(info);
    for (const ch of this.channels.values()) ch.onClose(err);
    this.channels.clear();
    for (const p of this.pendingOpens.values()) p.reject(err);
    this.pendingOpens.clear();
    for (const q of this.channelReplies.values()) for (const r of q) r.reject(err);
    this.channelReplies.clear();
    for (const r of this.globalReplies.splice(0)) r.reject(err);
    this.onClosed(info);
    this.emit('close', info);
  }

  /** Role cleanup (pending auth decisions, listeners) before 'close' is emitted. */
  protected onClosed(_info: CloseInfo): void {}
}
