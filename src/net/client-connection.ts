/**
 * One outbound connection of SshClient: verifies the server's host key through the caller's
 * verifier (never trusting blindly), drives the userauth client machine with the caller's
 * credentials (private keys, certificates, an ssh-agent, keyboard-interactive, password),
 * then offers the connection protocol: channels, global requests, and incoming channel opens
 * (forwarded-tcpip, auth-agent) decided by hooks.
 */
import type { AuthClientEvent, ClientCredential, KbdPrompt } from '../auth/index.js';
import { AuthClient, serverAuthExtensionsFromExtInfo } from '../auth/index.js';
import { type ChannelOpen, ChannelOpenFailure, type ChannelOpenFailureCode } from '../connection/channel-opens.js';
import type { ChannelId, RequestToken } from '../connection/connection-types.js';
import type { GlobalRequest } from '../connection/global-requests.js';
import { defaultSignatureVerifier } from '../keys/signature.js';
import type { TransportOptions } from '../transport/transport-types.js';
import { bytesEqual, DisconnectReason } from '../wire/index.js';
import type { SshChannel } from './channel-stream.js';
import { ConnectionCore, type CoreOptions } from './connection-core.js';
import type { CloseInfo } from './errors.js';
import type { ByteStream } from './socket-edge.js';

/** Answers whether the server's host key (or host certificate) blob is the right one. */
export type HostKeyVerifier = (
  algorithm: string,
  publicKeyBlob: Uint8Array,
) => { readonly ok: true } | { readonly ok: false; readonly reason: string } | Promise<{ readonly ok: true } | { readonly ok: false; readonly reason: string }>;

/** Something that can sign for a public key: a loaded private key or an agent identity. */
export interface ClientSigner {
  readonly publicKeyBlob: Uint8Array;
  /** Signature algorithms in preference order (for a certificate: the -cert-v01 names). */
  readonly algorithms: readonly string[];
  sign(algorithm: string, data: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

export type ClientAuthMethod =
  /** `query: false` signs straight away instead of asking the server about the key first. */
  | { readonly type: 'signer'; readonly signer: ClientSigner; readonly query?: boolean }
  | { readonly type: 'password'; readonly password: string }
  | {
      readonly type: 'keyboard-interactive';
      readonly answer: (name: string, instruction: string, prompts: readonly KbdPrompt[]) => Promise<readonly string[] | null>;
    }
  | { readonly type: 'none' };

export interface ClientHooks {
  /** Decides a channel the server opens (forwarded-tcpip, auth-agent@openssh.com). Default: refuse. */
  channelOpen?(
    connection: ClientConnection,
    open: ChannelOpen,
  ):
    | { readonly type: 'accept'; readonly onOpen: (channel: SshChannel) => void }
    | { readonly type: 'reject'; readonly reason: ChannelOpenFailureCode; readonly description: string }
    | Promise<
        | { readonly type: 'accept'; readonly onOpen: (channel: SshChannel) => void }
        | { readonly type: 'reject'; readonly reason: ChannelOpenFailureCode; readonly description: string }
      >;
}

export interface ClientConnectionOptions extends CoreOptions {
  readonly username: string;
  readonly auth: readonly ClientAuthMethod[];
  /** false: skip the "none" request and start with the first method (see AuthClientOptions). */
  readonly authNoneFirst?: boolean;
  readonly verifyHostKey: HostKeyVerifier;
  readonly transport?: Omit<TransportOptions, 'role' | 'hostKeys'>;
  readonly hooks?: ClientHooks;
}

/** Authentication did not succeed, with the methods the server still allowed. */
export class SshAuthenticationError extends Error {
  override readonly name = 'SshAuthenticationError';
  constructor(
    message: string,
    readonly methods: readonly string[],
  ) {
    super(message);
  }
}

/** The server's host key was refused by the verifier. */
export class HostKeyRejectedError extends Error {
  override readonly name = 'HostKeyRejectedError';
}

export class ClientConnection extends ConnectionCore {
  /** The host key blob the server proved (after the first key exchange). */
  hostKeyBlob: Uint8Array | undefined;
  hostKeyAlgorithm: string | undefined;
  banner = '';
  private authMachine: AuthClient | null = null;
  private readonly signers: ClientSigner[] = [];
  private readyResolve!: () => void;
  private readyReject!: (e: Error) => void;
  /** Resolves once authenticated; rejects with the reason the connection could not get there. */
  readonly ready: Promise<void>;
  private hostKeyFailure: string | undefined;

  constructor(
    socket: ByteStream,
    private readonly options: ClientConnectionOptions,
  ) {
    super(socket, { verifySignature: defaultSignatureVerifier, ...(options.transport ?? {}), role: 'client' }, options);
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    this.ready.catch(() => {});
    for (const m of options.auth) if (m.type === 'signer') this.signers.push(m.signer);
    this.start();
  }

  protected onHostKey(algorithm: string, publicKey: Uint8Array): void {
    this.hostKeyBlob = publicKey;
    this.hostKeyAlgorithm = algorithm;
    const decide = (v: { readonly ok: true } | { readonly ok: false; readonly reason: string }): void => {
      if (this.isClosed) return;
      if (v.ok) this.transport.acceptHostKey();
      else {
        this.hostKeyFailure = v.reason;
        this.transport.rejectHostKey(v.reason);
      }
    };
    try {
      const v = this.options.verifyHostKey(algorithm, publicKey);
      if (v instanceof Promise) {
        v.then(decide, (e: unknown) => decide({ ok: false, reason: e instanceof Error ? e.message : 'host key check failed' }));
      } else decide(v);
    } catch (e) {
      decide({ ok: false, reason: e instanceof Error ? e.message : 'host key check failed' });
    }
  }

  protected onKexComplete(initial: boolean): void {
    if (!initial || this.authMachine !== null) return;
    const sessionId = this.sessionId;
    const hostKeyBlob = this.hostKeyBlob;
    if (sessionId === undefined || hostKeyBlob === undefined) {
      this.fail(new Error('key exchange finished without a host key'));
      return;
    }
    this.authMachine = new AuthClient({
      sink: (p) => this.sendPayload(p),
      user: this.options.username,
      sessionId,
      hostKeyBlob,
      credentials: this.options.auth.map(toCredential),
      ...(this.options.authNoneFirst === false ? { noneFirst: false } : {}),
    });
    this.authMachine.start();
    this.authPhase = this.authMachine.phase;
  }

  protected override onExtInfo(extensions: ReadonlyMap<string, Uint8Array>): void {
    this.authMachine?.setServerExtensions(serverAuthExtensionsFromExtInfo(extensions));
  }

  protected onAuthPayload(payload: Uint8Array): void {
    const m = this.authMachine;
    if (m === null) throw new Error('userauth message before the key exchange finished');
    const events = m.handle(payload);
    if (this.authPhase !== 'connection') this.authPhase = m.phase;
    this.onAuthEvents(events);
  }

  private onAuthEvents(events: readonly AuthClientEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'banner':
          this.banner += e.message;
          this.emit('banner', e.message);
          break;
        case 'methods':
        case 'key-accepted':
          break;
        case 'sign':
          this.signFor(e.id, e.algorithm, e.publicKeyBlob, e.data);
          break;
        case 'prompt':
          this.promptFor(e.id, e.name, e.instruction, e.prompts);
          break;
        case 'success':
          this.enterConnectionPhase();
          this.emit('authenticated');
          this.readyResolve();
          break;
        case 'exhausted':
          this.readyReject(new SshAuthenticationError(`authentication failed (server allows: ${e.methods.join(', ') || 'nothing'})`, e.methods));
          this.teardown(DisconnectReason.NO_MORE_AUTH_METHODS_AVAILABLE, 'no authentication methods left', false, true);
          return;
        default: {
          const never: never = e;
          throw new Error(`unhandled auth event ${String(never)}`);
        }
      }
    }
  }

