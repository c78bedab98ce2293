/**
 * The server side of user authentication (RFC 4252, RFC 4256, OpenSSH PROTOCOL §2.3.2) as a
 * synchronous, I/O-free machine. Decisions (is this key trusted, is this password right, what
 * does the next keyboard-interactive round ask) belong to the driver: the machine emits a
 * 'check' event and waits for respond(id, answer). No timers: the driver calls tick(now).
 *
 * The identity in the 'success' event comes only from factors that passed here, and a
 * publickey factor only from a ProvenKey (public-key-proof.ts).
 */
import { bytesEqual, DisconnectReason, SshProtocolError } from '../wire/index.js';
import type { AuthPhase } from './dispatch.js';
import {
  type AuthAnswer,
  type AuthCheck,
  type AuthMethodName,
  type AuthRequestId,
  type AuthResult,
  type AuthServerEvent,
  type AuthServerOptions,
  type AuthStep,
  AuthUsageError,
} from './auth-types.js';
import {
  type AuthMessage,
  authMethodName,
  decodeAuthMessage,
  encodeAuthMessage,
  HOSTBOUND_METHOD,
  MAX_PROMPTS,
} from './messages.js';
import { offeredKey, provePublicKey, publickeySignedData } from './public-key-proof.js';

type UserauthRequest = Extract<AuthMessage, { type: 'userauth-request' }>;

interface Pending {
  readonly id: AuthRequestId;
  readonly user: string;
  readonly method: string;
  readonly check: AuthCheck;
  /** Whether a refusal counts against the attempt limit (not the opening "none"). */
  readonly counted: boolean;
  /** A newer request replaced this keyboard-interactive exchange; the answer is dropped. */
  superseded: boolean;
}

interface KbdState {
  /** An INFO_REQUEST is out and its INFO_RESPONSE not yet in. */
  awaitingResponse: boolean;
  prompts: number;
  rounds: number;
}

const KNOWN_METHODS: readonly AuthMethodName[] = ['none', 'publickey', 'keyboard-interactive', 'password'];

function protocolError(message: string): SshProtocolError {
  return new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, message);
}

export class AuthServer {
  private readonly opts: AuthServerOptions;
  private readonly initialMethods: readonly AuthMethodName[];
  private readonly maxAttempts: number;
  private readonly graceMs: number;
  private readonly maxKbdRounds: number;
  private readonly maxQueued: number;
  private readonly startedAt: number;
  private stateValue: 'service' | 'userauth' | 'connection' | 'closed' = 'service';
  private user: string | undefined;
  private steps: AuthStep[] = [];
  private allowed: AuthMethodName[];
  private failures = 0;
  private sawRequest = false;
  private bannerSent = false;
  private pending: Pending | null = null;
  private readonly queue: UserauthRequest[] = [];
  private kbd: KbdState | null = null;
  private nextId = 1;
  private resultValue: AuthResult | undefined;

  constructor(opts: AuthServerOptions) {
    this.opts = opts;
    this.initialMethods = [...(opts.methods ?? ['publickey', 'keyboard-interactive'])];
    for (const m of this.initialMethods) if (!KNOWN_METHODS.includes(m)) throw new AuthUsageError(`unknown method ${m}`);
    this.allowed = [...this.initialMethods];
    this.maxAttempts = opts.maxAttempts ?? 6;
    this.graceMs = opts.loginGraceMs ?? 120_000;
    this.maxKbdRounds = opts.maxKbdRounds ?? 10;
    this.maxQueued = opts.maxQueuedRequests ?? 4;
    this.startedAt = opts.now;
  }

  /** Where the conversation is; 'closed' after a 'disconnect' event. */
  get state(): 'service' | 'userauth' | 'connection' | 'closed' {
    return this.stateValue;
  }

  /** For routeMessage(): a closed machine still counts as unauthenticated. */
  get phase(): AuthPhase {
    return this.stateValue === 'closed' ? 'userauth' : this.stateValue;
  }

  /** Set once authentication succeeded. */
  get result(): AuthResult | undefined {
    return this.resultValue;
  }

