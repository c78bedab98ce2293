// The gateway's keyboard-interactive OIDC path (src/gateway/inbound-auth.ts) with a scripted
// provider, a stand-in connection and fake timers: the failure round, the per-connection bound,
// cancellation on disconnect (no timer, poll or pending sign-in left), the name check, and what
// goes into the audit events. The same paths run end to end with OpenSSH in oidc.test.ts.
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuthAnswer, AuthCheck } from '../../src/auth/auth-types.js';
import {
  authenticateInbound,
  type InboundAuthDeps,
  type InboundConnection,
  loginGrace,
  MAX_DEVICE_LOGINS_PER_CONNECTION,
  newInboundContext,
} from '../../src/gateway/inbound-auth.js';
import type { GatehouseEvent } from '../../src/obs/events.js';
import type { OidcIdentity } from '../../src/oidc/claims.js';
import { type DeviceFlowProvider, DeviceLoginService } from '../../src/oidc/device-flow.js';
import type { DeviceAuthorization, PollOutcome } from '../../src/oidc/device-flow-machine.js';
import { OidcLoginError } from '../../src/oidc/errors.js';
import type { KeyBinding } from '../../src/oidc/key-binding-store.js';

const authorization: DeviceAuthorization = {
  deviceCode: 'device-code-secret-1',
  userCode: 'WDJB-MJHT',
  verificationUri: 'https://idp.example/device',
  verificationUriComplete: 'https://idp.example/device?user_code=WDJB-MJHT',
  expiresInSeconds: 600,
  intervalSeconds: 1,
};
const gina: OidcIdentity = { user: 'gina', groups: ['sre'], source: 'oidc', issuer: 'https://idp.example', subject: 'g-1' };

const KBD: AuthCheck = { kind: 'keyboard-interactive', submethods: '', round: 0 };
const ANSWER: AuthCheck = { kind: 'keyboard-interactive-answers', responses: [''], round: 1 };

class FakeConnection extends EventEmitter implements InboundConnection {
  readonly remoteAddress = '192.0.2.9';
  isClosed = false;
  close(): void {
    this.isClosed = true;
    this.emit('close', { description: 'client went away' });
  }
}

function setup(poll: (signal: AbortSignal | undefined) => Promise<PollOutcome>) {
  const provider: DeviceFlowProvider & { started: number; polls: number } = {
    started: 0,
    polls: 0,
    startDeviceAuthorization: async () => {
      provider.started++;
      return authorization;
    },
    pollDeviceToken: (_code, signal) => {
      provider.polls++;
      return poll(signal);
    },
  };
  const deviceLogins = new DeviceLoginService(provider, { loginTimeoutSeconds: 600 });
  const bound: Array<{ blob: Uint8Array; identity: OidcIdentity }> = [];
  const events: GatehouseEvent[] = [];
  const deps: InboundAuthDeps = {
    policy: () => {
      throw new Error('keyboard-interactive does not consult the policy');
    },
    gatewayUserCaBlob: new Uint8Array(0),
    events: (e) => events.push(e),
    oidc: {
      deviceLogins,
      bindingForProvenKey: async (): Promise<KeyBinding | undefined> => undefined,
      bindProvenKey: async (blob, identity) => {
        bound.push({ blob, identity });
        return { fingerprint: 'SHA256:x', identity, boundAtMs: 0, expiresAtMs: 1 };
      },
    },
  };
  const conn = new FakeConnection();
  const ctx = newInboundContext('c1');
  const auth = (user: string, check: AuthCheck) => authenticateInbound(deps, ctx, conn, user, check);
  const failures = () => events.filter((e) => e.type === 'auth.result' && e.result === 'failure').map((e) => (e.type === 'auth.result' ? e.reason : ''));
  return { provider, deviceLogins, bound, events, conn, ctx, auth, failures };
}

