/**
 * OIDC sign-in through the gateway itself (issue 6): plain OpenSSH `ssh -J` driven through a
 * tmux pty against `gatehouse serve` internals configured with an in-process oidc-provider.
 * The device flow inside keyboard-interactive (instruction text, groups into policy, refusals
 * with a message), key binding and its revocation, cancellation of the sign-in and of its
 * provider requests when the client goes away, the per-connection bound on device codes, and
 * `gatehouse login` (web sign-in with PKCE) whose certificate ssh -J then uses.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLogin } from '../../src/cli/login.js';
import { runSessionsRevokeKey } from '../../src/cli/sessions-revoke.js';
import { fingerprintSha256 } from '../../src/keys/index.js';
import { parsePublicKeyLine } from '../../src/keys/public-key.js';
import { signJwt } from '../oidc/support/jwt.js';
import { devicePrompt, jumpTo, ptyExited, ptySsh as ptySshVia } from '../oidc/support/ssh-sign-in.js';
import { approveDeviceCode, playUser, startTestProvider, TestBrowser, type TestProvider } from '../oidc/support/test-provider.js';
import { fingerprint, freePort, type GeneratedKey, generateKey, makeTempDir, requireBinaries, waitFor } from '../support/index.js';
import { startTestGateway, type TestGateway, userStderr } from './harness.js';

const need = requireBinaries('ssh', 'sshd', 'ssh-keygen', 'tmux');

/** What the provider saw, and switches to make it misbehave for one test. */
interface ProviderTap {
  /** device_code by user_code, from /device/auth responses. */
  readonly deviceCodes: Map<string, string>;
  /** device_code of each device-grant /token request, in order. */
  readonly tokenPolls: string[];
  /** Every token string the provider handed out (ID and access tokens). */
  readonly issuedTokens: string[];
  /** Answer every device-grant poll with expired_token (RFC 8628 §3.5). */
  expireAll: boolean;
  /** Hold device-grant poll responses until the client drops the request (or 30 s). */
  holdPolls: boolean;
  /** device_codes whose held poll the client aborted. */
  readonly abortedPolls: string[];
  /** Replace the ID token of token responses (a forger between us and the provider). */
  forgeIdToken: ((claims: Record<string, unknown>) => string) | undefined;
}

function providerTap(): { tap: ProviderTap; middleware: (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => Promise<void> } {
  const tap: ProviderTap = { deviceCodes: new Map(), tokenPolls: [], issuedTokens: [], expireAll: false, holdPolls: false, abortedPolls: [], forgeIdToken: undefined };
  const middleware = async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    if (ctx.path === '/token' && tap.expireAll) {
      ctx.status = 400;
      ctx.body = { error: 'expired_token', error_description: 'device code expired (test)' };
      return;
    }
    await next();
    const body = typeof ctx.body === 'object' && ctx.body !== null ? (ctx.body as Record<string, unknown>) : {};
    if (ctx.path === '/device/auth' && typeof body['device_code'] === 'string' && typeof body['user_code'] === 'string') {
      tap.deviceCodes.set(body['user_code'], body['device_code']);
    }
    if (ctx.path !== '/token') return;
    for (const k of ['id_token', 'access_token', 'refresh_token']) if (typeof body[k] === 'string') tap.issuedTokens.push(body[k]);
    const idToken = body['id_token'];
    if (tap.forgeIdToken !== undefined && typeof idToken === 'string') {
      const forged = tap.forgeIdToken(JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>);
      tap.issuedTokens.push(forged);
      body['id_token'] = forged;
    }
    const deviceCode = ctx.oidc?.params?.['device_code'];
    if (typeof deviceCode !== 'string') return;
    tap.tokenPolls.push(deviceCode);
    if (!tap.holdPolls) return;
    // Keep the answer back; the gateway must drop the request when its SSH client goes away.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 30_000);
      ctx.req.socket.once('close', () => {
        clearTimeout(timer);
        tap.abortedPolls.push(deviceCode);
        resolve();
      });
    });
  };
  return { tap, middleware };
}

