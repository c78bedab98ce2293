// The OIDC command-line modules: `gatehouse oidc check` against oidc-provider (never printing the
// secret), and `gatehouse sessions revoke-key`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLogin } from '../../src/cli/login.js';
import { runOidc } from '../../src/cli/oidc.js';
import { runSessionsRevokeKey } from '../../src/cli/sessions-revoke.js';
import { KeyBindingStore } from '../../src/oidc/key-binding-store.js';
import { startTestProvider, type TestProvider } from './support/test-provider.js';

let provider: TestProvider;
beforeAll(async () => {
  provider = await startTestProvider();
});
afterAll(() => provider.close());

function capture() {
  let out = '';
  let err = '';
  return { io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } }, all: () => out + err };
}

function configFile(secretEnv: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-oidc-cli-'));
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(
    file,
    `oidc:\n  issuer: ${provider.issuer}\n  clientId: ${provider.clientId}\n  clientSecretEnv: ${secretEnv}\n  scopes: [openid, email]\n  webLoginBaseUrl: https://gate.example:9122\n`,
  );
  return file;
}

describe('gatehouse oidc check', () => {
  it('reports discovery, device flow, keys and accepted credentials, without printing the secret', async () => {
    const c = capture();
    const code = await runOidc(['check', '--config', configFile('GH_OIDC_SECRET')], { ...c.io, env: { GH_OIDC_SECRET: provider.clientSecret } });
    expect(c.all()).toContain('client credentials  accepted');
    expect(c.all()).toContain(`${provider.issuer}/device/auth`);
    expect(c.all()).toMatch(/signing keys +1 key/);
    expect(c.all()).toContain('https://gate.example:9122/login/callback must be a redirect URI of the client');
    expect(c.all()).toContain('OIDC configuration OK');
    expect(code).toBe(0);
    expect(c.all()).not.toContain(provider.clientSecret);
  });

  it('says REJECTED for a wrong secret, and does not print it either', async () => {
    const c = capture();
    const wrong = 'wrong-secret-3b8e1f0a';
    const code = await runOidc(['check', '--config', configFile('GH_OIDC_SECRET')], { ...c.io, env: { GH_OIDC_SECRET: wrong } });
    expect(code).toBe(1);
    expect(c.all()).toContain('client credentials  REJECTED');
    expect(c.all()).not.toContain(wrong);
  });

  it('fails clearly when the provider cannot be reached or the secret is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-oidc-cli-'));
    const file = join(dir, 'gatehouse.yaml');
    writeFileSync(file, 'oidc:\n  issuer: http://127.0.0.1:9/\n  clientId: x\n  clientSecretEnv: GH_X\n');
    const c = capture();
    expect(await runOidc(['check', '--config', file], { ...c.io, env: { GH_X: 's' } })).toBe(1);
    expect(c.all()).toMatch(/discovery +FAILED/);
    const m = capture();
    expect(await runOidc(['check', '--config', file], { ...m.io, env: {} })).toBe(2);
    expect(m.all()).toContain('environment variable GH_X is not set');
  });
});

describe('gatehouse login (argument and key errors)', () => {
  it('needs --gateway, a readable .pub key, and gives up after --timeout', async () => {
    const home = mkdtempSync(join(tmpdir(), 'gh-home-'));
    const noGateway = capture();
    expect(await runLogin([], noGateway.io)).toBe(2);
    expect(noGateway.all()).toContain('usage: gatehouse login --gateway URL');
    const noKey = capture();
    expect(await runLogin(['--gateway', 'http://127.0.0.1:1'], { ...noKey.io, home })).toBe(2);
    expect(noKey.all()).toContain('ssh-keygen -t ed25519');
    const priv = capture();
    expect(await runLogin(['--gateway', 'http://127.0.0.1:1', '--key', join(home, 'id_ed25519')], priv.io)).toBe(2);
    expect(priv.all()).toContain('ending in .pub');
    const pub = join(home, 'id_ed25519.pub');
    writeFileSync(pub, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host\n');
    const waited = capture();
    expect(await runLogin(['--gateway', 'http://127.0.0.1:1', '--key', pub, '--no-browser', '--timeout', '1'], waited.io)).toBe(1);
    expect(waited.all()).toContain('http://127.0.0.1:1/login?key=');
    expect(waited.all()).toContain('no answer within 1 s');
  });
});

describe('gatehouse sessions revoke-key', () => {
  it('revokes a live binding in the state dir, then says there is none', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'gh-state-'));
    const store = new KeyBindingStore({ stateDir, ttlSeconds: 3600 });
    const fp = `SHA256:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`;
    await store.bind(fp, { user: 'alice', groups: [], source: 'oidc', issuer: 'https://idp', subject: 's' });
    const c = capture();
    expect(await runSessionsRevokeKey([fp, '--state-dir', stateDir], { ...c.io, env: {} })).toBe(0);
    expect(c.all()).toContain(`revoked the key binding of ${fp}`);
    expect(await store.lookup(fp)).toBeUndefined();
    const again = capture();
    expect(await runSessionsRevokeKey([fp, '--state-dir', stateDir], { ...again.io, env: {} })).toBe(1);
    const bad = capture();
    expect(await runSessionsRevokeKey(['MD5:12:34', '--state-dir', stateDir], { ...bad.io, env: {} })).toBe(2);
    expect(bad.all()).toContain('not a SHA256 key fingerprint');
  });
});
