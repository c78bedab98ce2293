/**
 * `gatehouse oidc check [--config FILE]`
 * Tests the OIDC settings: discovery, the signing keys (JWKS), device-flow and authorization
 * endpoints, and whether the token endpoint accepts the client credentials. Prints no secret.
 * Exit 0 when sign-in can work, 1 when something is wrong, 2 on usage or config errors.
 */

import { loadClientSecret, parseOidcConfig, type Secret } from '../oidc/config.js';
import { OidcConfigError, OidcLoginError } from '../oidc/errors.js';
import { OidcClient } from '../oidc/provider-client.js';
import { CALLBACK_PATH } from '../oidc/web-login.js';
import { type ConfiguredIo, loadCommandConfig } from './io.js';

export const OIDC_USAGE = 'usage: gatehouse oidc check [--config FILE]';

export type OidcCliIo = ConfiguredIo;

export async function runOidc(argv: readonly string[], io: OidcCliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const loaded = loadCommandConfig(argv, io);
  if (loaded === undefined) return 2;
  const [sub, ...extra] = loaded.rest;
  if (sub !== 'check' || extra.length > 0) {
    io.stderr.write(`${OIDC_USAGE}\n`);
    return sub === '--help' || sub === '-h' ? 0 : 2;
  }
  if (loaded.config.oidc === null) {
    io.stderr.write('no oidc section in the configuration (set oidc.issuer and oidc.clientId)\n');
    return 2;
  }
  const env = (io.env ?? process.env) as NodeJS.ProcessEnv;
  let secret: Secret | undefined;
  let config: ReturnType<typeof parseOidcConfig>;
  try {
    config = parseOidcConfig(loaded.config.oidc);
    secret = loadClientSecret(config.clientSecretSource, env);
  } catch (e) {
    io.stderr.write(`${e instanceof OidcConfigError ? e.message : String(e)}\n`);
    return 2;
  }
  const line = (label: string, text: string) => io.stdout.write(`${label.padEnd(20)}${text}\n`);
  let client: OidcClient;
  try {
    client = await OidcClient.discover({ config, clientSecret: secret });
  } catch (e) {
    line('discovery', `FAILED: ${e instanceof OidcLoginError ? e.detail : String(e)}`);
    return 1;
  }
  line('discovery', `ok, issuer ${client.issuer}`);
  let ok = true;
  try {
    const r = await client.checkCredentials();
    line('token endpoint', r.tokenEndpoint);
    line('device flow', r.deviceAuthorizationEndpoint === undefined ? 'NOT OFFERED (SSH sign-in needs it)' : r.deviceAuthorizationEndpoint);
    line('web sign-in', r.authorizationEndpoint === undefined ? 'NOT OFFERED' : `${r.authorizationEndpoint}${r.supportsPkceS256 ? ' (PKCE S256)' : ' (PKCE S256 not advertised)'}`);
    line('signing keys', r.jwksKeys > 0 ? `${r.jwksKeys} key(s) in the JWKS` : 'NONE in the JWKS');
    line('client credentials', `${r.credentials === 'accepted' ? 'accepted' : r.credentials === 'rejected' ? 'REJECTED' : 'UNKNOWN'} (${r.credentialsDetail})`);
    line('web sign-in URL', config.webLoginBaseUrl === undefined ? 'not set (oidc.webLoginBaseUrl; gatehouse login needs it)' : `${new URL(CALLBACK_PATH, config.webLoginBaseUrl).href} must be a redirect URI of the client`);
    line('claims', `user name from "${config.usernameClaim}", groups from "${config.groupsClaim}", scopes ${config.scopes.join(' ')}`);
    ok = r.deviceAuthorizationEndpoint !== undefined && r.jwksKeys > 0 && r.credentials === 'accepted';
  } catch (e) {
    line('check', `FAILED: ${e instanceof OidcLoginError ? e.detail : (e as Error).message}`);
    ok = false;
  }
  io.stdout.write(ok ? 'OIDC configuration OK\n' : 'OIDC configuration has problems (see above)\n');
  return ok ? 0 : 1;
}
