/**
 * One inbound connection of SshServer: drives the userauth server machine with the server's
 * async hooks, then hands channel opens, channel requests and global requests to them.
 * Every refusal is also emitted as a 'denied' event with its reason, for the logs.
 */
import type { AuthAnswer, AuthCheck, AuthMethodName, AuthResult, AuthServerEvent } from '../auth/auth-types.js';
import { AuthServer } from '../auth/server.js';
import { type ChannelOpen, ChannelOpenFailure, type ChannelOpenFailureCode } from '../connection/channel-opens.js';
import type { ChannelId, RequestToken } from '../connection/connection-types.js';
import type { GlobalRequest } from '../connection/global-requests.js';
import type { HostKeySigner, SignatureVerifier } from '../transport/host-key.js';
import type { TransportOptions } from '../transport/transport-types.js';
import { DisconnectReason } from '../wire/index.js';
import type { SshChannel } from './channel-stream.js';
import type { ByteStream } from './socket-edge.js';
import { ConnectionCore, type CoreOptions } from './connection-core.js';
import type { CloseInfo } from './errors.js';

/** How a hook answers a channel open. */
export type ChannelOpenDecision =
  | { readonly type: 'accept'; readonly onOpen: (channel: SshChannel) => void }
  | { readonly type: 'reject'; readonly reason: ChannelOpenFailureCode; readonly description: string };

/** How a hook answers a global request (tcpip-forward may report the port it bound). */
export type GlobalRequestDecision = { readonly ok: boolean; readonly boundPort?: number };

/** The decisions an SshServer delegates; each may be async. */
export interface SshServerHooks {
  /**
   * Decides one authentication step (RFC 4252). `check.kind` says what is asked:
   * 'publickey-query' only asks whether a key WOULD do (accept → PK_OK, nothing proven);
   * 'publickey' carries a ProvenKey whose signature verified; keyboard-interactive starts with
   * 'keyboard-interactive' and continues with '...-answers' per round (answer 'prompt' for
   * another round).
   */
  authenticate(connection: ServerConnection, user: string, check: AuthCheck): AuthAnswer | Promise<AuthAnswer>;
  /** Decides a channel open (session, direct-tcpip, ...). Default: refuse. */
  channelOpen?(connection: ServerConnection, open: ChannelOpen): ChannelOpenDecision | Promise<ChannelOpenDecision>;
  /** Decides tcpip-forward / cancel-tcpip-forward / streamlocal forwards. Default: refuse. */
  globalRequest?(connection: ServerConnection, request: GlobalRequest): GlobalRequestDecision | Promise<GlobalRequestDecision>;
}

export interface ServerConnectionOptions extends CoreOptions {
  readonly hostKeys: readonly HostKeySigner[];
  readonly verify: SignatureVerifier;
  readonly hooks: SshServerHooks;
  readonly transport?: Omit<TransportOptions, 'role' | 'hostKeys'>;
  readonly authMethods?: readonly AuthMethodName[];
  readonly maxAuthAttempts?: number;
  readonly loginGraceMs?: number;
  readonly banner?: string;
}

/** One refusal, for logging: what was refused and why. */
export interface Denial {
  readonly kind: 'auth' | 'channel-open' | 'channel-request' | 'global-request' | 'disconnect';
  readonly what: string;
  readonly reason: string;
  readonly user?: string;
}

let nextConnectionId = 1;

export class ServerConnection extends ConnectionCore {
  /** A process-unique number for logs. */
  readonly id = nextConnectionId++;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The outcome of authentication, once it succeeded. */
  auth: AuthResult | undefined;
  private authMachine: AuthServer | null = null;
  private readonly startedAt = Date.now();

  constructor(
    socket: ByteStream,
    private readonly options: ServerConnectionOptions,
  ) {
    super(socket, { ...(options.transport ?? {}), role: 'server', hostKeys: options.hostKeys }, options);
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.on('refused', (r: { scope: string; name: string; reason: string }) =>
      this.deny(r.scope === 'open' ? 'channel-open' : r.scope === 'global' ? 'global-request' : 'channel-request', r.name, r.reason),
    );
    this.start();
  }

  /** The authenticated user name (undefined before success). */
  get user(): string | undefined {
    return this.auth?.user;
  }

  private deny(kind: Denial['kind'], what: string, reason: string, user?: string): void {
    const d: Denial = user === undefined ? { kind, what, reason } : { kind, what, reason, user };
    this.emit('denied', d);
  }

  protected onHostKey(): void {
    // Only clients check host keys.
  }

