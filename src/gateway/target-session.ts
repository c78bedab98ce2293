/**
 * One gateway session: an authenticated identity working on one target as one login. It owns
 * the outbound connection (dialed once, on the first channel), the recorder (session directory,
 * one asciicast per session channel, the audit log, the signed index), and every relayed
 * channel. ProxyJump inner connections, routing-name connections and menu choices all end up
 * here, so each way in is recorded and authorized the same way.
 */
import { randomBytes } from 'node:crypto';
import type { ChannelOpen } from '../connection/index.js';
import { ChannelOpenFailure } from '../connection/channel-opens.js';
import type { SshChannel } from '../net/channel-stream.js';
import type { ClientConnection } from '../net/client-connection.js';
import type { ChannelOpenDecision } from '../net/server-connection.js';
import type { EventSink } from '../obs/events.js';
import {
  type Action,
  allowedActions,
  type Decision,
  evaluate,
  type Identity,
  type LiveAuthorizations,
  type Policy,
  type PolicyTarget,
} from '../policy/index.js';
import { type RecordingFailure, SessionRecorder } from '../recording/index.js';
import { dialTarget, TargetDialError } from './outbound.js';
import { SessionRelay } from './session-relay.js';
import type { GatewayState } from './state.js';

export interface TargetSessionDeps {
  policy(): Policy;
  readonly state: GatewayState;
  readonly events: EventSink;
  readonly recordingsDir: string;
  readonly recordingFormat: 2 | 3;
  readonly live: LiveAuthorizations;
  readonly registry: SessionRegistry;
}

export interface ClientInfo {
  readonly connectionId: string;
  readonly address: string;
  readonly port: number;
  readonly forceCommand: string | null;
}

/** Live sessions, for the admin API (list, watch, kill) and metrics. */
export class SessionRegistry {
  private readonly sessions = new Map<string, TargetSession>();
  add(s: TargetSession): void {
    this.sessions.set(s.id, s);
  }
  remove(s: TargetSession): void {
    this.sessions.delete(s.id);
  }
  get(id: string): TargetSession | undefined {
    return this.sessions.get(id);
  }
  list(): TargetSession[] {
    return [...this.sessions.values()];
  }
  get size(): number {
    return this.sessions.size;
  }
}

