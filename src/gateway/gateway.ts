/**
 * The gateway: an SshServer whose connections are authenticated by inbound-auth.ts and whose
 * channels lead to targets in three ways —
 *   1. ProxyJump: direct-tcpip to a target → an inner SSH server on that channel, presenting a
 *      host certificate for the name asked for, authenticated by the outer identity;
 *   2. routing user name (login@target): session channels relayed to that target;
 *   3. no target: an interactive menu of the targets the identity may reach.
 * Every way ends in a TargetSession, which authorizes each action and records it.
 */
import type { ChannelOpen, ChannelRequest } from '../connection/index.js';
import { ChannelOpenFailure } from '../connection/channel-opens.js';
import type { SshChannel } from '../net/channel-stream.js';
import { SshServer } from '../net/server.js';
import { type ChannelOpenDecision, ServerConnection } from '../net/server-connection.js';
import { defaultSignatureVerifier } from '../keys/index.js';
import type { EventSink } from '../obs/events.js';
import type { OidcSignIn } from '../oidc/index.js';
import {
  ACTIONS,
  allowedActions,
  evaluate,
  type Identity,
  LiveAuthorizations,
  type Policy,
  type PolicyStore,
  type PolicyTarget,
  reachableTargets,
  resolveTarget,
} from '../policy/index.js';
import { DisconnectReason } from '../wire/index.js';
import { isSensitiveAddress } from './destination-guard.js';
import { authenticateInbound, type InboundContext, loginGrace, newInboundContext } from './inbound-auth.js';
import { parseRoutingName } from './routing-name.js';
import { type MenuEntry, TargetMenu } from './target-menu.js';
import { hostKeySignerFor, type GatewayState } from './state.js';
import { type ClientInfo, SessionRegistry, TargetSession, type TargetSessionDeps } from './target-session.js';

export interface GatewayOptions {
  readonly state: GatewayState;
  readonly policy: PolicyStore;
  readonly events: EventSink;
  readonly recordingsDir: string;
  readonly recordingFormat: 2 | 3;
  readonly oidc: OidcSignIn | undefined;
  /** Names the gateway answers to (principals of its own host certificate). */
  readonly hostNames: readonly string[];
  /** The gateway's own listen address, never a forward destination. */
  readonly listen: { readonly host: string; readonly port: number };
  /** Connection limits enforced at accept (SshServer defaults: 1024 in all, 64 per source address). */
  readonly maxConnections?: number;
  readonly maxConnectionsPerSource?: number;
  /** Prefix of connection ids ("w2-" in worker 2 of `serve --workers N`), so ids stay unique across processes. */
  readonly connectionIdPrefix?: string;
}

interface OuterConnection {
  readonly ctx: InboundContext;
  readonly sessions: Set<TargetSession>;
  routingSession: Promise<TargetSession> | undefined;
}

let connectionCounter = 0;

export class Gateway {
  readonly server: SshServer;
  readonly registry = new SessionRegistry();
  readonly live: LiveAuthorizations;
  private readonly connections = new Map<ServerConnection, OuterConnection>();
  private readonly sessionDeps: TargetSessionDeps;

  constructor(private readonly opts: GatewayOptions) {
    this.live = new LiveAuthorizations(opts.policy, opts.events);
    this.sessionDeps = {
      policy: () => this.policy,
      state: opts.state,
      events: opts.events,
      recordingsDir: opts.recordingsDir,
      recordingFormat: opts.recordingFormat,
      live: this.live,
      registry: this.registry,
    };
    this.server = new SshServer({
      hostKeys: [hostKeySignerFor(opts.state, opts.hostNames)],
      authMethods: opts.oidc ? ['publickey', 'keyboard-interactive'] : ['publickey'],
      ...loginGrace(opts.oidc),
      keepaliveIntervalMs: 60_000,
      ...(opts.maxConnections === undefined ? {} : { maxConnections: opts.maxConnections }),
      ...(opts.maxConnectionsPerSource === undefined ? {} : { maxConnectionsPerSource: opts.maxConnectionsPerSource }),
      hooks: {
        authenticate: (conn, user, check) => authenticateInbound(this.authDeps(), this.outer(conn).ctx, conn, user, check),
        channelOpen: (conn, open) => this.outerChannelOpen(conn, open),
        globalRequest: () => ({ ok: false }),
      },
    });
    this.server.on('connection', (conn: ServerConnection) => this.onConnection(conn));
  }