  /** Failed attempts so far. */
  get attempts(): number {
    return this.failures;
  }

  /** Handles one payload routed to 'auth'. Throws SshProtocolError for anything out of state. */
  handle(payload: Uint8Array): AuthServerEvent[] {
    const events: AuthServerEvent[] = [];
    if (this.stateValue === 'closed') return events;
    const m = decodeAuthMessage(payload);
    switch (m.type) {
      case 'service-request':
        if (this.stateValue !== 'service') throw protocolError('second SERVICE_REQUEST');
        if (m.service !== 'ssh-userauth') {
          throw new SshProtocolError(DisconnectReason.SERVICE_NOT_AVAILABLE, `service ${m.service} not available`);
        }
        this.stateValue = 'userauth';
        this.send({ type: 'service-accept', service: 'ssh-userauth' });
        return events;
      case 'userauth-request':
        if (this.stateValue === 'connection') return events; // RFC 4252 §5.1: silently ignored
        if (this.stateValue !== 'userauth') throw protocolError('USERAUTH_REQUEST before the service was accepted');
        if (m.service !== 'ssh-connection') {
          throw new SshProtocolError(DisconnectReason.SERVICE_NOT_AVAILABLE, `service ${m.service} not available`);
        }
        if (this.pending !== null) {
          if (this.queue.length >= this.maxQueued) throw protocolError('too many pipelined USERAUTH_REQUESTs');
          if (this.kbd !== null) this.pending.superseded = true;
          this.queue.push(m);
          return events;
        }
        this.process(m, events);
        return events;
      case 'info-response': {
        const kbd = this.kbd;
        if (this.stateValue !== 'userauth' || kbd === null || !kbd.awaitingResponse || this.pending !== null) {
          throw protocolError('INFO_RESPONSE without an INFO_REQUEST');
        }
        if (m.responses.length !== kbd.prompts) {
          throw protocolError(`INFO_RESPONSE with ${m.responses.length} answers to ${kbd.prompts} prompts`);
        }
        kbd.awaitingResponse = false;
        this.ask(this.user ?? '', 'keyboard-interactive', {
          kind: 'keyboard-interactive-answers',
          responses: m.responses,
          round: kbd.rounds,
        }, events);
        return events;
      }
      case 'service-accept':
      case 'userauth-failure':
      case 'userauth-success':
      case 'userauth-banner':
      case 'pk-ok':
      case 'passwd-changereq':
      case 'info-request':
        throw protocolError(`a server does not accept ${m.type}`);
      default: {
        const never: never = m;
        throw new Error(`unhandled auth message ${String(never)}`);
      }
    }
  }

  /**
   * Answers the check with this id. Answers to checks that are no longer current (the client
   * moved on, the machine closed) are ignored. Throws AuthUsageError for an answer that does not
   * fit the check (a 'prompt' outside keyboard-interactive, 'partial' to a query).
   */
  respond(id: AuthRequestId, answer: AuthAnswer): AuthServerEvent[] {
    const events: AuthServerEvent[] = [];
    const p = this.pending;
    if (p === null || p.id !== id || this.stateValue !== 'userauth') return events;
    const isKbd = p.check.kind === 'keyboard-interactive' || p.check.kind === 'keyboard-interactive-answers';
    if (answer.type === 'prompt' && !isKbd) throw new AuthUsageError('prompt answers only keyboard-interactive');
    if (answer.type === 'prompt' && answer.prompts.length > MAX_PROMPTS) throw new AuthUsageError('too many prompts');
    if (answer.type === 'partial' && p.check.kind === 'publickey-query') {
      throw new AuthUsageError('a query cannot be partial success: accept means PK_OK');
    }
    if (answer.type === 'partial') {
      if (answer.methods.length === 0) throw new AuthUsageError('partial success needs methods to continue with');
      for (const m of answer.methods) if (!KNOWN_METHODS.includes(m)) throw new AuthUsageError(`unknown method ${m}`);
    }
    this.pending = null;
    if (!p.superseded) this.apply(p, answer, events);
    this.drain(events);
    return events;
  }

