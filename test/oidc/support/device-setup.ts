// Shared setup of the device-flow tests: an oidc-provider per test, the OIDC client and the
// DeviceLoginService on top, and a middleware that swaps ID tokens to play a forger.
import type { KoaContextWithOIDC } from 'oidc-provider';
import { afterEach } from 'vitest';
import { parseOidcConfig, Secret } from '../../../src/oidc/config.js';
import { DeviceLoginService, type DeviceLoginResult } from '../../../src/oidc/device-flow.js';
import { OidcClient } from '../../../src/oidc/provider-client.js';
import { startTestProvider, type TestProvider, type TestProviderOptions } from './test-provider.js';

const providers: TestProvider[] = [];

/** Call once at the top of a test file: closes the providers each test started. */
export function closeProvidersAfterEach(): void {
  afterEach(async () => {
    for (const p of providers.splice(0)) await p.close();
  });
}

export async function startProvider(options: TestProviderOptions = {}): Promise<TestProvider> {
  const provider = await startTestProvider(options);
  providers.push(provider);
  return provider;
}

export async function setup(options: TestProviderOptions = {}, config: Record<string, unknown> = {}) {
  const provider = await startProvider(options);
  const oidcConfig = parseOidcConfig({
    issuer: provider.issuer,
    clientId: provider.clientId,
    clientSecretEnv: 'UNUSED',
    allowInsecureHttp: true,
    scopes: ['openid', 'email', 'profile', 'groups'],
    ...config,
  });
  const client = await OidcClient.discover({ config: oidcConfig, clientSecret: new Secret(provider.clientSecret) });
  const service = new DeviceLoginService(client, { loginTimeoutSeconds: oidcConfig.loginTimeoutSeconds });
  return { provider, client, service };
}

export function failureOf(r: DeviceLoginResult) {
  if (r.ok) throw new Error(`unexpectedly signed in as ${r.identity.user}`);
  return r.error;
}

/** Koa middleware that swaps the ID token of token responses. */
export function swapIdToken(make: (claims: Record<string, unknown>) => string) {
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

export const openUrl = (instruction: string) => /Open: +(\S+)/.exec(instruction)?.[1] ?? '';
