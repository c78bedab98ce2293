// Forged and misdirected ID tokens in the device flow against oidc-provider: each refused with a
// clear message (the provider middleware plays the forger on the token endpoint).
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseOidcConfig, Secret } from '../../src/oidc/config.js';
import { DeviceLoginService } from '../../src/oidc/device-flow.js';
import { OidcLoginError } from '../../src/oidc/errors.js';
import { OidcClient } from '../../src/oidc/provider-client.js';
import { closeProvidersAfterEach, failureOf, setup, startProvider, swapIdToken } from './support/device-setup.js';
import { signJwt } from './support/jwt.js';
import { approveDeviceCode, type TestProvider } from './support/test-provider.js';

closeProvidersAfterEach();

describe('device flow refuses bad tokens and credentials', () => {
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
  it('refuses to start with wrong client credentials, with an operator-facing detail', async () => {
    const provider = await startProvider();
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
});