  protected onKexComplete(initial: boolean): void {
    if (!initial || this.authMachine !== null) return;
    const sessionId = this.sessionId;
    const alg = this.algorithms?.hostKey;
    const signer = this.options.hostKeys.find((k) => alg !== undefined && k.algorithms.includes(alg));
    if (sessionId === undefined || alg === undefined || signer === undefined) {
      this.fail(new Error('key exchange finished without a host key'));
      return;
    }
    this.authMachine = new AuthServer({
      sink: (p) => this.sendPayload(p),
      sessionId,
      hostKeyBlob: signer.publicKeyBlob(alg),
      verify: this.options.verify,
      now: this.startedAt,
      ...(this.options.authMethods === undefined ? {} : { methods: this.options.authMethods }),
      ...(this.options.maxAuthAttempts === undefined ? {} : { maxAttempts: this.options.maxAuthAttempts }),
      ...(this.options.loginGraceMs === undefined ? {} : { loginGraceMs: this.options.loginGraceMs }),
      ...(this.options.banner === undefined ? {} : { banner: this.options.banner }),
    });
  }

  protected onAuthPayload(payload: Uint8Array): void {
    const m = this.authMachine;
    if (m === null) throw new Error('userauth message before the key exchange finished');
    const events = m.handle(payload);
    if (this.authPhase !== 'connection') this.authPhase = m.phase;
    this.onAuthEvents(events);
  }

  protected override onTick(now: number): void {
    // Login grace time counts from accept, even before the key exchange finished.
    const grace = this.options.loginGraceMs ?? 120_000;
    if (this.authMachine === null) {
      if (now - this.startedAt >= grace) {
        this.deny('disconnect', 'login', 'login grace time exceeded');
        this.teardown(DisconnectReason.BY_APPLICATION, 'login grace time exceeded', false, true);
      }
      return;
    }
    this.onAuthEvents(this.authMachine.tick(now));
  }

  private onAuthEvents(events: readonly AuthServerEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'check':
          this.decide(e.id, e.user, e.check);
          break;
        case 'user-changed':
          this.emit('auth-user-changed', e.from, e.to);
          break;
        case 'failure':
          this.deny('auth', e.method, e.reason, e.user);
          break;
        case 'partial':
          this.emit('auth-partial', e.user, e.step, e.methods);
          break;
        case 'success':
          this.auth = e.result;
          this.enterConnectionPhase();
          this.emit('authenticated', e.result);
          break;
        case 'disconnect':
          this.deny('disconnect', 'userauth', e.message);
          this.teardown(e.reason, e.message, false, true);
          return;
        default: {
          const never: never = e;
          throw new Error(`unhandled auth event ${String(never)}`);
        }
      }
    }
  }

  private decide(id: Parameters<AuthServer['respond']>[0], user: string, check: AuthCheck): void {
    let answer: Promise<AuthAnswer>;
    try {
      answer = Promise.resolve(this.options.hooks.authenticate(this, user, check));
    } catch (e) {
      answer = Promise.reject(e);
    }
    answer
      .catch((e: unknown): AuthAnswer => ({ type: 'reject', reason: `authentication hook failed: ${String(e)}` }))
      .then((a) => {
        const m = this.authMachine;
        if (this.isClosed || m === null) return;
        this.guard(() => this.onAuthEvents(m.respond(id, a)));
      });
  }

  protected onOpenRequest(id: ChannelId, open: ChannelOpen): void {
    const hook = this.options.hooks.channelOpen;
    const reject = (reason: ChannelOpenFailureCode, description: string) => {
      this.deny('channel-open', open.type, description, this.user);
      this.rejectOpen(id, reason, description);
    };
    if (hook === undefined) {
      reject(ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED, `${open.type} channels not allowed`);
      return;
    }
    let d: Promise<ChannelOpenDecision>;
    try {
      d = Promise.resolve(hook(this, open));
    } catch (e) {
      d = Promise.reject(e);
    }
    d.then(
      (decision) => {
        if (this.isClosed) return;
        if (decision.type === 'reject') {
          reject(decision.reason, decision.description);
          return;
        }
        let ch: SshChannel | undefined;
        this.guard(() => {
          ch = this.acceptOpen(id, open);
        });
        if (ch !== undefined) decision.onOpen(ch);
      },
      (e: unknown) => reject(ChannelOpenFailure.CONNECT_FAILED, `open hook failed: ${String(e)}`),
    );
  }

  protected onGlobalRequest(request: GlobalRequest, token: RequestToken | null): void {
    const hook = this.options.hooks.globalRequest;
    const answer = (ok: boolean, boundPort?: number, reason = 'refused') => {
      if (!ok) this.deny('global-request', request.type, reason, this.user);
      if (token !== null) this.replyGlobal(token, ok, boundPort);
    };
    if (hook === undefined) {
      answer(false, undefined, `${request.type} not allowed`);
      return;
    }
    let d: Promise<GlobalRequestDecision>;
    try {
      d = Promise.resolve(hook(this, request));
    } catch (e) {
      d = Promise.reject(e);
    }
    d.then(
      (r) => answer(r.ok, r.boundPort),
      (e: unknown) => answer(false, undefined, `global request hook failed: ${String(e)}`),
    );
  }

  protected override onClosed(info: CloseInfo): void {
    this.authMachine = null;
    if (!info.byPeer && info.reason !== DisconnectReason.BY_APPLICATION) {
      this.deny('disconnect', 'connection', info.description, this.user);
    }
  }
}