  private get policy(): Policy {
    return this.opts.policy.current;
  }

  private authDeps() {
    return {
      policy: () => this.policy,
      gatewayUserCaBlob: this.opts.state.userCa.publicKeyBlob,
      oidc: this.opts.oidc,
      events: this.opts.events,
    };
  }

  private outer(conn: ServerConnection): OuterConnection {
    let o = this.connections.get(conn);
    if (!o) {
      o = { ctx: newInboundContext(`${this.opts.connectionIdPrefix ?? ''}c${++connectionCounter}`), sessions: new Set(), routingSession: undefined };
      this.connections.set(conn, o);
    }
    return o;
  }

  private onConnection(conn: ServerConnection): void {
    const o = this.outer(conn);
    const opened = Date.now();
    this.opts.events({ type: 'connection.open', connectionId: o.ctx.connectionId, remoteAddress: conn.remoteAddress, remotePort: conn.remotePort, localPort: this.server.port });
    conn.once('kex', () => this.opts.events({ type: 'handshake.complete', seconds: (Date.now() - opened) / 1000, side: 'inbound' }));
    conn.once('close', (info: { description: string }) => {
      for (const s of o.sessions) s.close(`client disconnected: ${info.description}`);
      this.connections.delete(conn);
      this.opts.events({ type: 'connection.close', connectionId: o.ctx.connectionId, reason: info.description, durationMs: Date.now() - opened });
    });
  }

  private clientInfo(conn: ServerConnection, o: OuterConnection): ClientInfo {
    return { connectionId: o.ctx.connectionId, address: conn.remoteAddress, port: conn.remotePort, forceCommand: o.ctx.certificate?.forceCommand ?? null };
  }

  // ------------------------------------------------------------------ outer channels

  private async outerChannelOpen(conn: ServerConnection, open: ChannelOpen): Promise<ChannelOpenDecision> {
    const o = this.outer(conn);
    const identity = o.ctx.identity;
    const routing = o.ctx.routing;
    if (!identity || !routing) return prohibited('not authenticated');
    if (routing.kind === 'target') {
      const session = await this.routingSession(conn, o, identity, routing.target, routing.port, routing.login).catch((e: unknown) => e);
      if (!(session instanceof TargetSession)) return prohibited(session instanceof Error ? session.message : 'refused');
      return session.channelOpen(open);
    }
    switch (open.type) {
      case 'direct-tcpip':
        return this.proxyJump(conn, o, identity, open);
      case 'session':
        return { type: 'accept', onOpen: (ch) => this.runMenu(conn, o, identity, ch) };
      default:
        return prohibited(`${open.type} channels are not accepted here`);
    }
  }

  private routingSession(conn: ServerConnection, o: OuterConnection, identity: Identity, name: string, port: number | undefined, login: string): Promise<TargetSession> {
    if (!o.routingSession) {
      o.routingSession = (async () => {
        const target = this.findTarget(identity, name, port, login);
        return this.startSession(conn, o, identity, target, login, (message) =>
          conn.disconnect(DisconnectReason.BY_APPLICATION, message),
        );
      })();
    }
    return o.routingSession;
  }