/** Session ids sort by start time and carry 64 random bits. */
export function newSessionId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(8).toString('hex')}`;
}

export class TargetSession {
  readonly id = newSessionId();
  readonly startedAt = Date.now();
  private link: Promise<ClientConnection> | undefined;
  private linkConn: ClientConnection | undefined;
  private readonly relays = new Set<SessionRelay>();
  private readonly forwards = new Set<SshChannel>();
  private readonly unregister: (() => void)[] = [];
  private bytesToTarget = 0;
  private bytesToClient = 0;
  private ended = false;
  private recorder!: SessionRecorder;

  private constructor(
    private readonly deps: TargetSessionDeps,
    readonly identity: Identity,
    readonly target: PolicyTarget,
    readonly login: string,
    readonly client: ClientInfo,
    /** Ends the client's side (its connection or channel) with a message. */
    private readonly endClient: (message: string) => void,
  ) {}

  /** Starts a session: refuses (throws with a user-facing message) when it cannot be recorded. */
  static async start(
    deps: TargetSessionDeps,
    identity: Identity,
    target: PolicyTarget,
    login: string,
    client: ClientInfo,
    endClient: (message: string) => void,
  ): Promise<TargetSession> {
    const s = new TargetSession(deps, identity, target, login, client, endClient);
    try {
      s.recorder = await SessionRecorder.open({
        root: deps.recordingsDir,
        sessionId: s.id,
        who: {
          identity: identity.user,
          authMethod: identity.authMethod,
          ...(identity.keyFingerprint ? { keyFingerprint: identity.keyFingerprint } : {}),
          clientAddress: client.address,
          clientPort: client.port,
        },
        target: { host: target.name, port: target.port, login },
        key: deps.state.recordingKey,
        asciicastVersion: deps.recordingFormat,
        onFailure: (f) => s.onRecordingFailure(f),
      });
    } catch (e) {
      deps.events({ type: 'recording.failure', sessionId: s.id, error: e instanceof Error ? e.message : String(e), action: 'end' });
      throw new Error(`this session cannot be recorded, so it is refused (${e instanceof Error ? e.message : String(e)})`);
    }
    deps.registry.add(s);
    deps.events({
      type: 'session.start',
      sessionId: s.id,
      connectionId: client.connectionId,
      user: identity.user,
      target: target.name,
      login,
      authMethod: identity.authMethod,
    });
    return s;
  }

  get live() {
    return this.recorder.live;
  }

  get recordingDir(): string {
    return this.recorder.dir;
  }

  /** Policy decision for one action, logged with its rule and reason. */
  authorize(action: Action, detail: string): Decision {
    const decision = evaluate(this.deps.policy(), { identity: this.identity, target: this.target, login: this.login, action });
    this.deps.events({
      type: 'policy.decision',
      connectionId: this.client.connectionId,
      sessionId: this.id,
      user: this.identity.user,
      target: this.target.name,
      login: this.login,
      action,
      result: decision.allowed ? 'allow' : 'deny',
      rule: decision.rule,
      reason: decision.allowed ? `${decision.reason} (${detail})` : decision.reason,
    });
    if (decision.allowed) {
      this.unregister.push(
        this.deps.live.register(this.id, decision, (denial) => this.terminate(`access revoked: ${denial.reason}`)),
      );
    } else {
      this.recorder.audit({ type: 'policy.denied', action, detail, reason: decision.reason, rule: decision.rule });
    }
    return decision;
  }

  /** The outbound connection, dialed once. */
  private outbound(): Promise<ClientConnection> {
    if (!this.link) {
      const t0 = performance.now();
      this.link = dialTarget({
        target: this.target,
        login: this.login,
        gatewayUser: this.identity.user,
        sessionId: this.id,
        allowed: allowedActions(this.deps.policy(), this.identity, this.target, this.login),
        userCa: this.deps.state.userCa,
      }).then(
        (conn) => {
          this.deps.events({ type: 'target.dial', target: this.target.name, seconds: (performance.now() - t0) / 1000, ok: true });
          this.linkConn = conn;
          conn.once('close', () => {
            if (!this.ended) this.terminate('the target closed the connection');
          });
          if (this.ended) conn.disconnect();
          return conn;
        },
        (e: unknown) => {
          this.deps.events({ type: 'target.dial', target: this.target.name, seconds: (performance.now() - t0) / 1000, ok: false });
          const message = e instanceof TargetDialError ? e.message : `cannot reach ${this.target.name}`;
          this.recorder.audit({ type: 'target.dial-failed', reason: message });
          throw new Error(message);
        },
      );
    }
    return this.link;
  }

  /** Decides a channel the client opens in this session. */
  async channelOpen(open: ChannelOpen): Promise<ChannelOpenDecision> {
    if (this.ended) return reject('the session has ended');
    switch (open.type) {
      case 'session':
        return this.openSessionChannel();
      case 'direct-tcpip': {
        const decision = this.authorize('port-forward', `${open.host}:${open.port}`);
        if (!decision.allowed) return reject(`port forwarding denied: ${decision.reason}`);
        return this.openForward(open);
      }
      case 'x11':
        return reject('X11 forwarding is refused');
      default:
        return reject(`${open.type} channels are not relayed`);
    }
  }

  private async openSessionChannel(): Promise<ChannelOpenDecision> {
    let target: SshChannel;
    try {
      const conn = await this.outbound();
      target = await conn.openChannel({ type: 'session' });
    } catch (e) {
      return { type: 'reject', reason: ChannelOpenFailure.CONNECT_FAILED, description: e instanceof Error ? e.message : 'target unreachable' };
    }
    return {
      type: 'accept',
      onOpen: (client) => {
        const relay: SessionRelay = new SessionRelay(client, target, {
          authorize: (action, detail) => this.authorize(action, detail),
          openRecording: (req) =>
            this.recorder.openChannel({
              kind: req.kind,
              ...(req.pty ? { pty: req.pty } : {}),
              ...(req.command !== undefined ? { command: req.command } : {}),
              recordInput: req.recordInput,
            }),
          openSftpAudit: () => this.recorder.openSftp(),
          relayed: (direction, bytes) => {
            if (direction === 'client-to-target') this.bytesToTarget += bytes;
            else this.bytesToClient += bytes;
            this.deps.events({ type: 'relay.bytes', direction, bytes });
          },
          ended: (summary) => {
            this.relays.delete(relay);
            const rec = relay.channelRecorder;
            if (rec) void this.recorder.closeChannel(rec).catch(() => {});
            this.deps.events({
              type: 'channel.close',
              sessionId: this.id,
              channelId: client.localId,
              bytesToTarget: summary.bytesToTarget,
              bytesToClient: summary.bytesToClient,
              ...(summary.exitStatus !== undefined ? { exitStatus: summary.exitStatus } : {}),
            });
          },
        }, this.client.forceCommand);
        this.relays.add(relay);
        this.deps.events({ type: 'channel.open', sessionId: this.id, channelId: client.localId, channelType: 'session' });
      },
    };
  }

  private async openForward(open: Extract<ChannelOpen, { type: 'direct-tcpip' }>): Promise<ChannelOpenDecision> {
    let target: SshChannel;
    try {
      const conn = await this.outbound();
      target = await conn.openChannel(open);
    } catch (e) {
      return { type: 'reject', reason: ChannelOpenFailure.CONNECT_FAILED, description: e instanceof Error ? e.message : 'connect failed' };
    }
    return {
      type: 'accept',
      onOpen: (client) => {
        const tracker = this.recorder.forward({
          kind: 'direct-tcpip',
          originator: `${open.originHost}:${open.originPort}`,
          destination: `${open.host}:${open.port}`,
        });
        this.forwards.add(client);
        client.on('data', (c: Uint8Array) => {
          tracker.toTarget(c.length);
          this.deps.events({ type: 'relay.bytes', direction: 'client-to-target', bytes: c.length });
        });
        target.on('data', (c: Uint8Array) => {
          tracker.toClient(c.length);
          this.deps.events({ type: 'relay.bytes', direction: 'target-to-client', bytes: c.length });
        });
        client.pipe(target);
        target.pipe(client);
        client.on('error', () => {});
        target.on('error', () => {});
        let closed = false;
        const done = (): void => {
          if (closed) return;
          closed = true;
          tracker.close();
          this.forwards.delete(client);
          if (!client.isClosed) client.closeWhenFlushed();
          if (!target.isClosed) target.closeWhenFlushed();
        };
        client.once('close', done);
        target.once('close', done);
        this.deps.events({ type: 'channel.open', sessionId: this.id, channelId: client.localId, channelType: 'direct-tcpip', detail: `${open.host}:${open.port}` });
      },
    };
  }

  private onRecordingFailure(f: RecordingFailure): void {
    const onFailure = this.relays.size > 0 ? [...this.relays][0]?.authorization?.recording.onFailure ?? 'end' : 'end';
    this.deps.events({ type: 'recording.failure', sessionId: this.id, error: f.message, action: onFailure });
    if (onFailure === 'end') this.terminate('the recording failed, so the session was ended');
  }

  /** Ends the session from the gateway (revocation, kill, recording failure), telling the user why. */
  terminate(message: string): void {
    if (this.ended) return;
    for (const r of this.relays) r.terminate(message);
    this.recorder.audit({ type: 'session.terminated', reason: message });
    this.endClient(message);
    this.close(message);
  }

  /** The client side went away: close everything and seal the recording. */
  close(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const u of this.unregister.splice(0)) u();
    for (const f of this.forwards) f.destroy();
    this.linkConn?.disconnect();
    this.deps.registry.remove(this);
    void this.recorder.finish(reason).catch(() => {});
    this.deps.events({
      type: 'session.end',
      sessionId: this.id,
      reason,
      durationMs: Date.now() - this.startedAt,
      bytesToTarget: this.bytesToTarget,
      bytesToClient: this.bytesToClient,
    });
  }
}

function reject(description: string): ChannelOpenDecision {
  return { type: 'reject', reason: ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED, description };
}
