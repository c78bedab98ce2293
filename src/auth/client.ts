/**
 * The client side of user authentication (RFC 4252, RFC 4256, OpenSSH PROTOCOL §2.3.2) as a
 * synchronous, I/O-free machine. Signing (a key file, an agent) and answering prompts are the
 * driver's: the machine emits 'sign' / 'prompt' events and continues when signed() /
 * answerPrompts() are called, so a slow agent or a human never blocks anything else.
 *
 * Strategy (like OpenSSH): "none" first to learn the methods, then each credential at most
 * once, in the caller's order, when the server lists its method; publickey keys are queried
 * before they are signed with, unless the credential says otherwise. With `noneFirst: false`
 * the first credential goes out at once and the methods are learnt from its failure, if any.
 */
import { bytesEqual, DisconnectReason, SshProtocolError } from '../wire/index.js';
import {
  type AuthClientEvent,
  type AuthClientOptions,
  type AuthClientRequestId,
  AuthUsageError,
  type ClientCredential,
  type ServerAuthExtensions,
} from './auth-types.js';
import type { AuthPhase } from './dispatch.js';
import {
  type AuthMessage,
  type AuthMethodRequest,
  decodeAuthMessage,
  encodeAuthMessage,
  HOSTBOUND_METHOD,
  type Msg60Meaning,
} from './messages.js';
import { plainAlgorithm, publickeySignedData } from './public-key-proof.js';

type PublickeyCredential = Extract<ClientCredential, { type: 'publickey' }>;

type Attempt =
  | { readonly kind: 'none' }
  | { readonly kind: 'publickey-query'; readonly cred: PublickeyCredential; readonly algorithm: string }
  | {
      readonly kind: 'publickey-sign';
      readonly id: AuthClientRequestId;
      readonly cred: PublickeyCredential;
      readonly algorithm: string;
      /** Fixed when the data to sign was made, so a late EXT_INFO cannot split request and signature. */
      readonly hostbound: boolean;
    }
  | { readonly kind: 'publickey-signed' }
  | { readonly kind: 'password' }
  | { readonly kind: 'keyboard-interactive'; prompt: { id: AuthClientRequestId; count: number } | null };

const SERVICE = 'ssh-connection';

function protocolError(message: string): SshProtocolError {
  return new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, message);
}

/** The first algorithm the server announced in server-sig-algs, else the caller's first choice. */
export function chooseSignatureAlgorithm(
  algorithms: readonly string[],
  serverSigAlgs: readonly string[] | undefined,
): string | undefined {
  if (serverSigAlgs === undefined) return algorithms[0];
  return algorithms.find((a) => serverSigAlgs.includes(plainAlgorithm(a))) ?? algorithms[0];
}

export class AuthClient {
  private readonly opts: AuthClientOptions;
  private stateValue: 'idle' | 'service' | 'userauth' | 'connection' | 'failed' = 'idle';
  private ext: ServerAuthExtensions = {};
  private nextCredential = 0;
  private attempt: Attempt | null = null;
  private methods: readonly string[] = [];
  /** Whether `methods` came from the server (false until the first USERAUTH_FAILURE when "none" was skipped). */
  private methodsKnown = false;
  private nextId = 1;

  constructor(opts: AuthClientOptions) {
    this.opts = opts;
  }

  get state(): 'idle' | 'service' | 'userauth' | 'connection' | 'failed' {
    return this.stateValue;
  }

  /** For routeMessage(). */
  get phase(): AuthPhase {
    if (this.stateValue === 'connection') return 'connection';
    return this.stateValue === 'userauth' ? 'userauth' : 'service';
  }

  /** What the server allowed in its last USERAUTH_FAILURE. */
  get allowedMethods(): readonly string[] {
    return this.methods;
  }

  /** Tells the machine what the server announced in EXT_INFO (may come any time before signing). */
  setServerExtensions(ext: ServerAuthExtensions): void {
    this.ext = { ...this.ext, ...ext };
  }

  /** Sends SERVICE_REQUEST "ssh-userauth" (RFC 4253 §10). */
  start(): void {
    if (this.stateValue !== 'idle') throw new AuthUsageError('start() called twice');
    this.stateValue = 'service';
    this.send({ type: 'service-request', service: 'ssh-userauth' });
  }