  /** The inventory target for a name, checked for this identity and login; throws a user-facing denial. */
  private findTarget(identity: Identity, name: string, port: number | undefined, login: string | undefined): PolicyTarget {
    const policy = this.policy;
    const found = resolveTarget(policy, name, port);
    if (found.kind !== 'found') {
      this.deny(identity, name, login ?? '', 'connect', found.reason);
      throw new Error(found.reason);
    }
    const target = found.target;
    if (login !== undefined && allowedActions(policy, identity, target, login).length === 0) {
      const d = evaluate(policy, { identity, target, login, action: 'shell' });
      const reason = d.allowed ? 'no action allowed' : d.reason;
      this.deny(identity, target.name, login, 'connect', reason, d.allowed ? undefined : d.rule);
      throw new Error(`access to ${login}@${target.name} denied: ${reason}`);
    }
    // ProxyJump names no login yet: any action under any login makes the target reachable (a
    // user allowed only exec must still get to the inner server; each action is checked later).
    if (login === undefined && !ACTIONS.some((a) => reachableTargets(policy, identity, a).some((r) => r.target.name === target.name))) {
      this.deny(identity, target.name, '', 'connect', 'no rule lets this user reach the target');
      throw new Error(`access to ${target.name} denied`);
    }
    return target;
  }

  private deny(identity: Identity, target: string, login: string, action: string, reason: string, rule = 'default-deny'): void {
    this.opts.events({ type: 'policy.decision', user: identity.user, target, login, action, result: 'deny', rule, reason });
  }

  private async startSession(
    conn: ServerConnection,
    o: OuterConnection,
    identity: Identity,
    target: PolicyTarget,
    login: string,
    endClient: (message: string) => void,
  ): Promise<TargetSession> {
    const s = await TargetSession.start(this.sessionDeps, identity, target, login, this.clientInfo(conn, o), endClient);
    o.sessions.add(s);
    return s;
  }

  // ------------------------------------------------------------------ ProxyJump

  private proxyJump(conn: ServerConnection, o: OuterConnection, identity: Identity, open: Extract<ChannelOpen, { type: 'direct-tcpip' }>): ChannelOpenDecision {
    let target: PolicyTarget;
    try {
      target = this.findTarget(identity, open.host, open.port, undefined);
    } catch (e) {
      return prohibited(e instanceof Error ? e.message : 'denied');
    }
    if (this.isGatewayItself(open.host, open.port) || (isSensitiveAddress(open.host) && !this.definedAt(open.host))) {
      return prohibited(`${open.host}:${open.port} is not a permitted destination`);
    }
    const names = [open.host, target.name, ...target.aliases, target.address];
    return { type: 'accept', onOpen: (ch) => this.serveInner(conn, o, identity, target, names, ch) };
  }

  private isGatewayItself(host: string, port: number): boolean {
    return port === this.opts.listen.port && (host === this.opts.listen.host || isSensitiveAddress(host));
  }

  private definedAt(address: string): boolean {
    return this.policy.targets.some((t) => t.address === address || t.name === address.toLowerCase() || t.aliases.includes(address.toLowerCase()));
  }

  /** The inner SSH server of a ProxyJump: terminates the client's end-to-end SSH so it can be recorded. */
  private serveInner(outerConn: ServerConnection, o: OuterConnection, identity: Identity, target: PolicyTarget, names: string[], channel: SshChannel): void {
    let session: Promise<TargetSession> | undefined;
    let login = '';
    const inner: ServerConnection = new ServerConnection(channel, {
      hostKeys: [hostKeySignerFor(this.opts.state, names)],
      verify: defaultSignatureVerifier,
      authMethods: ['none', 'publickey'],
      hooks: {
        // The identity was proven on the outer connection: the inner user name is only the login.
        authenticate: (_c, user) => {
          try {
            const parsed = parseRoutingName(`${user}@${target.name}`);
            if (parsed.kind !== 'target') return { type: 'reject', reason: 'invalid login' };
          } catch (e) {
            return { type: 'reject', reason: e instanceof Error ? e.message : 'invalid login' };
          }
          login = user;
          return { type: 'accept' };
        },
        channelOpen: async (_c, open) => {
          if (!session) {
            session = (async () => {
              this.findTarget(identity, target.name, undefined, login);
              return this.startSession(outerConn, o, identity, target, login, (message) => inner.disconnect(DisconnectReason.BY_APPLICATION, message));
            })();
          }
          const s = await session.catch((e: unknown) => e);
          if (!(s instanceof TargetSession)) return prohibited(s instanceof Error ? s.message : 'refused');
          return s.channelOpen(open);
        },
        globalRequest: () => ({ ok: false }),
      },
    });
    inner.once('close', (info: { description: string }) => {
      void session?.then((s) => s.close(`client disconnected: ${info.description}`)).catch(() => {});
      if (!channel.isClosed) channel.destroy();
    });
    channel.once('close', () => {
      if (!inner.isClosed) inner.disconnect(DisconnectReason.CONNECTION_LOST, 'jump channel closed');
    });
  }