describe.skipIf(need.skip)(`OIDC sign-in through the gateway${need.reason}`, () => {
  let provider: TestProvider;
  let tap: ProviderTap;
  let gw: TestGateway;
  let policyYaml = '';
  let carol: GeneratedKey;
  const dir = makeTempDir('gatehouse-gw-oidc-');

  beforeAll(async () => {
    const adminPort = await freePort();
    const t = providerTap();
    tap = t.tap;
    provider = await startTestProvider({ redirectUris: [`http://127.0.0.1:${adminPort}/login/callback`], middleware: [t.middleware] });
    provider.accounts.set('carol', { email: 'carol@example.com', preferred_username: 'carol', groups: ['sre'] });
    provider.accounts.set('dave', { email: 'dave@example.com', preferred_username: 'dave', groups: [] });
    for (const name of ['erin', 'frank', 'gina', 'hana']) provider.accounts.set(name, { email: `${name}@example.com`, preferred_username: name, groups: ['sre'] });
    const secretFile = join(dir, 'client-secret');
    writeFileSync(secretFile, `${provider.clientSecret}\n`, { mode: 0o600 });
    gw = await startTestGateway({
      adminPort,
      oidc: {
        issuer: provider.issuer,
        clientId: provider.clientId,
        clientSecretFile: secretFile,
        scopes: ['openid', 'email', 'profile', 'groups'],
        usernameClaim: 'preferred_username',
        // Longer than the waits below: a poll the gateway failed to abort must not end by timeout.
        timeouts: { http: 60 },
      },
    });
    // db1 for the OIDC group sre; db2 (the same sshd) only for dba, which carol is not in;
    // dave is an SSO user entry (certificates from `gatehouse login` carry no groups).
    const from = gw.logs.length;
    const hostKey = gw.sshd.hostKeys[0] ?? '';
    policyYaml = `users:
  - name: dave
    oidc: true
targets:
  - name: db1
    address: 127.0.0.1
    port: ${gw.sshd.port}
    hostKeys: ["${hostKey}"]
  - name: db2
    address: 127.0.0.1
    port: ${gw.sshd.port}
    hostKeys: ["${hostKey}"]
rules:
  - name: sre-db1
    oidcGroups: [sre]
    targets: { names: [db1] }
    logins: [root]
    allow: [shell, exec]
  - name: dba-db2
    oidcGroups: [dba]
    targets: { names: [db2] }
    logins: [root]
    allow: [shell, exec]
  - name: dave-db1
    users: [dave]
    targets: { names: [db1] }
    logins: [root]
    allow: [exec]
`;
    gw.writePolicy(policyYaml);
    await waitFor(async () => gw.logs.slice(from).some((l) => l.audit === 'policy.reload' && l.result === 'applied') || undefined, 'policy reload', 10_000);
    carol = await generateKey(dir, 'carol', 'ed25519');
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
    await provider?.close();
  });

  const since = (from: number) => gw.logs.slice(from);
  const jump = (user: string) => jumpTo(gw, user);
  const ptySsh = (key: GeneratedKey, user: string, target: string, command: string, extra: readonly string[] = []) => ptySshVia(gw, key, user, target, command, extra);
  const exited = ptyExited;

  it('a user with no known key signs in through the device flow and reaches a target their OIDC group allows', async () => {
    const from = gw.logs.length;
    const pty = await ptySsh(carol, 'carol', 'root@db1', "'echo via-oidc-$((6*7))'");
    try {
      const { screen, tag, url, userCode } = await devicePrompt(pty);
      // The instruction: where to sign in, the code, who asks (client address) and the session tag.
      expect(screen).toContain('Gatehouse single sign-on');
      expect(screen).toContain(`Open:   ${url}`);
      expect(url).toMatch(new RegExp(`^${provider.issuer}/device\\?user_code=`));
      expect(screen).toContain(`Check that the page shows the code ${userCode}`);
      expect(screen).toContain(`This request comes from 127.0.0.1, session ${tag}.`);
      await approveDeviceCode(url, 'carol');
      await pty.sendKeys(['Enter']);
      await pty.waitForText(/^via-oidc-42\s*$/m);
      expect(await exited(pty)).toBe(0);
      // The operator's log carries the same tag, the identity with its groups, and the decision.
      const attempt = since(from).find((l) => l.audit === 'auth.attempt' && l.method === 'keyboard-interactive');
      expect(attempt?.sessionTag).toBe(tag);
      const ok = since(from).find((l) => l.audit === 'auth.result' && l.method === 'keyboard-interactive' && l.result === 'success');
      expect(ok?.sessionTag).toBe(tag);
      expect(String(ok?.reason)).toContain('identity carol (OIDC groups: sre)');
      expect(String(ok?.reason)).toContain(`key ${fingerprintSha256(parsePublicKeyLine(carol.publicLine).blob)} bound`);
      expect(since(from).some((l) => l.audit === 'policy.decision' && l.result === 'allow' && l.user === 'carol' && l.target === 'db1' && l.rule === 'sre-db1')).toBe(true);
    } finally {
      await pty.stop();
    }
  });

  it('the key offered in that connection now goes through with no browser, and a target outside the groups is refused with a message', async () => {
    const polls = tap.deviceCodes.size;
    const ok = await gw.ssh(['-J', jump('carol'), 'root@db1', 'echo bound-key-ok'], { identity: carol });
    expect(ok.stdout).toBe('bound-key-ok\n');
    const from = gw.logs.length;
    const denied = await gw.ssh(['-J', jump('carol'), 'root@db2', 'echo should-not-run'], { identity: carol, extra: ['LogLevel INFO'] });
    expect(denied.code).toBe(255);
    expect(denied.stdout).not.toContain('should-not-run');
    expect(userStderr(denied.stderr).join('\n')).toMatch(/gatehouse: .*denied.*db2|db2.*denied/i);
    const deny = await waitFor(async () => since(from).find((l) => l.audit === 'policy.decision' && l.result === 'deny' && l.user === 'carol' && l.target === 'db2'), 'deny event');
    expect(String(deny.reason)).not.toBe('');
    // No device code was asked for: the binding alone admitted the key.
    expect(tap.deviceCodes.size).toBe(polls);
  });

  it('revoke-key makes the key need the browser again; closing ssh at the prompt cancels the sign-in and the poll in flight', async () => {
    const fingerprint = fingerprintSha256(parsePublicKeyLine(carol.publicLine).blob);
    let out = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) }, env: {} };
    expect(await runSessionsRevokeKey([fingerprint, '--state-dir', gw.config.stateDir], io)).toBe(0);
    expect(out).toContain(`revoked the key binding of ${fingerprint}`);
    // BatchMode cannot answer keyboard-interactive: without the binding, the key alone is not enough.
    const batch = await gw.ssh(['-J', jump('carol'), 'root@db1', 'true'], { identity: carol });
    expect(batch.code).toBe(255);
    expect(batch.stderr).toMatch(/Permission denied/);

    tap.holdPolls = true;
    const pty = await ptySsh(carol, 'carol', 'root@db1', 'true');
    try {
      const { userCode } = await devicePrompt(pty);
      const deviceCode = tap.deviceCodes.get(userCode) ?? '';
      expect(deviceCode).not.toBe('');
      // A poll is now held at the provider; the user gives up.
      await waitFor(async () => tap.tokenPolls.includes(deviceCode) || undefined, 'a poll to be in flight');
      const from = gw.logs.length;
      await pty.stop();
      await waitFor(async () => since(from).find((l) => l.audit === 'connection.close'), 'the gateway to see the client go');
      await waitFor(async () => tap.abortedPolls.includes(deviceCode) || undefined, 'the poll in flight to be aborted', 8_000);
      // And no poll follows: the timer went with it (the provider advertises a 1 s interval).
      const polled = tap.tokenPolls.filter((c) => c === deviceCode).length;
      await new Promise((r) => setTimeout(r, 3_000));
      expect(tap.tokenPolls.filter((c) => c === deviceCode).length).toBe(polled);
    } finally {
      tap.holdPolls = false;
      await pty.stop();
    }
  });

  it('an expired device code is refused with a message; a new code is offered at most 3 times per connection', async () => {
    const key = await generateKey(dir, 'erin', 'ed25519');
    const from = gw.logs.length;
    const codesBefore = tap.deviceCodes.size;
    tap.expireAll = true;
    // NumberOfPasswordPrompts 5: OpenSSH would ask for more codes than the gateway hands out.
    const pty = await ptySsh(key, 'erin', 'root@db1', 'true', ['NumberOfPasswordPrompts 5']);
    try {
      const tags: string[] = [];
      for (let attempt = 1; attempt <= 3; attempt++) {
        const { tag } = await devicePrompt(pty, tags[tags.length - 1]);
        tags.push(tag);
        await pty.sendKeys(['Enter']);
        const last = attempt === 3;
        // ssh flushes typed-ahead input at each prompt: wait for this attempt's failure round.
        const rounds = await waitFor(
          async () => {
            const found = [...(await pty.capture(400)).matchAll(/Sign-in timed out: the code expired before sign-in completed\. (Press Enter to close:|Press Enter for a new code, or Ctrl-C to give up:)/g)];
            return found.length >= attempt ? found : undefined;
          },
          `the failure round of attempt ${attempt}`,
          15_000,
          100,
        );
        expect(rounds[attempt - 1]?.[1]).toBe(last ? 'Press Enter to close:' : 'Press Enter for a new code, or Ctrl-C to give up:');
        await pty.sendKeys(['Enter']);
      }
      expect(await exited(pty)).toBe(255);
      expect(new Set(tags).size).toBe(3);
      // The fourth request gets no code: refused (and here it is the connection's last allowed failure).
      expect(await pty.capture(400)).toMatch(/Permission denied|too many authentication failures/);
    } finally {
      tap.expireAll = false;
      await pty.stop();
    }
    expect(tap.deviceCodes.size - codesBefore).toBe(3);
    const failures = since(from).filter((l) => l.audit === 'auth.result' && l.method === 'keyboard-interactive' && l.result === 'failure');
    expect(failures.filter((l) => String(l.reason).startsWith('device sign-in failed (expired): provider answered expired_token'))).toHaveLength(3);
    expect(failures.some((l) => String(l.reason).includes('no further sign-in on this connection'))).toBe(true);
  });

  it('a denied consent is refused with a message, no new code follows, and nothing is bound', async () => {
    const key = await generateKey(dir, 'frank', 'ed25519');
    const from = gw.logs.length;
    const pty = await ptySsh(key, 'frank', 'root@db1', 'true');
    try {
      const { url, tag } = await devicePrompt(pty);
      await approveDeviceCode(url, 'frank', { deny: true });
      await pty.sendKeys(['Enter']);
      await pty.waitForText('Sign-in was declined at the identity provider. Access denied. Press Enter to close:');
      await pty.sendKeys(['Enter']);
      expect(await exited(pty)).toBe(255);
      expect(await pty.capture(200)).not.toMatch(new RegExp(`\\[session (?!${tag})[A-Z0-9]+\\] Sign in at`));
    } finally {
      await pty.stop();
    }
    const failure = since(from).find((l) => l.audit === 'auth.result' && l.result === 'failure' && String(l.reason).startsWith('device sign-in failed (access-denied)'));
    expect(failure?.user).toBe('frank');
    const batch = await gw.ssh(['-J', jump('frank'), 'root@db1', 'true'], { identity: key });
    expect(batch.code).toBe(255);
  });

  it('a token for another audience, and one signed by another key, are refused with a message', async () => {
    const header = { alg: 'RS256', typ: 'JWT', kid: provider.signingKid };
    const { privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cases = [
      {
        forge: (c: Record<string, unknown>) => signJwt(header, { ...c, aud: 'another-client', azp: 'another-client' }, provider.signingKey),
        message: 'Sign-in refused: the identity provider issued the token for a different application (audience mismatch).',
        reason: 'device sign-in failed (invalid-token): ID token rejected (audience)',
      },
      {
        forge: (c: Record<string, unknown>) => signJwt(header, c, otherKey),
        message: 'Sign-in refused: the token signature is not valid for this identity provider.',
        reason: 'device sign-in failed (invalid-token): ID token rejected (bad-signature)',
      },
    ];
    for (const [i, c] of cases.entries()) {
      const key = await generateKey(dir, `gina-${i}`, 'ed25519');
      const from = gw.logs.length;
      tap.forgeIdToken = c.forge;
      const pty = await ptySsh(key, 'gina', 'root@db1', 'echo should-not-run');
      try {
        const { url } = await devicePrompt(pty);
        await approveDeviceCode(url, 'gina');
        await pty.sendKeys(['Enter']);
        await pty.waitForText(`${c.message} Press Enter to close:`);
        await pty.sendKeys(['Enter']);
        expect(await exited(pty)).toBe(255);
        expect(await pty.capture(200)).not.toContain('should-not-run');
      } finally {
        tap.forgeIdToken = undefined;
        await pty.stop();
      }
      expect(since(from).some((l) => l.audit === 'auth.result' && l.result === 'failure' && String(l.reason).startsWith(c.reason)), c.reason).toBe(true);
    }
  });

  it('`gatehouse login` (web sign-in with PKCE) writes a certificate that ssh -J accepts through the gateway, for a policy user and by OIDC group', async () => {
    // dave is an SSO user entry of the policy; hana is in no entry, only in the OIDC group sre,
    // which her certificate carries (in its signed key id).
    const keys = new Map<string, GeneratedKey>();
    for (const { user, rule } of [
      { user: 'dave', rule: 'dave-db1' },
      { user: 'hana', rule: 'sre-db1' },
    ]) {
      const home = makeTempDir('gatehouse-login-home-');
      mkdirSync(join(home, '.ssh'), { recursive: true });
      const key = await generateKey(join(home, '.ssh'), 'id_ed25519', 'ed25519');
      keys.set(user, key);
      // Without the certificate the key is unknown, and BatchMode cannot sign in.
      const before = await gw.ssh(['-J', jump(user), 'root@db1', 'true'], { identity: key });
      expect(before.code).toBe(255);
      let out = '';
      const loginFrom = gw.logs.length;
      const browser = new TestBrowser();
      const code = await runLogin(['--gateway', gw.adminUrl, '--key', `${key.privatePath}.pub`, '--timeout', '60'], {
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: (s: string) => (out += s) },
        home,
        // The "browser": the gateway's /login → the provider (sign in, consent) → /login/callback → the CLI's loopback.
        openBrowser: async (url) => {
          const atProvider = await playUser(browser, await browser.request(url), user, { providerOrigin: provider.issuer });
          if (atProvider.location === undefined) throw new Error(`the provider did not redirect back: ${atProvider.body.slice(0, 200)}`);
          await browser.follow(atProvider.location);
        },
      });
      expect(out).toContain(`Signed in as ${user}`);
      expect(code).toBe(0);
      // the issue is in the audit log, with the key it was issued for
      const issued = await waitFor(async () => since(loginFrom).find((l) => l.audit === 'oidc.web-login' && l.result === 'issued'), 'web sign-in event');
      expect(issued).toMatchObject({ user, keyFingerprint: await fingerprint(`${key.privatePath}.pub`) });
      const from = gw.logs.length;
      // ssh offers the plain key first, then the certificate beside it (id_ed25519-cert.pub).
      const r = await gw.ssh(['-J', jump(user), 'root@db1', 'echo cert-ok'], { identity: key });
      expect(r.stdout, `${r.stderr}\n${JSON.stringify(since(from).filter((l) => l.audit), null, 1)}`).toBe('cert-ok\n');
      expect(since(from).some((l) => l.audit === 'auth.result' && l.result === 'success' && l.method === 'publickey' && l.user === user)).toBe(true);
      expect(since(from).some((l) => l.audit === 'policy.decision' && l.result === 'allow' && l.user === user && l.rule === rule)).toBe(true);
    }
    const from = gw.logs.length;
    const hana = keys.get('hana');
    if (hana === undefined) throw new Error('no key for hana');
    const denied = await gw.ssh(['-J', jump('hana'), 'root@db2', 'true'], { identity: hana });
    expect(denied.code).toBe(255);
    await waitFor(async () => since(from).find((l) => l.audit === 'policy.decision' && l.result === 'deny' && l.user === 'hana' && l.target === 'db2'), 'deny event');
  });

  it('a policy reload that no longer admits a signed-in identity revokes its key bindings, and says so in the log', async () => {
    const gina = await generateKey(dir, 'gina', 'ed25519');
    const pty = await ptySsh(gina, 'gina', 'root@db1', "'echo gina-$((6*7))'");
    try {
      const { url } = await devicePrompt(pty);
      await approveDeviceCode(url, 'gina');
      await pty.sendKeys(['Enter']);
      await pty.waitForText(/^gina-42\s*$/m);
    } finally {
      await pty.stop();
    }
    expect((await gw.ssh(['-J', jump('gina'), 'root@db1', 'echo bound'], { identity: gina })).stdout).toBe('bound\n');
    const from = gw.logs.length;
    // No rule names the group sre any more (gina's only claim to access).
    gw.writePolicy(policyYaml.replace('oidcGroups: [sre]', 'oidcGroups: [sre-retired]'));
    try {
      const line = await waitFor(async () => since(from).find((l) => typeof l.msg === 'string' && /revoked \d+ key binding\(s\): policy v\d+ no longer admits/.test(l.msg)), 'the revocation log line', 10_000);
      expect(Number(line.revoked)).toBeGreaterThanOrEqual(1);
    } finally {
      const back = gw.logs.length;
      gw.writePolicy(policyYaml);
      await waitFor(async () => since(back).some((l) => l.audit === 'policy.reload' && l.result === 'applied') || undefined, 'policy restored', 10_000);
    }
    // Even with the rule back, the key needs a browser sign-in again.
    const batch = await gw.ssh(['-J', jump('gina'), 'root@db1', 'true'], { identity: gina });
    expect(batch.code).toBe(255);
    expect(batch.stderr).toMatch(/Permission denied/);
  });

  it('the gateway log holds no device code, user code, token or client secret', () => {
    const text = JSON.stringify(gw.logs);
    const secrets = [provider.clientSecret, ...tap.deviceCodes.keys(), ...tap.deviceCodes.values(), ...tap.issuedTokens];
    expect(secrets.length).toBeGreaterThan(10);
    for (const s of secrets) expect(text.includes(s), `log contains ${s.slice(0, 12)}…`).toBe(false);
  });
});
