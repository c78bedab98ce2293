// The device-flow scenario against a real Keycloak in a container (testcontainers): the same
// DeviceLoginService the SSH keyboard-interactive hook uses, a user who signs in through
// Keycloak's pages (played with HTTP requests), and the identity with groups from the ID token.
// Skips at once, saying so, where no Docker engine answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOidcConfig, Secret } from '../../src/oidc/config.js';
import { DeviceLoginService, newSessionTag } from '../../src/oidc/device-flow.js';
import { OidcClient } from '../../src/oidc/provider-client.js';
import { extractForm, TestBrowser } from '../oidc/support/browser.js';
import { probeDocker } from './docker.js';

const KEYCLOAK_IMAGE = process.env['GATEHOUSE_KEYCLOAK_IMAGE'] ?? 'quay.io/keycloak/keycloak:26.0';
const CLIENT_SECRET = 'gatehouse-kc-secret-5d2a';

const docker = await probeDocker();
if (!docker.available) {
  console.warn(`[test/containers] SKIPPED the Keycloak device-flow scenario: ${docker.reason}`);
}

const realm = {
  realm: 'gatehouse',
  enabled: true,
  clients: [
    {
      clientId: 'gatehouse',
      enabled: true,
      publicClient: false,
      secret: CLIENT_SECRET,
      standardFlowEnabled: true,
      directAccessGrantsEnabled: false,
      consentRequired: false,
      redirectUris: ['http://127.0.0.1/*'],
      attributes: { 'oauth2.device.authorization.grant.enabled': 'true' },
      protocolMappers: [
        {
          name: 'groups',
          protocol: 'openid-connect',
          protocolMapper: 'oidc-group-membership-mapper',
          config: { 'claim.name': 'groups', 'full.path': 'false', 'id.token.claim': 'true', 'access.token.claim': 'true', 'userinfo.token.claim': 'true' },
        },
      ],
    },
  ],
  groups: [{ name: 'ops' }, { name: 'dba' }],
  users: [
    {
      username: 'alice',
      enabled: true,
      email: 'alice@example.com',
      emailVerified: true,
      firstName: 'Alice',
      lastName: 'Example',
      credentials: [{ type: 'password', value: 'alice-password', temporary: false }],
      groups: ['/ops', '/dba'],
    },
  ],
};

/** Plays the user on Keycloak's pages: device code confirmation, login form, consent. */
async function signInAtKeycloak(verificationUri: string, userCode: string): Promise<string> {
  const browser = new TestBrowser();
  let page = await browser.request(verificationUri);
  const origin = new URL(verificationUri).origin;
  for (let step = 0; step < 20; step++) {
    if (page.location !== undefined) {
      if (new URL(page.location).origin !== origin) break;
      page = await browser.request(page.location);
      continue;
    }
    if (/name="device_user_code"/.test(page.body)) {
      const form = extractForm(page);
      page = await browser.request(form.action, { form: { ...form.fields, device_user_code: userCode } });
    } else if (/name="username"/.test(page.body)) {
      const form = extractForm(page);
      page = await browser.request(form.action, { form: { ...form.fields, username: 'alice', password: 'alice-password' } });
    } else if (/name="accept"/.test(page.body)) {
      const form = extractForm(page);
      const { cancel: _cancel, ...fields } = form.fields;
      page = await browser.request(form.action, { form: { ...fields, accept: 'Yes' } });
    } else {
      break;
    }
  }
  return page.body;
}

describe.skipIf(!docker.available)(`device flow against Keycloak (testcontainers)${docker.available ? '' : ` — skipped: ${docker.reason}`}`, () => {
  let stop: (() => Promise<unknown>) | undefined;
  let issuer = '';

  beforeAll(async () => {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer(KEYCLOAK_IMAGE)
      .withEnvironment({ KC_BOOTSTRAP_ADMIN_USERNAME: 'admin', KC_BOOTSTRAP_ADMIN_PASSWORD: 'admin' })
      .withCopyContentToContainer([{ content: JSON.stringify(realm), target: '/opt/keycloak/data/import/gatehouse-realm.json' }])
      .withCommand(['start-dev', '--import-realm'])
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forHttp('/realms/gatehouse/.well-known/openid-configuration', 8080).forStatusCode(200))
      .withStartupTimeout(240_000)
      .start();
    stop = () => container.stop();
    const host = container.getHost() === 'localhost' ? '127.0.0.1' : container.getHost();
    issuer = `http://${host}:${container.getMappedPort(8080)}/realms/gatehouse`;
  });

  afterAll(async () => {
    await stop?.();
  });

  it('signs alice in through the device flow and maps her groups from the ID token', async () => {
    const config = parseOidcConfig({ issuer, clientId: 'gatehouse', clientSecretEnv: 'UNUSED', scopes: ['openid', 'email', 'profile'] });
    const client = await OidcClient.discover({ config, clientSecret: new Secret(CLIENT_SECRET) });
    const service = new DeviceLoginService(client, { loginTimeoutSeconds: 120 });
    const tag = newSessionTag();
    const login = await service.begin('192.0.2.10', tag);
    expect(login.instruction).toContain(login.userCode);
    expect(login.instruction).toContain(tag);
    const url = /Open: +(\S+)/.exec(login.instruction)?.[1] ?? '';
    expect(url).toContain('/realms/gatehouse/device');
    const last = await signInAtKeycloak(url, login.userCode);
    const r = await login.result;
    if (!r.ok) throw new Error(`sign-in failed: ${r.error.detail}; last Keycloak page: ${last.slice(0, 400)}`);
    expect(r.identity.user).toBe('alice@example.com');
    expect([...r.identity.groups].sort()).toEqual(['dba', 'ops']);
    expect(r.identity.issuer).toBe(issuer);
  });

  it('refuses a wrong client secret at the start with a clear message', async () => {
    const config = parseOidcConfig({ issuer, clientId: 'gatehouse', clientSecretEnv: 'UNUSED' });
    const client = await OidcClient.discover({ config, clientSecret: new Secret('wrong') });
    const service = new DeviceLoginService(client, { loginTimeoutSeconds: 60 });
    await expect(service.begin('192.0.2.10', 'TAG')).rejects.toMatchObject({ kind: 'provider-error' });
  });
});

// Vitest fails a file without tests; this one always runs and states the outcome plainly.
it('reports whether the container suite ran', () => {
  expect(typeof docker.available).toBe('boolean');
  if (!docker.available) console.warn(`[test/containers] no Docker engine: container scenarios were skipped (${docker.reason})`);
});