  /** Handles one payload routed to 'auth'. Throws SshProtocolError for anything out of state. */
  handle(payload: Uint8Array): AuthClientEvent[] {
    const events: AuthClientEvent[] = [];
    if (this.stateValue === 'failed' || this.stateValue === 'connection') return events;
    const m = decodeAuthMessage(payload, this.msg60());
    switch (m.type) {
      case 'service-accept':
        if (this.stateValue !== 'service' || m.service !== 'ssh-userauth') {
          throw protocolError(`unexpected SERVICE_ACCEPT for ${m.service}`);
        }
        this.stateValue = 'userauth';
        if (this.opts.noneFirst === false) {
          this.next(events);
          return events;
        }
        this.attempt = { kind: 'none' };
        this.request({ method: 'none' });
        return events;
      case 'userauth-banner':
        events.push({ type: 'banner', message: m.message, language: m.language });
        return events;
      case 'userauth-failure':
        this.expectReply('USERAUTH_FAILURE');
        this.methods = m.methods;
        this.methodsKnown = true;
        this.attempt = null;
        events.push({ type: 'methods', methods: m.methods, partialSuccess: m.partialSuccess });
        this.next(events);
        return events;
      case 'userauth-success':
        this.expectReply('USERAUTH_SUCCESS');
        this.attempt = null;
        this.stateValue = 'connection';
        events.push({ type: 'success' });
        return events;
      case 'pk-ok': {
        const a = this.attempt;
        if (a?.kind !== 'publickey-query') throw protocolError('PK_OK without a query');
        if (m.algorithm !== a.algorithm || !bytesEqual(m.publicKey, a.cred.publicKeyBlob)) {
          throw protocolError('PK_OK for another key than the one queried');
        }
        events.push({ type: 'key-accepted', algorithm: a.algorithm, publicKeyBlob: a.cred.publicKeyBlob });
        this.askSignature(a.cred, a.algorithm, events);
        return events;
      }
      case 'passwd-changereq':
        // We do not change passwords (RFC 4252 §8): treat it as this password failing.
        this.attempt = null;
        this.next(events);
        return events;
      case 'info-request': {
        const a = this.attempt;
        if (a?.kind !== 'keyboard-interactive' || a.prompt !== null) throw protocolError('INFO_REQUEST out of turn');
        const id = this.nextId++ as AuthClientRequestId;
        a.prompt = { id, count: m.prompts.length };
        events.push({ type: 'prompt', id, name: m.name, instruction: m.instruction, prompts: m.prompts });
        return events;
      }
      case 'service-request':
      case 'userauth-request':
      case 'info-response':
        throw protocolError(`a client does not accept ${m.type}`);
      default: {
        const never: never = m;
        throw new Error(`unhandled auth message ${String(never)}`);
      }
    }
  }

  /** The signature for a 'sign' event (an SSH signature blob), or null to skip this key. */
  signed(id: AuthClientRequestId, signature: Uint8Array | null): AuthClientEvent[] {
    const events: AuthClientEvent[] = [];
    const a = this.attempt;
    if (this.stateValue !== 'userauth' || a?.kind !== 'publickey-sign' || a.id !== id) return events;
    if (signature === null) {
      this.attempt = null;
      this.next(events);
      return events;
    }
    this.attempt = { kind: 'publickey-signed' };
    this.request(this.publickeyRequest(a.cred, a.algorithm, signature, a.hostbound));
    return events;
  }

  /** Answers a 'prompt' event (one response per prompt), or null to abandon keyboard-interactive. */
  answerPrompts(id: AuthClientRequestId, responses: readonly string[] | null): AuthClientEvent[] {
    const events: AuthClientEvent[] = [];
    const a = this.attempt;
    if (this.stateValue !== 'userauth' || a?.kind !== 'keyboard-interactive' || a.prompt?.id !== id) return events;
    if (responses === null) {
      this.attempt = null;
      this.next(events);
      return events;
    }
    if (responses.length !== a.prompt.count) {
      throw new AuthUsageError(`${responses.length} responses to ${a.prompt.count} prompts`);
    }
    a.prompt = null;
    this.send({ type: 'info-response', responses });
    return events;
  }

  // ---------------------------------------------------------------- internals

  private msg60(): Msg60Meaning | undefined {
    switch (this.attempt?.kind) {
      case 'publickey-query':
        return 'pk-ok';
      case 'password':
        return 'passwd-changereq';
      case 'keyboard-interactive':
        return 'info-request';
      default:
        return undefined;
    }
  }