  /** Checks the login grace time against a reading of the clock given at construction. */
  tick(now: number): AuthServerEvent[] {
    if ((this.stateValue === 'service' || this.stateValue === 'userauth') && now - this.startedAt >= this.graceMs) {
      return [this.close(DisconnectReason.BY_APPLICATION, 'login grace time exceeded')];
    }
    return [];
  }

  /** Sends a USERAUTH_BANNER (only allowed before success, RFC 4252 §5.4). */
  sendBanner(message: string): void {
    if (this.stateValue !== 'userauth') throw new AuthUsageError('a banner is only allowed during authentication');
    this.send({ type: 'userauth-banner', message, language: '' });
  }

  // ---------------------------------------------------------------- internals

  private send(m: AuthMessage): void {
    this.opts.sink(encodeAuthMessage(m));
  }

  private close(reason: (typeof DisconnectReason)[keyof typeof DisconnectReason], message: string): AuthServerEvent {
    this.stateValue = 'closed';
    this.pending = null;
    this.queue.length = 0;
    this.kbd = null;
    return { type: 'disconnect', reason, message };
  }

  private drain(events: AuthServerEvent[]): void {
    while (this.pending === null && this.stateValue === 'userauth') {
      const next = this.queue.shift();
      if (next === undefined) return;
      this.process(next, events);
    }
    if (this.stateValue !== 'userauth') this.queue.length = 0;
  }

  private ask(user: string, method: string, check: AuthCheck, events: AuthServerEvent[], counted = true): void {
    const id = this.nextId++ as AuthRequestId;
    this.pending = { id, user, method, check, counted, superseded: false };
    events.push({ type: 'check', id, user, check });
  }

  private process(m: UserauthRequest, events: AuthServerEvent[]): undefined {
    if (!this.bannerSent) {
      this.bannerSent = true;
      if (this.opts.banner !== undefined) this.send({ type: 'userauth-banner', message: this.opts.banner, language: '' });
    }
    if (this.user !== undefined && m.user !== this.user) {
      // RFC 4252 §5: state must not carry over to another user. Factors passed so far are void.
      events.push({ type: 'user-changed', from: this.user, to: m.user });
      this.steps = [];
      this.allowed = [...this.initialMethods];
    }
    this.user = m.user;
    this.kbd = null; // a new request abandons keyboard-interactive (RFC 4256 §3.4)
    const user = m.user;
    const req = m.request;
    const method = authMethodName(req);
    // OpenSSH does not count the customary opening "none" request as a failure.
    const counted = this.sawRequest || method !== 'none';
    this.sawRequest = true;
    const fail = (reason: string): undefined => {
      this.fail(user, method, reason, counted, events);
    };
    switch (req.method) {
      case 'none':
        if (!this.allowed.includes('none')) return fail('method none not allowed');
        this.ask(user, method, { kind: 'none' }, events, counted);
        return;
      case 'publickey':
      case HOSTBOUND_METHOD: {
        if (!this.allowed.includes('publickey')) return fail('method publickey not allowed');
        const offered = offeredKey(req.algorithm, req.publicKey);
        if (offered === undefined) return fail(`algorithm ${req.algorithm} does not fit the key`);
        const hostbound = req.method === HOSTBOUND_METHOD;
        if (req.method === HOSTBOUND_METHOD && !bytesEqual(req.hostKey, this.opts.hostKeyBlob)) {
          return fail('publickey-hostbound names another host key');
        }
        if (req.signature === undefined) {
          this.ask(user, method, { kind: 'publickey-query', key: offered }, events);
          return;
        }
        const data = publickeySignedData({
          sessionId: this.opts.sessionId,
          user,
          service: m.service,
          algorithm: req.algorithm,
          publicKey: req.publicKey,
          hostKey: req.method === HOSTBOUND_METHOD ? req.hostKey : undefined,
        });
        const proven = provePublicKey(this.opts.verify, offered, req.signature, data, hostbound);
        if (proven === undefined) return fail('signature did not verify');
        this.ask(user, method, { kind: 'publickey', key: proven }, events);
        return;
      }
      case 'password':
        if (!this.allowed.includes('password')) return fail('method password not allowed');
        if (req.newPassword !== undefined) return fail('password change not supported');
        this.ask(user, method, { kind: 'password', password: req.password }, events);
        return;
      case 'keyboard-interactive':
        if (!this.allowed.includes('keyboard-interactive')) return fail('method keyboard-interactive not allowed');
        this.kbd = { awaitingResponse: false, prompts: 0, rounds: 0 };
        this.ask(user, method, { kind: 'keyboard-interactive', submethods: req.submethods, round: 0 }, events);
        return;
      case 'unknown':
        return fail(`method ${req.name} not supported`);
      default: {
        const never: never = req;
        throw new Error(`unhandled auth method ${String(never)}`);
      }
    }
  }

