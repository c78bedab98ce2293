import { describe, expect, it } from 'vitest';
import type { OidcIdentity } from '../../src/oidc/claims.js';
import { type DeviceAuthorization, DeviceFlowMachine, type DeviceFlowStep, failureRound, printable } from '../../src/oidc/device-flow-machine.js';
import { OidcLoginError } from '../../src/oidc/errors.js';

const T0 = 1_800_000_000_000;
const alice: OidcIdentity = { user: 'alice@example.com', groups: ['ops'], source: 'oidc', issuer: 'https://idp.example', subject: 'a1' };

function auth(over: Partial<DeviceAuthorization> = {}): DeviceAuthorization {
  return {
    deviceCode: 'dc',
    userCode: 'WDJB-MJHT',
    verificationUri: 'https://idp.example/device',
    verificationUriComplete: 'https://idp.example/device?user_code=WDJB-MJHT',
    expiresInSeconds: 600,
    intervalSeconds: undefined,
    ...over,
  };
}

function machine(over: Partial<DeviceAuthorization> = {}, loginTimeoutSeconds = 900) {
  return new DeviceFlowMachine({ authorization: auth(over), clientAddress: '203.0.113.5', sessionTag: 'K7QX2M', nowMs: T0, loginTimeoutSeconds });
}

function pollAt(step: DeviceFlowStep): number {
  if (step.type !== 'poll-at') throw new Error(`expected poll-at, got ${step.type}`);
  return step.atMs;
}

function failure(step: DeviceFlowStep): OidcLoginError {
  if (step.type !== 'failed') throw new Error(`expected failed, got ${step.type}`);
  return step.error;
}

describe('DeviceFlowMachine round', () => {
  it('shows the complete URI, the code, the client address and session tag, with exactly one prompt', () => {
    const r = machine().round();
    expect(r.instruction).toContain('https://idp.example/device?user_code=WDJB-MJHT');
    expect(r.instruction).toContain('WDJB-MJHT');
    expect(r.instruction).toContain('203.0.113.5');
    expect(r.instruction).toContain('K7QX2M');
    expect(r.instruction).toMatch(/did not just start an SSH login/);
    expect(r.prompts).toHaveLength(1);
    // The prompt alone (all that `ssh -q` shows) still carries the URL and the session tag.
    expect(r.prompts[0]?.prompt).toBe('[session K7QX2M] Sign in at https://idp.example/device?user_code=WDJB-MJHT, then press Enter: ');
    expect(r.prompts[0]?.echo).toBe(false);
  });

  it('falls back to verification_uri plus the code to type', () => {
    const r = machine({ verificationUriComplete: undefined }).round();
    expect(r.instruction).toContain('Open:   https://idp.example/device\n');
    expect(r.instruction).toContain('Enter:  WDJB-MJHT');
    expect(r.prompts[0]?.prompt).toContain('https://idp.example/device (code WDJB-MJHT)');
  });

  it('strips terminal escape sequences a hostile provider could send', () => {
    const r = machine({ verificationUriComplete: 'https://evil\x1b]0;owned\x07/x\r\nfake', userCode: 'AB\x1b[2JCD' }).round();
    expect(r.instruction).not.toMatch(/[\x1b\x07\r]/);
    expect(printable('a\u202eb\x9bc')).toBe('abc');
  });
});

describe('failureRound', () => {
  it('puts the reason in the one prompt, stripped of control characters', () => {
    const r = failureRound(new OidcLoginError('access-denied', 'Sign-in was declined.\x1b[2J', 'detail'));
    expect(r.prompts).toEqual([{ prompt: 'Sign-in was declined.[2J Press Enter to close: ', echo: false }]);
    expect(r.instruction).not.toContain('detail');
  });
});

