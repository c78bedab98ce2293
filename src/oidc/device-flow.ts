// The thin async driver around DeviceFlowMachine, and the API the SSH keyboard-interactive hook
// uses:
//
//   const login = await deviceLogins.begin(clientAddress, sessionTag, { signal });   // rejects: OidcLoginError
//   send INFO_REQUEST(login.round.name, login.instruction, login.prompts)
//   on INFO_RESPONSE: const r = await login.result;  // { ok: true, identity } | { ok: false, error }
//   on disconnect:    abort `signal` (or login.cancel('client disconnected')): the poll timer is
//                     cleared and a token request in flight is aborted.
import { randomBytes } from 'node:crypto';
import type { OidcIdentity } from './claims.js';
import { DeviceFlowMachine, type DeviceFlowStep, type KeyboardInteractiveRound } from './device-flow-machine.js';
import { OidcLoginError } from './errors.js';
import type { OidcClient } from './provider-client.js';

export type DeviceLoginResult = { readonly ok: true; readonly identity: OidcIdentity } | { readonly ok: false; readonly error: OidcLoginError };

export interface DeviceLogin {
  readonly round: KeyboardInteractiveRound;
  readonly instruction: string;
  readonly prompts: KeyboardInteractiveRound['prompts'];
  readonly userCode: string;
  /** Settles once: signed in, refused, expired or cancelled. Never rejects. */
  readonly result: Promise<DeviceLoginResult>;
  cancel(reason: string): void;
}

/** Only the two calls the driver needs, so tests can drive it with a scripted provider. Both take an AbortSignal. */
export type DeviceFlowProvider = Pick<OidcClient, 'startDeviceAuthorization' | 'pollDeviceToken'>;

export interface BeginOptions {
  /** Aborting it cancels the sign-in: the request to the provider or the poll in flight is aborted, timers cleared. */
  readonly signal?: AbortSignal;
}

/** A function, so that TypeScript does not narrow `aborted` across the awaits that change it. */
const isAborted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true;

const cancelled = (reason: string) => new OidcLoginError('cancelled', 'Sign-in cancelled.', reason);

const TAG_ALPHABET = 'ABCDEFGHJKMNPQRSTVWXYZ23456789'; // no 0/O, 1/I/L, U

/** A short random tag shown both in the SSH client and (by the hook's logs) to operators. */
export function newSessionTag(length = 6): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += TAG_ALPHABET[b % TAG_ALPHABET.length];
  return out;
}

export interface DeviceLoginServiceOptions {
  readonly loginTimeoutSeconds: number;
  /**
   * Sign-ins waiting at once (default 500). Each one holds a device code at the provider and a
   * poll loop here, so unauthenticated connections must not be able to start them without bound.
   */
  readonly maxPending?: number;
  readonly now?: () => number;
  /** Called whenever the next poll is scheduled, with the interval in force (debug logs, tests). */
  readonly onPollScheduled?: (event: { sessionTag: string; atMs: number; intervalSeconds: number }) => void;
  /** Called for each settled login, for audit logs and metrics (the core imports no logger). */
  readonly onSettled?: (event: { clientAddress: string; sessionTag: string; result: DeviceLoginResult }) => void;
}

export class DeviceLoginService {
  readonly #provider: DeviceFlowProvider;
  readonly #opts: DeviceLoginServiceOptions;
  #pending = 0;

  constructor(provider: DeviceFlowProvider, opts: DeviceLoginServiceOptions) {
    this.#provider = provider;
    this.#opts = opts;
  }

  /** Ask the provider for a device code and start polling. Rejects with OidcLoginError. */
  get pending(): number {
    return this.#pending;
  }

  async begin(clientAddress: string, sessionTag: string, opts: BeginOptions = {}): Promise<DeviceLogin> {
    const now = this.#opts.now ?? Date.now;
    const external = opts.signal;
    if (isAborted(external)) throw cancelled('cancelled before the device authorization request');
    if (this.#pending >= (this.#opts.maxPending ?? 500)) {
      throw new OidcLoginError('unreachable', 'Sign-in is busy right now. Try again in a minute.', `${this.#pending} device sign-ins already pending`);
    }
    this.#pending++;
    // Ends the provider request in flight whenever this login settles (or the caller aborts).
    const inflight = new AbortController();
    const onExternalAbort = () => inflight.abort();
    external?.addEventListener('abort', onExternalAbort, { once: true });
    let authorization: Awaited<ReturnType<DeviceFlowProvider['startDeviceAuthorization']>>;
    try {
      authorization = await this.#provider.startDeviceAuthorization(inflight.signal);
      if (isAborted(external)) throw cancelled('cancelled during the device authorization request');
    } catch (err) {
      this.#pending--;
      external?.removeEventListener('abort', onExternalAbort);
      throw isAborted(external) && !(err instanceof OidcLoginError && err.kind === 'cancelled') ? cancelled('cancelled during the device authorization request') : err;
    }
    const machine = new DeviceFlowMachine({ authorization, clientAddress, sessionTag, nowMs: now(), loginTimeoutSeconds: this.#opts.loginTimeoutSeconds });
    const round = machine.round();
    let settle!: (r: DeviceLoginResult) => void;
    const result = new Promise<DeviceLoginResult>((resolve) => {
      settle = resolve;
    });
    let pollTimer: NodeJS.Timeout | undefined;
    let deadlineTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const finish = (step: Extract<DeviceFlowStep, { type: 'succeeded' | 'failed' }>) => {
      if (settled) return;
      settled = true;
      this.#pending--;
      clearTimeout(pollTimer);
      clearTimeout(deadlineTimer);
      external?.removeEventListener('abort', onCancel);
      inflight.abort();
      const r: DeviceLoginResult = step.type === 'succeeded' ? { ok: true, identity: step.identity } : { ok: false, error: step.error };
      this.#opts.onSettled?.({ clientAddress, sessionTag, result: r });
      settle(r);
    };

    const apply = (step: DeviceFlowStep) => {
      switch (step.type) {
        case 'poll-at':
          if (settled) return;
          this.#opts.onPollScheduled?.({ sessionTag, atMs: step.atMs, intervalSeconds: machine.intervalSeconds });
          pollTimer = setTimeout(poll, Math.max(0, step.atMs - now()));
          return;
        case 'succeeded':
        case 'failed':
          finish(step);
          return;
        default: {
          const never: never = step;
          throw new Error(String(never));
        }
      }
    };

    const poll = () => {
      if (settled) return;
      this.#provider.pollDeviceToken(authorization.deviceCode, inflight.signal).then(
        (outcome) => {
          if (!settled) apply(machine.onPollOutcome(outcome, now()));
        },
        (err: unknown) => {
          if (!settled) apply(machine.onPollOutcome({ type: 'transport-error', message: (err as Error)?.message ?? String(err) }, now()));
        },
      );
    };

    deadlineTimer = setTimeout(
      () => {
        const step = machine.onTime(Math.max(now(), machine.deadlineMs));
        if (step !== undefined) apply(step);
      },
      Math.max(0, machine.deadlineMs - now()),
    );
    const onCancel = () => apply(machine.cancel('the caller aborted the sign-in'));
    external?.removeEventListener('abort', onExternalAbort);
    external?.addEventListener('abort', onCancel, { once: true });
    apply(machine.start());

    return {
      round,
      instruction: round.instruction,
      prompts: round.prompts,
      userCode: authorization.userCode,
      result,
      cancel: (reason: string) => apply(machine.cancel(reason)),
    };
  }
}