  private apply(p: Pending, answer: AuthAnswer, events: AuthServerEvent[]): void {
    const step = this.stepFor(p.check);
    switch (answer.type) {
      case 'accept':
        if (p.check.kind === 'publickey-query') {
          this.send({ type: 'pk-ok', algorithm: p.check.key.algorithm, publicKey: p.check.key.blob });
          return;
        }
        if (step === undefined) throw new Error('unreachable: a decision without a step');
        this.steps.push(step);
        this.kbd = null;
        this.stateValue = 'connection';
        this.resultValue = { user: p.user, service: 'ssh-connection', steps: [...this.steps] };
        this.send({ type: 'userauth-success' });
        events.push({ type: 'success', result: this.resultValue });
        return;
      case 'partial':
        if (step === undefined) throw new Error('unreachable: a decision without a step');
        this.steps.push(step);
        this.kbd = null;
        this.allowed = [...answer.methods];
        this.send({ type: 'userauth-failure', methods: this.listedMethods(), partialSuccess: true });
        events.push({ type: 'partial', user: p.user, step, methods: this.allowed });
        return;
      case 'reject':
        this.kbd = null;
        this.fail(p.user, p.method, answer.reason, p.counted, events);
        return;
      case 'prompt': {
        const kbd = this.kbd;
        if (kbd === null) return;
        if (kbd.rounds >= this.maxKbdRounds) {
          this.kbd = null;
          this.fail(p.user, p.method, 'too many keyboard-interactive rounds', true, events);
          return;
        }
        kbd.rounds += 1;
        kbd.prompts = answer.prompts.length;
        kbd.awaitingResponse = true;
        this.send({
          type: 'info-request',
          name: answer.name,
          instruction: answer.instruction,
          language: '',
          prompts: answer.prompts,
        });
        return;
      }
      default: {
        const never: never = answer;
        throw new Error(`unhandled answer ${String(never)}`);
      }
    }
  }

  private stepFor(check: AuthCheck): AuthStep | undefined {
    switch (check.kind) {
      case 'none':
        return { method: 'none' };
      case 'publickey-query':
        return undefined;
      case 'publickey':
        return { method: 'publickey', key: check.key };
      case 'password':
        return { method: 'password' };
      case 'keyboard-interactive':
      case 'keyboard-interactive-answers':
        return { method: 'keyboard-interactive' };
      default: {
        const never: never = check;
        throw new Error(`unhandled check ${String(never)}`);
      }
    }
  }

  /** The methods a FAILURE names: "none" is never listed (RFC 4252 §5.2). */
  private listedMethods(): AuthMethodName[] {
    return this.allowed.filter((m) => m !== 'none');
  }

  private fail(user: string, method: string, reason: string, counted: boolean, events: AuthServerEvent[]): void {
    if (counted) this.failures += 1;
    events.push({ type: 'failure', user, method, reason, attempts: this.failures });
    if (this.failures >= this.maxAttempts) {
      events.push(this.close(DisconnectReason.NO_MORE_AUTH_METHODS_AVAILABLE, 'too many authentication failures'));
      return;
    }
    this.send({ type: 'userauth-failure', methods: this.listedMethods(), partialSuccess: false });
  }
}
