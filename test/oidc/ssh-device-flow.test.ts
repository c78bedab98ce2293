// Plain OpenSSH (ssh 9.2 through a pty) completes the device flow inside keyboard-interactive
// against this project's SshServer, wired the way the gateway hook is meant to use the OIDC API:
// PK_OK for any plain key, the proven key is remembered and refused (so ssh goes on to its other
// credentials, then keyboard-interactive), the device-flow round, then the key binding; the next
// connection with that key needs no browser. The provider is oidc-provider.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthAnswer, AuthCheck } from '../../src/auth/auth-types.js';
import { ChannelOpenFailure } from '../../src/connection/channel-opens.js';
import { generatePrivateKey } from '../../src/keys/private-key.js';
import { parsePublicKeyLine } from '../../src/keys/public-key.js';
import type { ServerConnection } from '../../src/net/server-connection.js';
import { SshServer } from '../../src/net/server.js';
import { createOidcSignIn, type DeviceLogin, failureRound, newSessionTag, type OidcIdentity, type OidcSignIn } from '../../src/oidc/index.js';
import { generateKey, openssh10, requireBinaries, runSsh, shellQuote, startPty, waitFor } from '../support/index.js';
import { approveDeviceCode, startTestProvider, type TestProvider } from './support/test-provider.js';

const need = requireBinaries('ssh', 'ssh-keygen', 'tmux');