const promptText = (a: AuthAnswer) => (a.type === 'prompt' ? `${a.instruction}|${a.prompts.map((p) => p.prompt).join('|')}` : `(${a.type}${a.type === 'reject' ? `: ${a.reason}` : ''})`);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('gateway keyboard-interactive OIDC sign-in', () => {
  it('shows URL, code, client address and tag; on success accepts, binds the proven key and logs the tag, not the codes', async () => {
    const t = setup(async () => ({ type: 'tokens', identity: gina }));
    t.ctx.provenUnboundKey = new Uint8Array([1, 2, 3]);
    const round = await t.auth('gina', KBD);
    const text = promptText(round);
    const tag = t.ctx.sessionTag ?? '';
    expect(tag).toMatch(/^[A-Z0-9]{6}$/);
    expect(text).toContain('https://idp.example/device?user_code=WDJB-MJHT');
    expect(text).toContain('WDJB-MJHT');
    expect(text).toContain(`This request comes from 192.0.2.9, session ${tag}.`);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await t.auth('gina', ANSWER)).toEqual({ type: 'accept' });
    expect(t.ctx.identity).toMatchObject({ user: 'gina', groups: ['sre'], source: 'oidc', sso: true });
    expect(t.bound).toEqual([{ blob: new Uint8Array([1, 2, 3]), identity: gina }]);
    expect(t.events.find((e) => e.type === 'auth.attempt')).toMatchObject({ method: 'keyboard-interactive', sessionTag: tag });
    expect(t.events.find((e) => e.type === 'auth.result')).toMatchObject({ result: 'success', sessionTag: tag });
    const logged = JSON.stringify(t.events);
    expect(logged).not.toContain('WDJB-MJHT');
    expect(logged).not.toContain(authorization.deviceCode);
    expect(t.deviceLogins.pending).toBe(0);
  });

  it(`after an expiry offers a new code, at most ${MAX_DEVICE_LOGINS_PER_CONNECTION} per connection, each failure shown in one more round and logged once`, async () => {
    const t = setup(async () => ({ type: 'expired-token' }));
    for (let attempt = 1; attempt <= MAX_DEVICE_LOGINS_PER_CONNECTION; attempt++) {
      expect(promptText(await t.auth('gina', KBD))).toContain('then press Enter');
      await vi.advanceTimersByTimeAsync(1000);
      const failure = promptText(await t.auth('gina', ANSWER));
      expect(failure).toContain('Sign-in timed out: the code expired before sign-in completed.');
      expect(failure).toContain(attempt < MAX_DEVICE_LOGINS_PER_CONNECTION ? 'Press Enter for a new code' : 'Press Enter to close:');
      expect(await t.auth('gina', ANSWER)).toEqual({ type: 'reject', reason: 'Sign-in timed out: the code expired before sign-in completed.' });
    }
    const extra = await t.auth('gina', KBD);
    expect(extra.type).toBe('reject');
    // One close listener per connection, however many attempts.
    expect(t.conn.listenerCount('close')).toBe(1);
    expect(t.provider.started).toBe(MAX_DEVICE_LOGINS_PER_CONNECTION);
    const failures = t.failures();
    expect(failures.filter((r) => r.startsWith('device sign-in failed (expired): provider answered expired_token'))).toHaveLength(MAX_DEVICE_LOGINS_PER_CONNECTION);
    expect(failures.at(-1)).toBe('no further sign-in on this connection: the last sign-in failed (expired)');
    expect(failures).toHaveLength(MAX_DEVICE_LOGINS_PER_CONNECTION + 1);
  });

  it('a declined consent ends sign-in on the connection: no second code', async () => {
    const t = setup(async () => ({ type: 'access-denied', description: 'user said no' }));
    await t.auth('gina', KBD);
    await vi.advanceTimersByTimeAsync(1000);
    expect(promptText(await t.auth('gina', ANSWER))).toContain('Sign-in was declined at the identity provider. Access denied. Press Enter to close:');
    expect((await t.auth('gina', ANSWER)).type).toBe('reject');
    expect(await t.auth('gina', KBD)).toMatchObject({ type: 'reject', reason: expect.stringContaining('no further sign-in on this connection') });
    expect(t.provider.started).toBe(1);
    expect(t.failures()[0]).toBe('device sign-in failed (access-denied): access_denied: user said no');
  });

  it('a provider that cannot be reached at the start is shown to the user, and a new attempt is allowed', async () => {
    const t = setup(async () => ({ type: 'pending' }));
    t.provider.startDeviceAuthorization = async () => {
      t.provider.started++;
      throw new OidcLoginError('unreachable', 'Sign-in failed: the identity provider cannot be reached. Try again later.', 'device authorization request: ECONNREFUSED');
    };
    expect(promptText(await t.auth('gina', KBD))).toContain('the identity provider cannot be reached. Try again later. Press Enter for a new code');
    expect((await t.auth('gina', ANSWER)).type).toBe('reject');
    expect(promptText(await t.auth('gina', KBD))).toContain('cannot be reached');
    expect(t.provider.started).toBe(2);
    expect(t.failures()[0]).toBe('device sign-in failed (unreachable): device authorization request: ECONNREFUSED');
  });

  it('signing in as someone else than the user name asked for is refused with a message', async () => {
    const t = setup(async () => ({ type: 'tokens', identity: gina }));
    await t.auth('erin', KBD);
    await vi.advanceTimersByTimeAsync(1000);
    expect(promptText(await t.auth('erin', ANSWER))).toContain('You signed in as gina, but connected as erin. Connect as gina instead. Press Enter to close:');
    expect((await t.auth('erin', ANSWER)).type).toBe('reject');
    expect(t.ctx.identity).toBeUndefined();
    expect(t.failures()[0]).toBe('device sign-in failed (access-denied): the credential belongs to gina, not erin');
  });

  it('the client going away cancels the sign-in: the poll in flight is aborted, no timer or pending sign-in is left', async () => {
    const signals: AbortSignal[] = [];
    const t = setup(
      (signal) =>
        new Promise<PollOutcome>((_resolve, reject) => {
          if (signal !== undefined) signals.push(signal);
          signal?.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    );
    await t.auth('gina', KBD);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.provider.polls).toBe(1);
    const answer = t.auth('gina', ANSWER);
    t.conn.close();
    expect((await answer).type).toBe('reject');
    expect(signals[0]?.aborted).toBe(true);
    expect(t.deviceLogins.pending).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.provider.polls).toBe(1);
  });

  it('the client going away during the device authorization request leaves nothing behind', async () => {
    const t = setup(async () => ({ type: 'pending' }));
    let asked: AbortSignal | undefined;
    t.provider.startDeviceAuthorization = (signal) => {
      asked = signal;
      return new Promise<DeviceAuthorization>((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('fetch aborted'))));
    };
    const round = t.auth('gina', KBD);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.deviceLogins.pending).toBe(1);
    t.conn.close();
    expect((await round).type).toBe('reject');
    expect(asked?.aborted).toBe(true);
    expect(t.deviceLogins.pending).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the login grace time leaves room for a whole device sign-in when OIDC is on, and stays sshd\'s 2 minutes otherwise', () => {
    expect(loginGrace(undefined)).toEqual({});
    expect(loginGrace({ config: { loginTimeoutSeconds: 600 } })).toEqual({ loginGraceMs: 630_000 });
    expect(loginGrace({ config: { loginTimeoutSeconds: 30 } })).toEqual({ loginGraceMs: 120_000 });
  });
});
