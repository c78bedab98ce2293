// Web sign-in end to end: the CLI's loopback receiver, the admin-listener routes, a real OpenID
// provider (oidc-provider) with PKCE, a user CA, then `ssh-keygen -L` on the certificate and a
// real sshd that trusts the CA accepting it.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminServer } from '../../src/admin/index.js';
import { runLogin } from '../../src/cli/login.js';
import { parseOidcConfig, Secret } from '../../src/oidc/config.js';
import { OidcClient } from '../../src/oidc/provider-client.js';
import { CLOCK_SKEW_SECONDS, type CertificateAuthority, loadOrCreateCa } from '../../src/ca/index.js';
import { groupsFromWebLoginKeyId, userCaIssuer, WebLogin, webLoginKeyId } from '../../src/oidc/web-login.js';
import { generateKey, requireBinaries, run, runSsh, startSshd } from '../support/index.js';
import { playUser, startTestProvider, TestBrowser, type TestProvider } from './support/test-provider.js';

const need = requireBinaries('ssh-keygen', 'ssh', 'sshd');

let provider: TestProvider;
let admin: AdminServer;
let adminBase: string;
let dir: string;
let ca: CertificateAuthority;
const failures: string[] = [];

beforeAll(async () => {
  if (need.skip) return;
  dir = mkdtempSync(join(tmpdir(), 'gh-weblogin-'));
  // The gateway user CA (src/ca), created in the state dir as `gatehouse serve` does.
  ca = await loadOrCreateCa(join(dir, 'state'), 'user');
  // The real admin listener (src/admin) with its route registry; /login routes are public.
  admin = new AdminServer({ token: 'admin-token-not-used-by-login' });
  await admin.listen('127.0.0.1', 0);
  adminBase = admin.url();
  provider = await startTestProvider({ redirectUris: [`${adminBase}/login/callback`] });
  const config = parseOidcConfig({ issuer: provider.issuer, clientId: provider.clientId, clientSecretEnv: 'X', scopes: ['openid', 'email', 'groups'] });
  const client = await OidcClient.discover({ config, clientSecret: new Secret(provider.clientSecret) });
  const web = new WebLogin({
    client,
    issueCertificate: userCaIssuer(ca),
    publicBaseUrl: new URL(adminBase),
    certificateTtlSeconds: config.certificateTtlSeconds,
    onFailed: ({ error }) => failures.push(error.detail),
  });
  for (const route of web.routes()) admin.route(route);
});

afterAll(async () => {
  if (need.skip) return;
  await admin.close();
  await provider.close();
});

/** Plays the browser: gateway /login → provider sign-in and consent → gateway callback → CLI. */
function browserAs(login: string, opts: { deny?: boolean } = {}) {
  return async (url: string) => {
    const browser = new TestBrowser();
    const toProvider = await browser.request(url);
    expect(toProvider.status).toBe(302);
    const leaving = await playUser(browser, await browser.request(toProvider.location ?? ''), login, { ...opts, providerOrigin: new URL(provider.issuer).origin });
    expect(leaving.location?.startsWith(`${adminBase}/login/callback?`)).toBe(true);
    const toCli = await browser.request(leaving.location ?? '');
    expect(toCli.location?.startsWith('http://127.0.0.1:')).toBe(true);
    await browser.request(toCli.location ?? '');
  };
}

function capture() {
  let out = '';
  let err = '';
  return { io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } }, out: () => out, err: () => err };
}