  private expectReply(what: string): void {
    const a = this.attempt;
    if (this.stateValue !== 'userauth' || a === null || a.kind === 'publickey-sign') {
      throw protocolError(`${what} without a request`);
    }
  }

  private send(m: AuthMessage): void {
    this.opts.sink(encodeAuthMessage(m));
  }

  private request(request: AuthMethodRequest): void {
    this.send({ type: 'userauth-request', user: this.opts.user, service: SERVICE, request });
  }

  private get hostbound(): boolean {
    return this.ext.publickeyHostbound === true;
  }

  private publickeyRequest(
    cred: PublickeyCredential,
    algorithm: string,
    signature: Uint8Array | undefined,
    hostbound = this.hostbound,
  ): AuthMethodRequest {
    if (hostbound) {
      return {
        method: HOSTBOUND_METHOD,
        algorithm,
        publicKey: cred.publicKeyBlob,
        hostKey: this.opts.hostKeyBlob,
        signature,
      };
    }
    return { method: 'publickey', algorithm, publicKey: cred.publicKeyBlob, signature };
  }

  private askSignature(cred: PublickeyCredential, algorithm: string, events: AuthClientEvent[]): void {
    const id = this.nextId++ as AuthClientRequestId;
    const hostbound = this.hostbound;
    this.attempt = { kind: 'publickey-sign', id, cred, algorithm, hostbound };
    const data = publickeySignedData({
      sessionId: this.opts.sessionId,
      user: this.opts.user,
      service: SERVICE,
      algorithm,
      publicKey: cred.publicKeyBlob,
      hostKey: hostbound ? this.opts.hostKeyBlob : undefined,
    });
    events.push({ type: 'sign', id, algorithm, publicKeyBlob: cred.publicKeyBlob, data });
  }

  /** Whether the server allows `method`, as far as we know (everything, before it has said). */
  private allows(method: string): boolean {
    return !this.methodsKnown || this.methods.includes(method);
  }

  /** Starts the next credential the server allows, or reports that nothing is left. */
  private next(events: AuthClientEvent[]): void {
    const creds = this.opts.credentials;
    while (this.nextCredential < creds.length) {
      const cred = creds[this.nextCredential++];
      if (cred === undefined) break;
      switch (cred.type) {
        case 'none':
          continue; // sent first, or skipped on purpose (noneFirst: false)
        case 'publickey': {
          if (!this.allows('publickey')) continue;
          const algorithm = chooseSignatureAlgorithm(cred.algorithms, this.ext.serverSigAlgs);
          if (algorithm === undefined) continue;
          if (cred.query === false) {
            this.askSignature(cred, algorithm, events);
            return;
          }
          this.attempt = { kind: 'publickey-query', cred, algorithm };
          this.request(this.publickeyRequest(cred, algorithm, undefined));
          return;
        }
        case 'password':
          if (!this.allows('password')) continue;
          this.attempt = { kind: 'password' };
          this.request({ method: 'password', password: cred.password, newPassword: undefined });
          return;
        case 'keyboard-interactive':
          if (!this.allows('keyboard-interactive')) continue;
          this.attempt = { kind: 'keyboard-interactive', prompt: null };
          this.request({ method: 'keyboard-interactive', language: '', submethods: cred.submethods ?? '' });
          return;
        default: {
          const never: never = cred;
          throw new Error(`unhandled credential ${String(never)}`);
        }
      }
    }
    this.attempt = null;
    this.stateValue = 'failed';
    events.push({ type: 'exhausted', methods: this.methods });
  }
}

/**
 * The parts of a server's EXT_INFO (RFC 8308 §3.1 server-sig-algs; OpenSSH PROTOCOL §1.9
 * publickey-hostbound@openssh.com, version "0") that the client machine uses.
 */
export function serverAuthExtensionsFromExtInfo(extensions: ReadonlyMap<string, Uint8Array>): ServerAuthExtensions {
  const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : new TextDecoder().decode(v));
  const sigAlgs = text(extensions.get('server-sig-algs'));
  const hostbound = text(extensions.get('publickey-hostbound@openssh.com'));
  const out: { serverSigAlgs?: readonly string[]; publickeyHostbound?: boolean } = {};
  if (sigAlgs !== undefined) out.serverSigAlgs = sigAlgs === '' ? [] : sigAlgs.split(',');
  if (hostbound !== undefined) out.publickeyHostbound = hostbound === '0';
  return out;
}
