// The device flow end to end against a real OpenID provider (oidc-provider) on 127.0.0.1; the
// test plays the user in the "browser" with HTTP requests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { DeviceLoginService, newSessionTag } from '../../src/oidc/device-flow.js';
import { createOidcSignIn } from '../../src/oidc/index.js';
import { policyIdentityFromDeviceLogin, policyIdentityFromKeyBinding } from '../../src/oidc/policy-identity.js';
import { SshWriter } from '../../src/wire/index.js';
import { closeProvidersAfterEach, failureOf, setup, startProvider } from './support/device-setup.js';
import { approveDeviceCode } from './support/test-provider.js';

closeProvidersAfterEach();

describe('device flow against oidc-provider', () => {
  it('signs in: the round shows the code, and the result is the identity with groups', async () => {
    const { provider, service } = await setup({}, { usernameClaim: 'email', groupsClaim: 'groups' });
    const tag = newSessionTag();
    const login = await service.begin('198.51.100.7', tag);
    expect(login.prompts).toHaveLength(1);
    expect(login.prompts[0]?.prompt).toContain(`${provider.issuer}/device?user_code=${login.userCode}`);
    expect(login.instruction).toContain(`${provider.issuer}/device?user_code=${login.userCode}`);
    expect(login.instruction).toContain('198.51.100.7');
    expect(login.instruction).toContain(tag);
    const url = /Open: +(\S+)/.exec(login.instruction)?.[1];
    expect(url).toBeDefined();
    const page = await approveDeviceCode(url ?? '', 'alice');
    expect(page).toContain('Sign-in Success');
    const r = await login.result;
    expect(r).toEqual({ ok: true, identity: { user: 'alice@example.com', groups: ['ops', 'dba'], source: 'oidc', issuer: provider.issuer, subject: 'alice' } });
  });

  it('maps preferred_username when configured', async () => {
    const { service } = await setup({}, { usernameClaim: 'preferred_username' });
    const login = await service.begin('198.51.100.7', 'TAG123');
    await approveDeviceCode(/Open: +(\S+)/.exec(login.instruction)?.[1] ?? '', 'bob');
    const r = await login.result;
    expect(r.ok && r.identity.user).toBe('bob');
    expect(r.ok && r.identity.groups).toEqual(['dev']);
  });

  it('refuses a denied consent with a clear message', async () => {
    const { service } = await setup();
    const login = await service.begin('198.51.100.7', 'TAG123');
    await approveDeviceCode(/Open: +(\S+)/.exec(login.instruction)?.[1] ?? '', 'alice', { deny: true });
    const err = failureOf(await login.result);
    expect(err.kind).toBe('access-denied');
    expect(err.userMessage).toBe('Sign-in was declined at the identity provider. Access denied.');
  });

  it('gives up when the device code expires before anyone signs in', async () => {
    const { service } = await setup({ deviceCodeTtlSeconds: 3 });
    const login = await service.begin('198.51.100.7', 'TAG123');
    const err = failureOf(await login.result);
    expect(err.kind).toBe('expired');
    expect(err.userMessage).toMatch(/code expired/);
  });

  it("reports the provider's expired_token answer as an expiry", async () => {
    // The provider forgets the code after 2 s but advertises 10 minutes.
    const stretch = async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
      await next();
      if (ctx.path === '/device/auth' && typeof ctx.body === 'object' && ctx.body !== null) (ctx.body as Record<string, unknown>)['expires_in'] = 600;
    };
    const { service } = await setup({ deviceCodeTtlSeconds: 2, middleware: [stretch] });
    const login = await service.begin('198.51.100.7', 'TAG123');
    const err = failureOf(await login.result);
    expect(err.kind).toBe('expired');
    expect(err.detail).toMatch(/expired_token/);
  });




  it('slows down by 5 s when the token endpoint says slow_down', async () => {
    let polls = 0;
    const slow = async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
      if (ctx.path === '/token' && ctx.method === 'POST' && ++polls === 1) {
        ctx.status = 400;
        ctx.body = { error: 'slow_down', error_description: 'test says slow down' };
        return;
      }
      await next();
    };
    const { client } = await setup({ middleware: [slow], interval: 1 });
    const scheduled: number[] = [];
    const service = new DeviceLoginService(client, { loginTimeoutSeconds: 600, onPollScheduled: (e) => scheduled.push(e.intervalSeconds) });
    const login = await service.begin('198.51.100.7', 'TAG123');
    await approveDeviceCode(/Open: +(\S+)/.exec(login.instruction)?.[1] ?? '', 'alice');
    const r = await login.result;
    expect(r.ok).toBe(true);
    expect(polls).toBe(2);
    // The advertised 1 s, then 1 + 5 s after slow_down (RFC 8628 §3.5).
    expect(scheduled).toEqual([1, 6]);
  });


  it('binds the proven key so the next connection needs no browser, until revoked', async () => {
    const provider = await startProvider();
    const stateDir = mkdtempSync(join(tmpdir(), 'gh-oidc-state-'));
    const oidc = await createOidcSignIn({
      oidc: { issuer: provider.issuer, clientId: provider.clientId, clientSecretEnv: 'GH_TEST_OIDC_SECRET', scopes: ['openid', 'email', 'groups'] },
      stateDir,
      env: { GH_TEST_OIDC_SECRET: provider.clientSecret },
    });
    const keyBlob = new SshWriter(64).string('ssh-ed25519').string(new Uint8Array(32).fill(9)).finish();
    expect(await oidc.bindingForProvenKey(keyBlob)).toBeUndefined();
    const login = await oidc.deviceLogins.begin('198.51.100.7', 'TAG123');
    await approveDeviceCode(/Open: +(\S+)/.exec(login.instruction)?.[1] ?? '', 'alice');
    const r = await login.result;
    if (!r.ok) throw new Error(r.error.detail);
    expect(policyIdentityFromDeviceLogin(r.identity)).toEqual({ user: 'alice@example.com', groups: ['ops', 'dba'], authMethod: 'keyboard-interactive', source: 'oidc', sso: true });
    const binding = await oidc.bindProvenKey(keyBlob, r.identity);
    expect(binding.expiresAtMs - binding.boundAtMs).toBe(8 * 3600 * 1000);
    // The next connection: the same key, no browser.
    const again = await oidc.bindingForProvenKey(keyBlob);
    expect(again === undefined ? undefined : policyIdentityFromKeyBinding(again)).toEqual({
      user: 'alice@example.com',
      groups: ['ops', 'dba'],
      authMethod: 'publickey',
      keyFingerprint: binding.fingerprint,
      source: 'oidc',
      sso: true,
    });
    expect(await oidc.keyBindings.revokeKey(binding.fingerprint)).toBe(true);
    expect(await oidc.bindingForProvenKey(keyBlob)).toBeUndefined();
  });

  it('cancel settles the result at once', async () => {
    const { service } = await setup();
    const login = await service.begin('198.51.100.7', 'TAG123');
    login.cancel('client disconnected');
    expect(failureOf(await login.result).kind).toBe('cancelled');
  });

  it('aborts a token request when the caller\'s signal is aborted (the SSH client went away)', async () => {
    const { client } = await setup();
    // Without a signal the provider answers (invalid_grant for a made-up code); with an aborted
    // one the request never goes out and the driver sees a transport error it then ignores.
    const answered = await client.pollDeviceToken('no-such-device-code');
    expect(answered.type).toBe('failed');
    const aborted = await client.pollDeviceToken('no-such-device-code', AbortSignal.abort());
    expect(aborted.type).toBe('transport-error');
    await expect(client.startDeviceAuthorization(AbortSignal.abort())).rejects.toMatchObject({ kind: 'unreachable' });
  });
});