describe.skipIf(need.skip)(`gatehouse login (web sign-in with PKCE)${need.reason}`, () => {
  it('writes a certificate that ssh-keygen -L shows with the identity as principal for 8 h, and sshd accepts it', async () => {
    const key = await generateKey(dir, 'id_ed25519', 'ed25519');
    const c = capture();
    const code = await runLogin(['--gateway', adminBase, '--key', key.publicPath], { ...c.io, openBrowser: browserAs('alice') });
    expect(c.err()).toBe('');
    expect(code).toBe(0);
    expect(c.out()).toContain('Signed in as alice@example.com');
    const certPath = join(dir, 'id_ed25519-cert.pub');
    expect(readFileSync(certPath, 'utf8')).toMatch(/^ssh-ed25519-cert-v01@openssh\.com /);

    const shown = await run('ssh-keygen', ['-L', '-f', certPath]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/Type: ssh-ed25519-cert-v01@openssh.com user certificate/);
    expect(shown.stdout).toMatch(/Principals:\s*\n\s+alice@example\.com\s*\n\s+Critical Options/);
    // The groups of the sign-in ride in the key id (signed), for rules that name OIDC groups.
    expect(shown.stdout).toContain('Key ID: "gatehouse-web:alice@example.com:alice groups=ops,dba"');
    const validity = /Valid: from (\S+) to (\S+)/.exec(shown.stdout);
    expect(validity).not.toBeNull();
    // ssh-keygen prints local time without a zone; the span is what we check: 8 h plus the CA's backdating.
    const span = Date.parse(validity?.[2] ?? '') - Date.parse(validity?.[1] ?? '');
    expect(span).toBe((8 * 3600 + CLOCK_SKEW_SECONDS) * 1000);
    expect(shown.stdout).toMatch(/Signing CA: ED25519 SHA256:/);
    expect(shown.stdout).toContain('permit-pty');

    const principals = join(dir, 'principals');
    writeFileSync(principals, 'alice@example.com\n', { mode: 0o644 });
    const sshd = await startSshd({ trustedUserCaKeys: [ca.publicKeyLine], extraConfig: [`AuthorizedPrincipalsFile ${principals}`] });
    try {
      const r = await runSsh(['root@127.0.0.1', 'echo cert-accepted'], { port: sshd.port, identity: key.privatePath });
      expect(r.stdout.trim()).toBe('cert-accepted');
    } finally {
      await sshd.stop();
    }
  });

  it('reports a denied consent clearly and writes nothing', async () => {
    const keyDir = mkdtempSync(join(tmpdir(), 'gh-weblogin-deny-'));
    const key = await generateKey(keyDir, 'id_ed25519', 'ed25519');
    const c = capture();
    const code = await runLogin(['--gateway', adminBase, '--key', key.publicPath], { ...c.io, openBrowser: browserAs('alice', { deny: true }) });
    expect(code).toBe(1);
    expect(c.err()).toContain('Sign-in was declined at the identity provider. Access denied.');
    expect(() => readFileSync(join(keyDir, 'id_ed25519-cert.pub'))).toThrow();
  });

  it('refuses a callback that does not come back to the browser that started it', async () => {
    const key = await generateKey(mkdtempSync(join(tmpdir(), 'gh-weblogin-csrf-')), 'id_ed25519', 'ed25519');
    const c = capture();
    const code = await runLogin(['--gateway', adminBase, '--key', key.publicPath], {
      ...c.io,
      openBrowser: async (url) => {
        const starter = new TestBrowser();
        const toProvider = await starter.request(url);
        // Someone else's browser finishes the sign-in (no login cookie of this sign-in).
        const other = new TestBrowser();
        const leaving = await playUser(other, await other.request(toProvider.location ?? ''), 'bob', { providerOrigin: new URL(provider.issuer).origin });
        const toCli = await other.request(leaving.location ?? '');
        await other.request(toCli.location ?? '');
      },
    });
    expect(code).toBe(1);
    expect(c.err()).toMatch(/different browser/);
  });

  it('rejects a /login request with a malformed key or port without contacting the provider', async () => {
    const bad = await fetch(`${adminBase}/login?key=${Buffer.from('ssh-ed25519 AAAA').toString('base64url')}&port=5000&cli_state=${'a'.repeat(32)}`, { redirect: 'manual' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Bad public key');
    const badPort = await fetch(`${adminBase}/login?port=99999&cli_state=${'a'.repeat(32)}`, { redirect: 'manual' });
    expect(badPort.status).toBe(400);
    const unknown = await fetch(`${adminBase}/login/callback?code=x&state=nope`, { redirect: 'manual' });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('Run &#34;gatehouse login&#34; again');
  });
});

describe('web sign-in key ids', () => {
  it('carry the groups percent-encoded, read back exactly, bounded, and never throw on foreign input', () => {
    const id = webLoginKeyId({ user: 'alice', subject: 'sub with groups=x', groups: ['ops', 'Domain Admins', 'a,b'] });
    expect(id).toBe('gatehouse-web:alice:sub with groups=x groups=ops,Domain%20Admins,a%2Cb');
    expect(groupsFromWebLoginKeyId(id)).toEqual(['ops', 'Domain Admins', 'a,b']);
    expect(groupsFromWebLoginKeyId(webLoginKeyId({ user: 'bob', subject: 's', groups: [] }))).toEqual([]);
    const many = webLoginKeyId({ user: 'u', subject: 's', groups: Array.from({ length: 1000 }, (_, i) => `group-${i}-${'x'.repeat(40)}`) });
    expect(many.length).toBeLessThan(4200);
    const back = groupsFromWebLoginKeyId(many);
    expect(back.length).toBeGreaterThan(50);
    expect(back[0]).toBe(`group-0-${'x'.repeat(40)}`);
    // Old key ids (no groups), other CAs' ids, broken encodings, control characters: no groups.
    for (const foreign of ['gatehouse-web:alice@example.com:alice', 'gatehouse:alice:s1 groups=ops', 'gatehouse-web:a:s groups=%E0%A4%A', 'gatehouse-web:a:s groups=ok,%0A', 'gatehouse-web:a:s groups=a,,b']) {
      expect(groupsFromWebLoginKeyId(foreign), foreign).toEqual([]);
    }
  });
});
