// The async driver with a scripted provider and fake timers: no HTTP, no waiting.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OidcIdentity } from '../../src/oidc/claims.js';
import { type DeviceFlowProvider, DeviceLoginService } from '../../src/oidc/device-flow.js';
import type { DeviceAuthorization, PollOutcome } from '../../src/oidc/device-flow-machine.js';
import { OidcLoginError } from '../../src/oidc/errors.js';

const alice: OidcIdentity = { user: 'alice', groups: [], source: 'oidc', issuer: 'https://idp', subject: 'a' };
const authorization: DeviceAuthorization = {
  deviceCode: 'dc',
  userCode: 'ABCD-EFGH',
  verificationUri: 'https://idp/device',
  verificationUriComplete: undefined,
  expiresInSeconds: 60,
  intervalSeconds: 2,
};

function scripted(outcomes: PollOutcome[]): DeviceFlowProvider & { polls: number } {
  const p = {
    polls: 0,
    startDeviceAuthorization: async () => authorization,
    pollDeviceToken: async () => {
      p.polls++;
      return outcomes.shift() ?? { type: 'pending' as const };
    },
  };
  return p;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('DeviceLoginService driver', () => {
  it('polls on the machine schedule and settles with the identity', async () => {
    const provider = scripted([{ type: 'pending' }, { type: 'slow-down' }, { type: 'tokens', identity: alice }]);
    const settled: unknown[] = [];
    const service = new DeviceLoginService(provider, { loginTimeoutSeconds: 600, onSettled: (e) => settled.push(e.result) });
    const login = await service.begin('192.0.2.1', 'TAG');
    expect(login.instruction).toContain('Enter:  ABCD-EFGH');
    await vi.advanceTimersByTimeAsync(1999);
    expect(provider.polls).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(provider.polls).toBe(1);
    await vi.advanceTimersByTimeAsync(2000); // pending → 2 s later, slow_down → 7 s later
    expect(provider.polls).toBe(2);
    await vi.advanceTimersByTimeAsync(6999);
    expect(provider.polls).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(await login.result).toEqual({ ok: true, identity: alice });
    expect(settled).toHaveLength(1);
    expect(service.pending).toBe(0);
  });

  it('gives up at the deadline and stops polling', async () => {
    const provider = scripted([]);
    const service = new DeviceLoginService(provider, { loginTimeoutSeconds: 10 });
    const login = await service.begin('192.0.2.1', 'TAG');
    await vi.advanceTimersByTimeAsync(10_000);
    const r = await login.result;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.kind).toBe('expired');
    const polls = provider.polls;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(provider.polls).toBe(polls);
  });

  it('treats a rejected poll as a transport error and keeps going', async () => {
    const provider = scripted([]);
    let first = true;
    provider.pollDeviceToken = async () => {
      provider.polls++;
      if (first) {
        first = false;
        throw new Error('socket hang up');
      }
      return { type: 'tokens', identity: alice };
    };
    const service = new DeviceLoginService(provider, { loginTimeoutSeconds: 600 });
    const login = await service.begin('192.0.2.1', 'TAG');
    await vi.advanceTimersByTimeAsync(2000 + 4000);
    expect((await login.result).ok).toBe(true);
  });

  it('bounds the sign-ins pending at once', async () => {
    const service = new DeviceLoginService(scripted([]), { loginTimeoutSeconds: 600, maxPending: 2 });
    const a = await service.begin('192.0.2.1', 'A');
    await service.begin('192.0.2.2', 'B');
    const refused = await service.begin('192.0.2.3', 'C').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OidcLoginError);
    expect((refused as OidcLoginError).userMessage).toMatch(/busy/);
    a.cancel('gone');
    await a.result;
    expect(service.pending).toBe(1);
    await expect(service.begin('192.0.2.3', 'C')).resolves.toBeDefined();
  });

  it('an aborted signal cancels the sign-in, aborts the poll in flight and polls no more', async () => {
    const signals: AbortSignal[] = [];
    const provider = scripted([]);
    // A poll that hangs until it is aborted, like a slow token endpoint.
    provider.pollDeviceToken = (_code, signal) => {
      provider.polls++;
      if (signal !== undefined) signals.push(signal);
      return new Promise<PollOutcome>((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    };
    const service = new DeviceLoginService(provider, { loginTimeoutSeconds: 600 });
    const connection = new AbortController();
    const login = await service.begin('192.0.2.1', 'TAG', { signal: connection.signal });
    await vi.advanceTimersByTimeAsync(2000);
    expect(provider.polls).toBe(1);
    expect(signals[0]?.aborted).toBe(false);
    connection.abort();
    const r = await login.result;
    expect(!r.ok && r.error.kind).toBe('cancelled');
    expect(signals[0]?.aborted).toBe(true);
    expect(service.pending).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(provider.polls).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a signal aborted during the device authorization request, or before it, refuses with "cancelled"', async () => {
    const provider = scripted([]);
    let asked: AbortSignal | undefined;
    provider.startDeviceAuthorization = (signal) => {
      asked = signal;
      return new Promise<DeviceAuthorization>((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('fetch aborted'))));
    };
    const service = new DeviceLoginService(provider, { loginTimeoutSeconds: 600 });
    const connection = new AbortController();
    const begun = service.begin('192.0.2.1', 'TAG', { signal: connection.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(0);
    expect(service.pending).toBe(1);
    connection.abort();
    const refused = await begun;
    expect(refused).toBeInstanceOf(OidcLoginError);
    expect((refused as OidcLoginError).kind).toBe('cancelled');
    expect(asked?.aborted).toBe(true);
    expect(service.pending).toBe(0);
    const again = await service.begin('192.0.2.1', 'TAG', { signal: connection.signal }).catch((e: unknown) => e);
    expect((again as OidcLoginError).kind).toBe('cancelled');
    expect(service.pending).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
