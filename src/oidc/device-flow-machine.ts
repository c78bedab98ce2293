// RFC 8628 device authorization grant as a pure state machine: no I/O, no timers, time passed in.
// The driver (device-flow.ts) performs the requests and arms timers at the times this returns.
import type { OidcIdentity } from './claims.js';
import { OidcLoginError } from './errors.js';

/** The device authorization response (RFC 8628 §3.2), already parsed. */
export interface DeviceAuthorization {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly verificationUri: string;
  readonly verificationUriComplete: string | undefined;
  readonly expiresInSeconds: number;
  /** Absent means 5 s (§3.2). */
  readonly intervalSeconds: number | undefined;
}

/** What one token-endpoint poll produced (§3.4, §3.5), as classified by the provider client. */
export type PollOutcome =
  | { readonly type: 'pending' }
  | { readonly type: 'slow-down' }
  | { readonly type: 'access-denied'; readonly description: string | undefined }
  | { readonly type: 'expired-token' }
  | { readonly type: 'transport-error'; readonly message: string }
  | { readonly type: 'tokens'; readonly identity: OidcIdentity }
  | { readonly type: 'failed'; readonly error: OidcLoginError };

export type DeviceFlowStep =
  | { readonly type: 'poll-at'; readonly atMs: number }
  | { readonly type: 'succeeded'; readonly identity: OidcIdentity }
  | { readonly type: 'failed'; readonly error: OidcLoginError };

/** One keyboard-interactive info request (RFC 4256 §3.2). */
export interface KeyboardInteractiveRound {
  readonly name: string;
  readonly instruction: string;
  readonly prompts: ReadonlyArray<{ readonly prompt: string; readonly echo: boolean }>;
}

export interface DeviceFlowMachineOptions {
  readonly authorization: DeviceAuthorization;
  readonly clientAddress: string;
  readonly sessionTag: string;
  readonly nowMs: number;
  /** Our own upper bound on the whole sign-in, whatever expires_in says. */
  readonly loginTimeoutSeconds: number;
}

const DEFAULT_INTERVAL_S = 5; // RFC 8628 §3.2
const SLOW_DOWN_STEP_S = 5; // RFC 8628 §3.5
const MAX_INTERVAL_S = 60;
const MAX_TRANSPORT_ERRORS = 5;

/**
 * Strip what a hostile or broken provider could use to rewrite the user's terminal (escape
 * sequences, CR, bidi overrides) from text we print over SSH, and bound its length.
 */
export function printable(text: string, max = 512): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').slice(0, max);
}

/**
 * A last keyboard-interactive round that tells the user why sign-in failed before the server
 * refuses: a plain USERAUTH_FAILURE carries no text, and OpenSSH would only say "Permission
 * denied". The message is in the prompt because ssh -q hides the instruction. With `retry`, the
 * server will offer a new code when OpenSSH asks again (it retries keyboard-interactive up to
 * NumberOfPasswordPrompts times), and the prompt says so.
 */
export function failureRound(error: Pick<OidcLoginError, 'userMessage'>, opts: { retry?: boolean } = {}): KeyboardInteractiveRound {
  const next = opts.retry === true ? 'Press Enter for a new code, or Ctrl-C to give up: ' : 'Press Enter to close: ';
  return {
    name: 'Gatehouse single sign-on',
    instruction: `${printable(error.userMessage)}\n`,
    prompts: [{ prompt: `${printable(error.userMessage)} ${next}`, echo: false }],
  };
}

type State = { readonly type: 'polling'; readonly intervalS: number; readonly transportErrors: number } | { readonly type: 'done'; readonly step: DeviceFlowStep };

export class DeviceFlowMachine {
  readonly #opts: DeviceFlowMachineOptions;
  readonly #deadlineMs: number;
  #state: State;

  constructor(opts: DeviceFlowMachineOptions) {
    this.#opts = opts;
    const lifetimeS = Math.min(Math.max(opts.authorization.expiresInSeconds, 1), opts.loginTimeoutSeconds);
    this.#deadlineMs = opts.nowMs + lifetimeS * 1000;
    const interval = opts.authorization.intervalSeconds ?? DEFAULT_INTERVAL_S;
    this.#state = { type: 'polling', intervalS: Math.min(Math.max(interval, 1), MAX_INTERVAL_S), transportErrors: 0 };
  }

  get deadlineMs(): number {
    return this.#deadlineMs;
  }

  get intervalSeconds(): number {
    return this.#state.type === 'polling' ? this.#state.intervalS : 0;
  }

  get isDone(): boolean {
    return this.#state.type === 'done';
  }