  // ------------------------------------------------------------------ target menu

  private runMenu(conn: ServerConnection, o: OuterConnection, identity: Identity, ch: SshChannel): void {
    const held: ChannelRequest[] = [];
    let menu: TargetMenu | undefined;
    const entries = (): MenuEntry[] =>
      reachableTargets(this.policy, identity).flatMap((r) =>
        r.logins.map((login) => ({ target: r.target.name, login, description: r.target.description })),
      );
    const onData = (chunk: Uint8Array): void => {
      if (!menu) return;
      const screen = menu.feed(chunk);
      if (screen) ch.write(screen);
      const state = menu.state;
      if (state.kind === 'quit') {
        ch.removeListener('data', onData);
        ch.sendExitStatus(0);
        ch.closeWhenFlushed();
      } else if (state.kind === 'chosen') {
        ch.removeListener('data', onData);
        ch.pause();
        void this.connectFromMenu(conn, o, identity, ch, state.entry, held);
      }
    };
    ch.requestHandler = (req) => {
      switch (req.type) {
        case 'pty-req':
        case 'env':
          held.push(req);
          return true;
        case 'window-change':
          held.push(req);
          return true;
        case 'shell':
          if (!held.some((r) => r.type === 'pty-req')) {
            ch.stderrOut.write('gatehouse: the target menu needs a terminal (ssh -t), or name a target: ssh -J gateway target\r\n');
            return false;
          }
          held.push(req);
          menu = new TargetMenu(identity.user, entries());
          ch.write(menu.render());
          ch.on('data', onData);
          return true;
        case 'exec':
        case 'subsystem':
          ch.stderrOut.write('gatehouse: no target named: use ssh -J gateway target, or login@target as the user name\r\n');
          return false;
        default:
          return false;
      }
    };
    ch.on('error', () => {});
  }

  private async connectFromMenu(conn: ServerConnection, o: OuterConnection, identity: Identity, ch: SshChannel, entry: MenuEntry, held: ChannelRequest[]): Promise<void> {
    const fail = (message: string): void => {
      ch.write(`\r\ngatehouse: ${message}\r\n`);
      ch.sendExitStatus(1);
      ch.closeWhenFlushed();
    };
    let session: TargetSession;
    try {
      const target = this.findTarget(identity, entry.target, undefined, entry.login);
      session = await this.startSession(conn, o, identity, target, entry.login, (message) => conn.disconnect(DisconnectReason.BY_APPLICATION, message));
    } catch (e) {
      fail(e instanceof Error ? e.message : 'refused');
      return;
    }
    const decision = await session.channelOpen({ type: 'session' });
    if (decision.type === 'reject') {
      fail(decision.description);
      return;
    }
    ch.requestHandler = null;
    decision.onOpen(ch);
    ch.resume();
    // The SessionRelay installed its request handler: replay what the menu already answered.
    const handler: ((r: ChannelRequest) => boolean | Promise<boolean>) | null = ch.requestHandler as ((r: ChannelRequest) => boolean | Promise<boolean>) | null;
    if (handler !== null) for (const r of held) await handler(r);
  }

  // ------------------------------------------------------------------ lifecycle

  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return this.server.listen(port, host);
  }

  async close(): Promise<void> {
    const message = 'the gateway is shutting down';
    for (const s of this.registry.list()) s.terminate(message);
    // The outer connection's DISCONNECT carries it too: with -J the jump's own ssh prints that one.
    await this.server.close(true, message);
  }
}

function prohibited(description: string): ChannelOpenDecision {
  return { type: 'reject', reason: ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED, description };
}
