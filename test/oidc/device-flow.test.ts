// The device flow end to end against a real OpenID provider (oidc-provider) on 127.0.0.1; the
// test plays the user in the "browser" with HTTP requests.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { afterEach, describe, expect, it } from 'vitest';
import { parseOidcConfig } from '../../src/oidc/config.js';
import { DeviceLoginService, type DeviceLoginResult, newSessionTag } from '../../src/oidc/device-flow.js';
import { OidcLoginError } from '../../src/oidc/errors.js';
import { createOidcSignIn } from '../../src/oidc/index.js';
import { policyIdentityFromDeviceLogin, policyIdentityFromKeyBinding } from '../../src/oidc/policy-identity.js';
import { OidcClient } from '../../src/oidc/provider-client.js';
import { SshWriter } from '../../src/wire/index.js';
import { signJwt } from './support/jwt.js';
import { approveDeviceCode, startTestProvider, type TestProvider, type TestProviderOptions } from './support/test-provider.js';

const providers: TestProvider[] = [];
afterEach(async () => {
  for (const p of providers.splice(0)) await p.close();
});

async function setup(options: TestProviderOptions = {}, config: Record<string, unknown> = {}) {
  const provider = await startTestProvider(options);
  providers.push(provider);
  const oidcConfig = parseOidcConfig({
    issuer: provider.issuer,
    clientId: provider.clientId,
    clientSecretEnv: 'UNUSED',
    allowInsecureHttp: true,
    scopes: ['openid', 'email', 'profile', 'groups'],
    ...config,
  });
  const { Secret } = await import('../../src/oidc/config.js');
  const client = await OidcClient.discover({ config: oidcConfig, clientSecret: new Secret(provider.clientSecret) });
  const service = new DeviceLoginService(client, { loginTimeoutSeconds: oidcConfig.loginTimeoutSeconds });
  return { provider, client, service };
}

function failureOf(r: DeviceLoginResult) {
  if (r.ok) throw new Error(`unexpectedly signed in as ${r.identity.user}`);
  return r.error;
}

/** Koa middleware that swaps the ID token of device-grant token responses. */
function swapIdToken(make: (claims: Record<string, unknown>) => string) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    await next();
    if (ctx.path === '/token' && ctx.status === 200 && typeof ctx.body === 'object' && ctx.body !== null) {
      const body = ctx.body as Record<string, unknown>;
      const original = body['id_token'];
      if (typeof original !== 'string') return;
      const claims = JSON.parse(Buffer.from(original.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
      body['id_token'] = make(claims);
    }
  };
}

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

  it('refuses a token issued for another audience', async () => {
    let key: TestProvider | undefined;
    const forge = swapIdToken((claims) => signJwt({ alg: 'RS256', kid: key?.signingKid }, { ...claims, aud: 'another-app' }, key?.signingKey));
    const { provider, service } = await setup({ middleware: [forge] });
    key = provider;
    const login = await service.begin('198.51.100.7', 'TAG123');
    await approveDeviceCode(/Open: +(\S+)/.exec(login.instruction)?.[1] ?? '', 'alice');
    const err = failureOf(await login.result);
    expect(err.kind).toBe('invalid-token');
    expect(err.userMessage).toMatch(/different application \(audience mismatch\)/);
  });

  it('refuses a token signed by another key under the provider key id', async () => {
    const forger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forge = swapIdToken((claims) => signJwt({ alg: 'RS256', kid: 'test-rs256' }, { ...claims, email: 'root@example.com' }, forger));
    const { service } = await setup({ middleware: [forge] });
    const login = await service.begin('198.51.100.7', 'TAG123');
    await approveDeviceCode(/Open: +(\S+)/.exec(login.instruction)?.[1] ?? '', 'alice');
    const err = failureOf(await login.result);
    expect(err.kind).toBe('invalid-token');
    expect(err.userMessage).toMatch(/signature is not valid/);
    expect(err.detail).toMatch(/bad-signature/);
  });

  it('refuses an unsigned (alg none) token', async () => {
    const forge = swapIdToken((claims) => signJwt({ alg: 'none' }, claims));
    const { service } = await setup({ middleware: [forge] });
    const login = await service.begin('198.51.100.7', 'TAG123');
    await approveDeviceCode(/Open: +(\S+)/.exec(login.instruction)?.[1] ?? '', 'alice');
    const err = failureOf(await login.result);
    expect(err.kind).toBe('invalid-token');
    expect(err.userMessage).toMatch(/signature is not valid/);
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

  it('refuses to start with wrong client credentials, with an operator-facing detail', async () => {
    const provider = await startTestProvider();
    providers.push(provider);
    const { Secret } = await import('../../src/oidc/config.js');
    const config = parseOidcConfig({ issuer: provider.issuer, clientId: provider.clientId, clientSecretEnv: 'X' });
    const client = await OidcClient.discover({ config, clientSecret: new Secret('not-the-secret') });
    const service = new DeviceLoginService(client, { loginTimeoutSeconds: 60 });
    const err = await service.begin('198.51.100.7', 'TAG123').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OidcLoginError);
    expect((err as OidcLoginError).userMessage).toMatch(/misconfigured/);
    expect((err as OidcLoginError).detail).toMatch(/client credentials rejected/);
    expect((err as OidcLoginError).detail).not.toContain('not-the-secret');
  });

  it('binds the proven key so the next connection needs no browser, until revoked', async () => {
    const provider = await startTestProvider();
    providers.push(provider);
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
});