  /**
   * The keyboard-interactive round to send. OpenSSH shows the instruction only together with a
   * prompt, so there is exactly one prompt; the answer carries no meaning. OpenSSH also prints
   * name and instruction through its log (sshconnect2.c), so `ssh -q` or LogLevel=ERROR hide
   * them: the prompt, which is always shown, repeats the URL and the session tag.
   */
  round(): KeyboardInteractiveRound {
    const a = this.#opts.authorization;
    const code = printable(a.userCode, 64);
    const tag = printable(this.#opts.sessionTag, 32);
    const lines = ['Sign in with your organisation account to continue.', ''];
    let where: string;
    if (a.verificationUriComplete !== undefined) {
      where = printable(a.verificationUriComplete);
      lines.push(`  Open:   ${where}`);
      lines.push(`  Check that the page shows the code ${code}`);
    } else {
      where = `${printable(a.verificationUri)} (code ${code})`;
      lines.push(`  Open:   ${printable(a.verificationUri)}`);
      lines.push(`  Enter:  ${code}`);
    }
    const minutes = Math.max(1, Math.round((this.#deadlineMs - this.#opts.nowMs) / 60_000));
    lines.push(
      '',
      `This request comes from ${printable(this.#opts.clientAddress, 64)}, session ${tag}.`,
      'If you did not just start an SSH login from there, do not sign in: someone may be',
      'trying to use your account. The code expires in ' + `${minutes} minute${minutes === 1 ? '' : 's'}.`,
    );
    return {
      name: 'Gatehouse single sign-on',
      instruction: `${lines.join('\n')}\n`,
      prompts: [{ prompt: `[session ${tag}] Sign in at ${where}, then press Enter: `, echo: false }],
    };
  }

  /** When to send the first poll. */
  start(): DeviceFlowStep {
    return this.#schedule(this.#opts.nowMs);
  }

  /** Feed the result of one poll; returns what to do next. */
  onPollOutcome(outcome: PollOutcome, nowMs: number): DeviceFlowStep {
    const st = this.#state;
    if (st.type === 'done') return st.step;
    switch (outcome.type) {
      case 'pending':
        this.#state = { ...st, transportErrors: 0 };
        return this.#schedule(nowMs);
      case 'slow-down':
        // §3.5: increase the interval by 5 s for this and all subsequent requests.
        this.#state = { ...st, intervalS: Math.min(st.intervalS + SLOW_DOWN_STEP_S, MAX_INTERVAL_S), transportErrors: 0 };
        return this.#schedule(nowMs);
      case 'transport-error': {
        const errors = st.transportErrors + 1;
        if (errors >= MAX_TRANSPORT_ERRORS) {
          return this.#fail(new OidcLoginError('unreachable', 'Sign-in failed: the identity provider cannot be reached. Try again later.', `token endpoint unreachable: ${outcome.message}`));
        }
        // §3.5: back off exponentially on connection timeouts, without changing the base interval.
        this.#state = { ...st, transportErrors: errors };
        return this.#schedule(nowMs, st.intervalS * 2 ** errors);
      }
      case 'access-denied':
        return this.#fail(
          new OidcLoginError('access-denied', 'Sign-in was declined at the identity provider. Access denied.', `access_denied${outcome.description === undefined ? '' : `: ${printable(outcome.description, 200)}`}`),
        );
      case 'expired-token':
        return this.#fail(this.#expired('provider answered expired_token'));
      case 'tokens':
        return this.#finish({ type: 'succeeded', identity: outcome.identity });
      case 'failed':
        return this.#fail(outcome.error);
      default: {
        const never: never = outcome;
        throw new Error(String(never));
      }
    }
  }

  /** The deadline timer fired (or the driver checks the time): give up if it has passed. */
  onTime(nowMs: number): DeviceFlowStep | undefined {
    if (this.#state.type === 'done') return this.#state.step;
    if (nowMs >= this.#deadlineMs) return this.#fail(this.#expired('device code lifetime elapsed'));
    return undefined;
  }

  /** The SSH connection went away or the server shuts down. */
  cancel(reason: string): DeviceFlowStep {
    if (this.#state.type === 'done') return this.#state.step;
    return this.#fail(new OidcLoginError('cancelled', 'Sign-in cancelled.', reason));
  }

  #schedule(nowMs: number, delayS?: number): DeviceFlowStep {
    const atMs = nowMs + (delayS ?? (this.#state.type === 'polling' ? this.#state.intervalS : DEFAULT_INTERVAL_S)) * 1000;
    if (atMs >= this.#deadlineMs) return this.#fail(this.#expired('device code lifetime elapsed before the next poll'));
    return { type: 'poll-at', atMs };
  }

  #expired(detail: string): OidcLoginError {
    return new OidcLoginError('expired', 'Sign-in timed out: the code expired before sign-in completed.', detail);
  }

  #fail(error: OidcLoginError): DeviceFlowStep {
    return this.#finish({ type: 'failed', error });
  }

  #finish(step: DeviceFlowStep): DeviceFlowStep {
    this.#state = { type: 'done', step };
    return step;
  }
}
