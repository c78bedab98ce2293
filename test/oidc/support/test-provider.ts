// An in-process OpenID provider (oidc-provider 9) on 127.0.0.1 for the OIDC tests, with device
// flow, authorization code + PKCE and dev interactions; the browser side is in browser.ts.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

export interface TestAccount {
  readonly email: string;
  readonly preferred_username: string;
  readonly groups: readonly string[];
}

export interface TestProviderOptions {
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly redirectUris?: readonly string[];
  readonly deviceCodeTtlSeconds?: number;
  /** Interval advertised in the device authorization response (RFC 8628 §3.2); default 1 s to keep tests quick. */
  readonly interval?: number;
  /** Extra Koa middleware, e.g. to answer slow_down or swap the ID token (runs around the provider). */
  readonly middleware?: ReadonlyArray<(ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => Promise<void>>;
}

export interface TestProvider {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The provider's signing key (RS256), so tests can mint tokens the provider "would" issue. */
  readonly signingKey: KeyObject;
  readonly signingKid: string;
  readonly accounts: Map<string, TestAccount>;
  close(): Promise<void>;
}

export async function startTestProvider(options: TestProviderOptions = {}): Promise<TestProvider> {
  const clientId = options.clientId ?? 'gatehouse';
  const clientSecret = options.clientSecret ?? 'test-client-secret-7f3a9c';
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKid = 'test-rs256';
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: signingKid, alg: 'RS256', use: 'sig' };
  const accounts = new Map<string, TestAccount>([
    ['alice', { email: 'alice@example.com', preferred_username: 'alice', groups: ['ops', 'dba'] }],
    ['bob', { email: 'bob@example.com', preferred_username: 'bob', groups: ['dev'] }],
  ]);

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;

  const configuration: Configuration = {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'authorization_code'],
        response_types: ['code'],
        redirect_uris: [...(options.redirectUris ?? ['http://127.0.0.1/unused'])],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
    features: {
      deviceFlow: { enabled: true },
      devInteractions: { enabled: true },
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['preferred_username'],
      groups: ['groups'],
    },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    // Every TTL set explicitly: oidc-provider prints a notice for each default it falls back to.
    ttl: { DeviceCode: options.deviceCodeTtlSeconds ?? 600, Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 3600, IdToken: 3600, AuthorizationCode: 60 },
    async findAccount(_ctx, sub) {
      const account = accounts.get(sub);
      if (account === undefined) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, email: account.email, email_verified: true, preferred_username: account.preferred_username, groups: [...account.groups] };
        },
      };
    },
  };
  const provider = new Provider(issuer, configuration);
  const interval = options.interval ?? 1;
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/device/auth' && ctx.status === 200 && typeof ctx.body === 'object' && ctx.body !== null) {
      (ctx.body as Record<string, unknown>)['interval'] = interval;
    }
  });
  for (const mw of options.middleware ?? []) provider.use(mw);
  server.on('request', provider.callback());

  return {
    issuer,
    clientId,
    clientSecret,
    signingKey: privateKey,
    signingKid,
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export { approveDeviceCode, extractForm, playUser, TestBrowser } from './browser.js';