describe('DeviceFlowMachine polling (RFC 8628 §3.4–3.5)', () => {
  it('polls at the default interval of 5 s, keeps it on authorization_pending, and succeeds', () => {
    const m = machine();
    expect(pollAt(m.start())).toBe(T0 + 5000);
    expect(pollAt(m.onPollOutcome({ type: 'pending' }, T0 + 5000))).toBe(T0 + 10_000);
    const done = m.onPollOutcome({ type: 'tokens', identity: alice }, T0 + 10_000);
    expect(done).toEqual({ type: 'succeeded', identity: alice });
    expect(m.isDone).toBe(true);
  });

  it('honours the advertised interval and adds 5 s on each slow_down, for all later polls', () => {
    const m = machine({ intervalSeconds: 2 });
    expect(pollAt(m.start())).toBe(T0 + 2000);
    expect(pollAt(m.onPollOutcome({ type: 'slow-down' }, T0 + 2000))).toBe(T0 + 2000 + 7000);
    expect(pollAt(m.onPollOutcome({ type: 'slow-down' }, T0 + 9000))).toBe(T0 + 9000 + 12_000);
    expect(pollAt(m.onPollOutcome({ type: 'pending' }, T0 + 21_000))).toBe(T0 + 21_000 + 12_000);
    expect(m.intervalSeconds).toBe(12);
  });

  it('turns access_denied into a clear refusal', () => {
    const m = machine();
    m.start();
    const err = failure(m.onPollOutcome({ type: 'access-denied', description: 'End-User aborted interaction' }, T0 + 5000));
    expect(err.kind).toBe('access-denied');
    expect(err.userMessage).toMatch(/declined/);
  });

  it('turns expired_token into an expiry message', () => {
    const m = machine();
    m.start();
    const err = failure(m.onPollOutcome({ type: 'expired-token' }, T0 + 5000));
    expect(err.kind).toBe('expired');
    expect(err.userMessage).toMatch(/expired/);
  });

  it('gives up at expiry even while the provider keeps saying pending', () => {
    const m = machine({ expiresInSeconds: 12 });
    let step = m.start();
    let now = T0;
    for (let i = 0; i < 10 && step.type === 'poll-at'; i++) {
      now = step.atMs;
      step = m.onPollOutcome({ type: 'pending' }, now);
    }
    expect(failure(step).kind).toBe('expired');
    expect(now).toBeLessThan(T0 + 12_000);
  });

  it('bounds the sign-in by the configured login timeout when the code lives longer', () => {
    const m = machine({ expiresInSeconds: 1800 }, 60);
    expect(m.deadlineMs).toBe(T0 + 60_000);
    expect(m.onTime(T0 + 59_999)).toBeUndefined();
    expect(failure(m.onTime(T0 + 60_000) as DeviceFlowStep).kind).toBe('expired');
  });

  it('backs off exponentially on transport errors and fails after repeated ones', () => {
    const m = machine({ intervalSeconds: 1, expiresInSeconds: 600 });
    m.start();
    expect(pollAt(m.onPollOutcome({ type: 'transport-error', message: 'ECONNRESET' }, T0))).toBe(T0 + 2000);
    expect(pollAt(m.onPollOutcome({ type: 'transport-error', message: 'ECONNRESET' }, T0))).toBe(T0 + 4000);
    expect(pollAt(m.onPollOutcome({ type: 'pending' }, T0))).toBe(T0 + 1000);
    let step: DeviceFlowStep = { type: 'poll-at', atMs: T0 };
    for (let i = 0; i < 5; i++) step = m.onPollOutcome({ type: 'transport-error', message: 'timeout' }, T0);
    expect(failure(step).kind).toBe('unreachable');
  });

  it('passes a classified failure through and stays settled afterwards', () => {
    const m = machine();
    m.start();
    const bad = new OidcLoginError('invalid-token', 'Sign-in refused: audience', 'aud');
    expect(failure(m.onPollOutcome({ type: 'failed', error: bad }, T0 + 5000))).toBe(bad);
    expect(failure(m.onPollOutcome({ type: 'tokens', identity: alice }, T0 + 6000))).toBe(bad);
    expect(failure(m.cancel('late'))).toBe(bad);
  });

  it('cancels', () => {
    const m = machine();
    m.start();
    expect(failure(m.cancel('client disconnected')).kind).toBe('cancelled');
  });
});
