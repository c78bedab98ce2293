import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayServices } from '../../src/cli/gateway-entry.js';
import { run as runPolicy } from '../../src/cli/policy.js';
import { type ServeHandle, startServe } from '../../src/cli/serve.js';
import { defaultConfig, type GatehouseConfig } from '../../src/config.js';
import { PolicyLoadError } from '../../src/policy/errors.js';
import { basePolicy } from '../policy/helpers.js';

function setup(policy = basePolicy()): GatehouseConfig {
  const root = mkdtempSync(join(tmpdir(), 'gh-serve-'));
  const policies = join(root, 'policies');
  const config = { ...defaultConfig(root), admin: { host: '127.0.0.1', port: 0 }, listen: { host: '127.0.0.1', port: 0 } };
  mkdirSync(policies);
  writeFileSync(join(policies, 'main.yaml'), policy);
  return { ...config, policies };
}

function logSink(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _e, cb) {
      text += String(chunk);
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const handles: ServeHandle[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
});

describe('serve (in process)', () => {
  it('starts admin and policy store, reloads on edit, and hands services to the gateway', async () => {
    const config = setup();
    const log = logSink();
    let seen: GatewayServices | undefined;
    let closed = false;
    const handle = await startServe(config, {
      destination: log.stream,
      startGateway: async (_cfg, services) => {
        seen = services;
        services.events({ type: 'connection.open', connectionId: 'c1', remoteAddress: '127.0.0.1', remotePort: 9, localPort: 2222 });
        return { address: { host: '127.0.0.1', port: 1 }, close: async () => {
            closed = true;
          },
        };
      },
    });
    handles.push(handle);
    expect(seen?.policy.current.rules.length).toBe(4);
    expect(statSync(join(config.stateDir, 'admin.token')).mode & 0o777).toBe(0o600);
    const base = handle.admin.url();
    expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({ status: 'ok', policyVersion: 1 });
    let metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^gatehouse_connections_total 1$/m);

    const reloaded = new Promise<void>((resolve) => handle.policy.onReload(() => resolve()));
    writeFileSync(join(config.policies, 'main.yaml'), basePolicy().replace('logins: [deploy]', 'logins: [deploy, www]'));
    await reloaded;
    metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^gatehouse_policy_reloads_total\{result="applied"\} 2$/m);
    expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({ policyVersion: 2 });
    const audit = log.lines().filter((l) => l['audit'] === 'policy.reload');
    expect(audit.map((l) => [l['result'], l['trigger']])).toEqual([
      ['applied', 'start'],
      ['applied', 'watch'],
    ]);
    await handle.close();
    expect(closed).toBe(true);
  });

  it('gatehouse policy reload asks the running gateway with the admin token', async () => {
    const config = setup();
    const handle = await startServe(config, { destination: logSink().stream, startGateway: null });
    handles.push(handle);
    const port = handle.admin.address().port;
    let out = '';
    let err = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } };
    const args = ['reload', '--admin', `127.0.0.1:${port}`, '--state-dir', config.stateDir];
    expect(await runPolicy(args, io)).toBe(0);
    expect(out).toBe('unchanged: policy v1\n');
    writeFileSync(join(config.policies, 'main.yaml'), 'users: [\n');
    out = '';
    expect(await runPolicy(args, io)).toBe(1);
    expect(out).toMatch(/main\.yaml:\d+:\d+: YAML/);
    expect(err).toContain('rejected: the gateway keeps policy v1');
    err = '';
    expect(await runPolicy(['reload', '--admin', `127.0.0.1:${port}`, '--state-dir', join(config.stateDir, 'other')], io)).toBe(1);
    expect(err).toContain('no admin token');
  });

  it('says when no gateway module is present', async () => {
    const log = logSink();
    const handle = await startServe(setup(), { destination: log.stream, startGateway: null });
    handles.push(handle);
    expect(handle.gateway).toBeUndefined();
    expect(log.lines().some((l) => String(l['msg']).includes('provided by src/gateway'))).toBe(true);
  });

  it('closes the admin listener when the gateway fails to start', async () => {
    const config = setup();
    let adminPort = 0;
    await expect(
      startServe(config, {
        destination: logSink().stream,
        startGateway: async (_c, services) => {
          adminPort = services.admin.address().port;
          throw new Error('EADDRINUSE 127.0.0.1:2222');
        },
      }),
    ).rejects.toThrow('EADDRINUSE');
    expect(adminPort).toBeGreaterThan(0);
    await expect(fetch(`http://127.0.0.1:${adminPort}/healthz`)).rejects.toThrow();
  });

  it('refuses to start on a broken policy', async () => {
    await expect(startServe(setup('users: nope\n'), { destination: logSink().stream, startGateway: null })).rejects.toBeInstanceOf(
      PolicyLoadError,
    );
  });
});
