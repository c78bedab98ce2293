import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadClientSecret, OIDC_DEFAULTS, parseDuration, parseOidcConfig, Secret } from '../../src/oidc/config.js';
import { OidcConfigError } from '../../src/oidc/errors.js';

const SECRET = 'very-secret-value-4c1d9e';

describe('parseOidcConfig', () => {
  it('fills defaults (8 h key binding, email user name, groups claim, openid scope)', () => {
    const c = parseOidcConfig({ issuer: 'https://idp.example/realms/corp', clientId: 'gatehouse', clientSecretEnv: 'GH_SECRET' });
    expect(c.keyBindingTtlSeconds).toBe(8 * 3600);
    expect(c.certificateTtlSeconds).toBe(8 * 3600);
    expect(c.usernameClaim).toBe('email');
    expect(c.groupsClaim).toBe('groups');
    expect(c.scopes).toEqual(OIDC_DEFAULTS.scopes);
    expect(c.clientSecretSource).toEqual({ kind: 'env', name: 'GH_SECRET' });
  });

  it('reads claims, scopes, durations and timeouts', () => {
    const c = parseOidcConfig({
      issuer: 'https://idp.example',
      clientId: 'gh',
      scopes: 'email roles',
      usernameClaim: 'preferred_username',
      groupsClaim: 'realm_access.roles',
      keyBindingTtl: '2h',
      timeouts: { http: 5, login: '5m' },
    });
    expect(c.scopes).toEqual(['openid', 'email', 'roles']);
    expect(c.usernameClaim).toBe('preferred_username');
    expect(c.groupsClaim).toBe('realm_access.roles');
    expect(c.keyBindingTtlSeconds).toBe(7200);
    expect(c.httpTimeoutSeconds).toBe(5);
    expect(c.loginTimeoutSeconds).toBe(300);
  });

  it('accepts the field names of the gateway config loader (src/config.ts)', () => {
    const c = parseOidcConfig({
      issuer: 'https://idp.example',
      clientId: 'gh',
      clientSecretFile: null,
      clientSecretEnv: 'GH_SECRET',
      scopes: ['openid', 'email'],
      userClaim: 'preferred_username',
      groupsClaim: 'roles',
      deviceFlowTimeoutSeconds: 300,
      keyBindingSeconds: 3600,
      certificateSeconds: 7200,
      httpTimeoutSeconds: 7,
      clockSkewSeconds: 30,
    });
    expect(c.usernameClaim).toBe('preferred_username');
    expect(c.groupsClaim).toBe('roles');
    expect(c.loginTimeoutSeconds).toBe(300);
    expect(c.httpTimeoutSeconds).toBe(7);
    expect(c.keyBindingTtlSeconds).toBe(3600);
    expect(c.certificateTtlSeconds).toBe(7200);
    expect(c.clockSkewSeconds).toBe(30);
    expect(c.clientSecretSource).toEqual({ kind: 'env', name: 'GH_SECRET' });
  });

  it('refuses an inline secret, http issuers off loopback, and bad durations', () => {
    expect(() => parseOidcConfig({ issuer: 'https://idp.example', clientId: 'x', clientSecret: SECRET })).toThrow(/do not belong in the config file/);
    expect(() => parseOidcConfig({ issuer: 'http://idp.example', clientId: 'x', allowInsecureHttp: true })).toThrow(OidcConfigError);
    expect(parseOidcConfig({ issuer: 'http://127.0.0.1:8080', clientId: 'x', allowInsecureHttp: true }).issuer.href).toBe('http://127.0.0.1:8080/');
    expect(() => parseOidcConfig({ issuer: 'https://idp.example', clientId: 'x', keyBindingTtl: '8 hours' })).toThrow(/keyBindingTtl/);
    expect(() => parseDuration(-1, 'x')).toThrow(OidcConfigError);
    expect(() => parseOidcConfig({ issuer: 'https://idp.example', clientId: 'x', webLoginBaseUrl: 'http://gate.example:9122' })).toThrow(/webLoginBaseUrl/);
    expect(parseOidcConfig({ issuer: 'https://idp.example', clientId: 'x', webLoginBaseUrl: 'https://gate.example:9122' }).webLoginBaseUrl?.href).toBe('https://gate.example:9122/');
    expect(parseDuration('1d', 'x')).toBe(86400);
  });
});

describe('client secret', () => {
  it('reads from an environment variable and never prints it', () => {
    const s = loadClientSecret({ kind: 'env', name: 'GH_TEST_SECRET' }, { GH_TEST_SECRET: `${SECRET}\n` });
    expect(s?.reveal()).toBe(SECRET);
    const config = { oidc: { clientId: 'gh', secret: s } };
    expect(JSON.stringify(config)).not.toContain(SECRET);
    expect(inspect(config, { depth: 10 })).not.toContain(SECRET);
    expect(String(s)).not.toContain(SECRET);
    expect(`${s}`).toBe('[redacted]');
    expect(Object.keys(s as Secret)).toEqual([]);
  });

  it('reads from a 0600 file, refuses a group-readable one, and never names the value in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-oidc-'));
    const file = join(dir, 'secret');
    writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
    expect(loadClientSecret({ kind: 'file', path: file })?.reveal()).toBe(SECRET);
    chmodSync(file, 0o640);
    let message = '';
    try {
      loadClientSecret({ kind: 'file', path: file });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/readable by group or others/);
    expect(message).not.toContain(SECRET);
    expect(() => loadClientSecret({ kind: 'file', path: join(dir, 'missing') })).toThrow(/cannot read/);
    expect(() => loadClientSecret({ kind: 'env', name: 'GH_UNSET_VAR' }, {})).toThrow(/not set/);
  });

  it('does not leak through a logger that serializes errors and objects (pino)', async () => {
    const { default: pino } = await import('pino');
    const lines: string[] = [];
    const log = pino({}, { write: (l: string) => lines.push(l) });
    const secret = new Secret(SECRET);
    log.info({ config: { clientSecret: secret } }, 'loaded');
    log.error({ err: new Error(`failed with ${secret}`) }, 'oops');
    expect(lines.join('')).not.toContain(SECRET);
    expect(lines.join('')).toContain('[redacted]');
  });
});
