// The thin async driver around DeviceFlowMachine, and the API the SSH keyboard-interactive hook
// uses:
//
//   const login = await deviceLogins.begin(clientAddress, sessionTag);   // rejects: OidcLoginError
//   send INFO_REQUEST(login.round.name, login.instruction, login.prompts)
//   on INFO_RESPONSE: const r = await login.result;  // { ok: true, identity } | { ok: false, error }
//   on disconnect:    login.cancel('client disconnected');
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

/** Only the two calls the driver needs, so tests can drive it with a scripted provider. */
export type DeviceFlowProvider = Pick<OidcClient, 'startDeviceAuthorization' | 'pollDeviceToken'>;

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

  async begin(clientAddress: string, sessionTag: string): Promise<DeviceLogin> {
    const now = this.#opts.now ?? Date.now;
    if (this.#pending >= (this.#opts.maxPending ?? 500)) {
      throw new OidcLoginError('unreachable', 'Sign-in is busy right now. Try again in a minute.', `${this.#pending} device sign-ins already pending`);
    }
    this.#pending++;
    let authorization: Awaited<ReturnType<DeviceFlowProvider['startDeviceAuthorization']>>;
    try {
      authorization = await this.#provider.startDeviceAuthorization();
    } catch (err) {
      this.#pending--;
      throw err;
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
      this.#provider.pollDeviceToken(authorization.deviceCode).then(
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