describe.skipIf(need.skip)(`OpenSSH keyboard-interactive device flow${need.reason}`, () => {
  let provider: TestProvider;
  let oidc: OidcSignIn;
  let server: SshServer;
  let port = 0;
  const dir = mkdtempSync(join(tmpdir(), 'gh-ssh-oidc-'));
  const deviceLogins: string[] = [];
  const started: DeviceLogin[] = [];

  beforeAll(async () => {
    provider = await startTestProvider();
    oidc = await createOidcSignIn({
      oidc: { issuer: provider.issuer, clientId: provider.clientId, clientSecretEnv: 'GH_TEST_SECRET', scopes: ['openid', 'email', 'groups'] },
      stateDir: join(dir, 'state'),
      env: { GH_TEST_SECRET: provider.clientSecret },
    });
    const proven = new WeakMap<ServerConnection, Uint8Array>();
    const logins = new WeakMap<ServerConnection, DeviceLogin>();
    const identities = new WeakMap<ServerConnection, OidcIdentity>();
    const failed = new WeakSet<ServerConnection>();
    const authenticate = async (c: ServerConnection, _user: string, check: AuthCheck): Promise<AuthAnswer> => {
      switch (check.kind) {
        case 'publickey-query':
          // PK_OK for any plain key, so that the client proves possession of it.
          return check.key.isCertificate ? { type: 'reject', reason: 'no certificates here' } : { type: 'accept' };
        case 'publickey': {
          if (check.key.isCertificate) return { type: 'reject', reason: 'no certificates here' };
          const binding = await oidc.bindingForProvenKey(check.key.blob);
          if (binding !== undefined) {
            identities.set(c, binding.identity);
            return { type: 'accept' };
          }
          // Not partial success: OpenSSH would then reset its tried keys and offer this one again.
          proven.set(c, check.key.blob);
          return { type: 'reject', reason: 'key not bound yet: sign in with SSO' };
        }
        case 'keyboard-interactive': {
          const login = await oidc.deviceLogins.begin(c.remoteAddress, newSessionTag());
          // The gateway hook cancels on disconnect; the test cancels whatever is left in afterAll.
          started.push(login);
          deviceLogins.push(login.userCode);
          logins.set(c, login);
          return { type: 'prompt', name: login.round.name, instruction: login.instruction, prompts: login.prompts };
        }
        case 'keyboard-interactive-answers': {
          if (failed.has(c)) return { type: 'reject', reason: 'sign-in failed' };
          const login = logins.get(c);
          if (login === undefined) return { type: 'reject', reason: 'no sign-in in progress' };
          const r = await login.result;
          if (!r.ok) {
            failed.add(c);
            const round = failureRound(r.error);
            return { type: 'prompt', name: round.name, instruction: round.instruction, prompts: round.prompts };
          }
          const key = proven.get(c);
          if (key !== undefined) await oidc.bindProvenKey(key, r.identity);
          identities.set(c, r.identity);
          return { type: 'accept' };
        }
        case 'none':
        case 'password':
          return { type: 'reject', reason: `${check.kind} not offered` };
        default: {
          const never: never = check;
          throw new Error(String(never));
        }
      }
    };
    server = new SshServer({
      hostKeys: [generatePrivateKey('ssh-ed25519')],
      authMethods: ['publickey', 'keyboard-interactive'],
      loginGraceMs: 60_000,
      hooks: {
        authenticate,
        channelOpen: (c, open) => {
          if (open.type !== 'session') return { type: 'reject', reason: ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED, description: 'session only' };
          return {
            type: 'accept',
            onOpen: (ch) => {
              ch.requestHandler = (req) => {
                if (req.type !== 'exec') return req.type === 'env' || req.type === 'pty-req';
                const id = identities.get(c);
                ch.write(`hello ${id?.user ?? '?'} groups=${id?.groups.join(',') ?? ''}\n`);
                ch.exit({ status: 0 });
                return true;
              };
            },
          };
        },
      },
    });
    port = (await server.listen(0, '127.0.0.1')).port;
  });

  afterAll(async () => {
    for (const login of started) login.cancel('test finished');
    await server?.close();
    await provider?.close();
  });

  /** ssh through a pty: wait for the prompt, sign in in the "browser", press Enter; returns the screen at the prompt. */
  async function signInThroughPty(program: string, keyPath: string, extra: readonly string[], opts: { deny?: boolean } = {}): Promise<string> {
    const ssh = [
      shellQuote(program),
      '-F /dev/null',
      '-o UserKnownHostsFile=/dev/null',
      '-o StrictHostKeyChecking=no',
      '-o IdentityAgent=none',
      '-o IdentitiesOnly=yes',
      ...extra,
      `-i ${shellQuote(keyPath)}`,
      `-p ${port}`,
      'alice@127.0.0.1',
      'whoami',
    ].join(' ');
    const pty = await startPty(ssh, { columns: 200, rows: 40 });
    try {
      const screen = await pty.waitForText('then press Enter:');
      // The URL is in the prompt line itself, which ssh shows even when it hides the instruction.
      const url = /Sign in at (\S+), then press Enter:/.exec(screen)?.[1] ?? '';
      expect(url).toContain('/device?user_code=');
      await approveDeviceCode(url, 'alice', opts);
      await pty.sendKeys(['Enter']);
      if (opts.deny === true) return await pty.waitForText('Press Enter to close:');
      await pty.waitForText('hello alice@example.com groups=ops,dba');
      await waitFor(async () => ((await pty.isDead()) ? true : undefined), 'ssh to exit', 10_000);
      expect(await pty.exitStatus()).toBe(0);
      return screen;
    } finally {
      await pty.stop();
    }
  }

  it('signs in with plain ssh and the browser, then the bound key connects without a browser', async () => {
    const key = await generateKey(dir, 'id_ed25519', 'ed25519');
    const before = deviceLogins.length;
    const screen = await signInThroughPty('ssh', key.privatePath, []);
    // OpenSSH shows the instruction (name, URL, client address, session tag) with the prompt.
    expect(screen).toContain('Gatehouse single sign-on');
    expect(screen).toContain('This request comes from 127.0.0.1');
    expect(screen).toContain(`user_code=${deviceLogins[before]}`);
    // The next connection (BatchMode: no prompts possible) is admitted by the key binding alone.
    const again = await runSsh(['-p', String(port), 'alice@127.0.0.1', 'whoami'], { identity: key.privatePath });
    expect(again.stdout).toBe('hello alice@example.com groups=ops,dba\n');
    expect(deviceLogins).toHaveLength(before + 1);
  });

  it('tells the user why when consent is denied, and binds nothing', async () => {
    const key = await generateKey(dir, 'id_denied', 'ed25519');
    const screen = await signInThroughPty('ssh', key.privatePath, [], { deny: true });
    expect(screen).toContain('Sign-in was declined at the identity provider. Access denied. Press Enter to close:');
    expect(await oidc.bindingForProvenKey(parsePublicKeyLine(key.publicLine).blob)).toBeUndefined();
  });

  // Checked by hand on 2026-11-23: OpenSSH 9.2 and 10.0 with -q print neither name nor instruction.
  it('still shows where to sign in under ssh -q (which hides the instruction), also with OpenSSH 10.0', async () => {
    const o10 = openssh10();
    for (const [name, program] of [['9.2', 'ssh'], ...(o10 === null ? [] : [['10.0', o10.ssh]])] as const) {
      const key = await generateKey(dir, `id_quiet_${name}`, 'ed25519');
      const screen = await signInThroughPty(program, key.privatePath, ['-q']);
      expect(screen, `OpenSSH ${name}`).toContain('[session ');
    }
  });
});