  private signFor(id: Parameters<AuthClient['signed']>[0], algorithm: string, blob: Uint8Array, data: Uint8Array): void {
    const signer = this.signers.find((s) => bytesEqual(s.publicKeyBlob, blob));
    const done = (sig: Uint8Array | null): void => {
      if (this.isClosed || this.authMachine === null) return;
      const m = this.authMachine;
      this.guard(() => this.onAuthEvents(m.signed(id, sig)));
    };
    if (signer === undefined) {
      done(null);
      return;
    }
    Promise.resolve()
      .then(() => signer.sign(algorithm, data))
      .then(done, () => done(null));
  }

  private promptFor(id: Parameters<AuthClient['answerPrompts']>[0], name: string, instruction: string, prompts: readonly KbdPrompt[]): void {
    const method = this.options.auth.find((m) => m.type === 'keyboard-interactive');
    const done = (answers: readonly string[] | null): void => {
      if (this.isClosed || this.authMachine === null) return;
      const m = this.authMachine;
      this.guard(() => this.onAuthEvents(m.answerPrompts(id, answers)));
    };
    if (method === undefined || method.type !== 'keyboard-interactive') {
      done(null);
      return;
    }
    method.answer(name, instruction, prompts).then(done, () => done(null));
  }

  protected onOpenRequest(id: ChannelId, open: ChannelOpen): void {
    const hook = this.options.hooks?.channelOpen;
    if (hook === undefined) {
      this.rejectOpen(id, ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED, `${open.type} channels are not accepted`);
      return;
    }
    Promise.resolve()
      .then(() => hook(this, open))
      .then(
        (d) => {
          if (this.isClosed) return;
          if (d.type === 'accept') d.onOpen(this.acceptOpen(id, open));
          else this.rejectOpen(id, d.reason, d.description);
        },
        (e: unknown) => this.rejectOpen(id, ChannelOpenFailure.CONNECT_FAILED, e instanceof Error ? e.message : 'refused'),
      );
  }

  protected onGlobalRequest(_request: GlobalRequest, token: RequestToken | null): void {
    // hostkeys-00@openssh.com and anything else a server asks of a client: politely refused.
    if (token !== null) this.replyGlobal(token, false);
  }

  protected override onClosed(info: CloseInfo): void {
    const reason = this.hostKeyFailure !== undefined ? new HostKeyRejectedError(`host key refused: ${this.hostKeyFailure}`) : new Error(`connection closed: ${info.description}`);
    this.readyReject(reason);
  }
}

function toCredential(m: ClientAuthMethod): ClientCredential {
  switch (m.type) {
    case 'signer':
      return { type: 'publickey', publicKeyBlob: m.signer.publicKeyBlob, algorithms: m.signer.algorithms, ...(m.query === false ? { query: false } : {}) };
    case 'password':
      return { type: 'password', password: m.password };
    case 'keyboard-interactive':
      return { type: 'keyboard-interactive' };
    case 'none':
      return { type: 'none' };
    default: {
      const never: never = m;
      throw new Error(`unhandled auth method ${String(never)}`);
    }
  }
}
