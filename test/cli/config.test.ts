import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseHostPort } from '../../src/config.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
}

function configFile(text: string): { dir: string; file: string } {
  const dir = tmp();
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(file, text);
  return { dir, file };
}

function errorsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('has the documented defaults', () => {
    const { config, rest } = loadConfig({ argv: [], env: {}, cwd: '/srv/gh' });
    expect(config).toMatchObject({
      listen: { host: '127.0.0.1', port: 2222 },
      admin: { host: '127.0.0.1', port: 9122 },
      stateDir: '/srv/gh/state',
      policies: '/srv/gh/policies',
      recordings: '/srv/gh/recordings',
      logLevel: 'info',
      recordingFormat: 'v2',
      oidc: null,
      configFile: null,
    });
    expect(config.workers).toBeGreaterThanOrEqual(1);
    expect(rest).toEqual([]);
  });

  it('flags beat environment beats file beats defaults', () => {
    const { file, dir } = configFile('listen: 0.0.0.0:22\nadmin: 127.0.0.1:9000\nstateDir: st\nlogLevel: warn\nworkers: 3\n');
    const env = { GATEHOUSE_CONFIG: file, GATEHOUSE_ADMIN: '127.0.0.1:9100', GATEHOUSE_LOG_LEVEL: 'debug' };
    const { config, rest } = loadConfig({ argv: ['--log-level', 'error', 'extra', '--workers=2'], env, cwd: '/x' });
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 22 }); // file
    expect(config.admin).toEqual({ host: '127.0.0.1', port: 9100 }); // env over file
    expect(config.logLevel).toBe('error'); // flag over env
    expect(config.workers).toBe(2); // flag over file
    expect(config.stateDir).toBe(join(dir, 'st')); // file paths are relative to the file
    expect(config.policies).toBe('/x/policies'); // default
    expect(config.configFile).toBe(file);
    expect(rest).toEqual(['extra']);
    // --config flag beats GATEHOUSE_CONFIG
    const other = configFile('listen: 127.0.0.1:3333\n');
    expect(loadConfig({ argv: ['--config', other.file], env, cwd: '/x' }).config.listen.port).toBe(3333);
  });

  it('says what is wrong and where it came from', () => {
    const { file } = configFile('listen: nope\nlisten2: 1\nworkers: -1\nrecordingFormat: v9\n');
    const msg = errorsOf(() =>
      loadConfig({ argv: ['--admin', '1.2.3.4:99999', '--state-dir'], env: { GATEHOUSE_CONFIG: file, GATEHOUSE_LOG_LEVEL: 'loud' }, cwd: '/x' }),
    );
    expect(msg).toContain(`listen (from ${file}): expected HOST:PORT with a port 0-65535, got "nope"`);
    expect(msg).toContain(`listen2 (from ${file}): unknown setting`);
    expect(msg).toContain('workers (from');
    expect(msg).toContain('recordingFormat (from');
    expect(msg).toContain('logLevel (from GATEHOUSE_LOG_LEVEL): expected one of fatal');
    expect(msg).toContain('admin (from --admin)');
    expect(msg).toContain('--state-dir (from command line): needs a value');
  });

  it('reports an unreadable or malformed file', () => {
    expect(errorsOf(() => loadConfig({ argv: ['--config', '/nonexistent/g.yaml'], env: {} }))).toContain('cannot read');
    expect(errorsOf(() => loadConfig({ argv: ['--config', configFile('listen: [').file], env: {} }))).toContain('config (from');
    expect(errorsOf(() => loadConfig({ argv: ['--config', configFile('- a\n- b\n').file], env: {} }))).toContain('must be a mapping');
    // a list or mapping used as a key is refused by name, not stringified with a process warning
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.message);
    };
    process.on('warning', onWarning);
    try {
      for (const text of ['? [a, b]\n: 1\n', 'oidc:\n  {issuer: x}: 1\n', '!!binary aGk=: 1\n']) {
        expect(errorsOf(() => loadConfig({ argv: ['--config', configFile(text).file], env: {} }))).toContain('must be a plain word');
      }
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });

  it('passes the oidc section through for src/oidc to validate, with the secret file made absolute', () => {
    const { file, dir } = configFile(
      'oidc:\n  issuer: https://idp.example\n  clientId: gatehouse\n  clientSecretFile: secret.txt\n  usernameClaim: preferred_username\n  timeouts: { login: 15m }\n',
    );
    const { config } = loadConfig({ argv: ['--config', file], env: {} });
    expect(config.oidc).toEqual({
      issuer: 'https://idp.example',
      clientId: 'gatehouse',
      clientSecretFile: join(dir, 'secret.txt'),
      usernameClaim: 'preferred_username',
      timeouts: { login: '15m' },
    });
    const bad = configFile('oidc:\n  issuer: ftp://x\n  clientSecret: hunter2\n');
    const msg = errorsOf(() => loadConfig({ argv: ['--config', bad.file], env: {} }));
    expect(msg).toContain('oidc.issuer');
    expect(msg).toContain('oidc.clientSecret (from');
    expect(msg).not.toContain('hunter2');
    expect(msg).toContain('oidc.clientId');
    expect(errorsOf(() => loadConfig({ argv: ['--config', configFile('oidc: 5\n').file], env: {} }))).toContain('oidc (from');
    const fromEnv = loadConfig({ env: { GATEHOUSE_OIDC_ISSUER: 'https://i', GATEHOUSE_OIDC_CLIENT_ID: 'c' } }).config.oidc;
    expect(fromEnv).toEqual({ issuer: 'https://i', clientId: 'c' });
    const override = loadConfig({ argv: ['--config', file], env: { GATEHOUSE_OIDC_ISSUER: 'https://other' } }).config.oidc;
    expect(override).toMatchObject({ issuer: 'https://other', clientId: 'gatehouse', usernameClaim: 'preferred_username' });
  });

  it('parses host:port forms', () => {
    expect(parseHostPort('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseHostPort('[::1]:2222')).toEqual({ host: '::1', port: 2222 });
    expect(parseHostPort(':2222')).toEqual({ host: '127.0.0.1', port: 2222 });
    expect(parseHostPort('localhost:22')).toEqual({ host: 'localhost', port: 22 });
    for (const bad of ['', 'host', 'host:', 'h:70000', '::1:22', 'h:-1', 'a b:1']) expect(parseHostPort(bad), bad).toBeUndefined();
  });
});
