/**
 * The built `gatehouse` binary (dist/src/cli.js), spawned as a user would run it. `npm test`
 * builds first (pretest); when the build is missing or older than the CLI sources it is rebuilt.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingGatewayHeapFlags, withGatewayHeapFlags } from '../../src/gateway/heap-flags.js';
import { basePolicy } from '../policy/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'dist/src/cli.js');

function newestSource(): number {
  const files = ['src/cli.ts', 'src/config.ts', ...readdirSync(join(ROOT, 'src/cli')).map((f) => `src/cli/${f}`)];
  for (const dir of ['src/policy', 'src/obs', 'src/admin']) files.push(...readdirSync(join(ROOT, dir)).map((f) => `${dir}/${f}`));
  return Math.max(...files.map((f) => statSync(join(ROOT, f)).mtimeMs));
}

beforeAll(() => {
  if (!existsSync(BIN) || statSync(BIN).mtimeMs < newestSource()) {
    // Type errors elsewhere in the tree do not stop tsc from emitting; the test needs the output.
    spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'ignore' });
  }
  expect(existsSync(BIN)).toBe(true);
}, 120_000);

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function gatehouse(args: string[], cwd = ROOT): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, GATEHOUSE_CONFIG: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('gatehouse binary', () => {
  it('starts with a node shebang that passes the gateway V8 flags, and prints help', () => {
    const shebang = execFileSync('head', ['-1', BIN], { encoding: 'utf8' });
    expect(shebang).toMatch(/^#!\/usr\/bin\/env -S node( --[a-z-]+=?[0-9]*)*\n$/);
    // All of them: the line and heap-flags.ts must not drift apart.
    expect(missingGatewayHeapFlags(shebang.trim().split(' ').slice(3))).toEqual([]);
    const r = gatehouse(['--help']);
    expect(r.status).toBe(0);
    for (const c of ['serve', 'policy', 'ca', 'replay', 'verify', 'recordings', 'sessions', 'login', 'oidc']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    const sub = gatehouse(['sessions', 'toString']);
    expect(sub.status).toBe(2);
    expect(sub.stderr).toContain('subcommands: revoke-key');
    const bad = gatehouse(['frobnicate']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
  });

  it('policy check accepts the example and reports errors with file:line:col', () => {
    expect(gatehouse(['policy', 'check']).stdout).toBe('ok: policies: 1 file, 1 user, 1 target, 1 rule\n');
    const dir = mkdtempSync(join(tmpdir(), 'gh-bin-'));
    writeFileSync(join(dir, 'bad.yaml'), 'rules:\n  - name: r\n    groups: [ops]\n    targets: "*"\n    logins: [root]\n    allow: [shell, teleport]\n');
    const r = gatehouse(['policy', 'check', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(`${join(dir, 'bad.yaml')}:6:20: rule "r": unknown action "teleport" (expected one of: shell, exec, sftp, port-forward, remote-forward, agent-forward)\n`);
  });

  it('policy explain prints the decision and the rule', () => {
    const r = gatehouse(['policy', 'explain', '--user', 'alice', '--target', 'localhost', '--login', 'root', '--action', 'sftp']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('ALLOW sftp for alice (key) on localhost-sshd as root');
    expect(r.stdout).toContain('rule:   ops-dev (policies/example.yaml:');
    const d = gatehouse(['policy', 'explain', '--user', 'alice', '--target', 'localhost-sshd', '--login', 'root', '--action', 'agent-forward']);
    expect(d.status).toBe(1);
    expect(d.stdout).toContain('[action-not-allowed]');
  });

  it('serve --workers 1 warns when its process lacks the gateway V8 flags, and is quiet with them', async () => {
    const root = mkdtempSync(join(tmpdir(), 'gh-bin-flags-'));
    const policies = join(root, 'policies');
    mkdirSync(policies);
    writeFileSync(join(policies, 'main.yaml'), basePolicy());
    const run = (nodeArgs: string[], name: string) =>
      new Promise<Record<string, unknown>[]>((res, rej) => {
        const args = [...nodeArgs, BIN, 'serve', '--workers', '1', '--admin', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--state-dir', join(root, name), '--policies', policies];
        const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, GATEHOUSE_CONFIG: '', NODE_OPTIONS: '' } });
        children.push(child);
        const lines: Record<string, unknown>[] = [];
        createInterface({ input: child.stdout }).on('line', (text) => {
          lines.push(JSON.parse(text) as Record<string, unknown>);
          // Up: the warning comes right after start-up, before the admin listener announces itself.
          if (typeof lines.at(-1)?.['url'] === 'string') child.kill('SIGTERM');
        });
        child.once('exit', () => res(lines));
        child.once('error', rej);
      });
    const bare = await run([], 'bare');
    const warning = bare.find((l) => Array.isArray(l['missing']));
    expect(warning?.['level']).toBe('warn');
    expect(warning?.['missing']).toEqual(withGatewayHeapFlags([]));
    const flagged = await run(withGatewayHeapFlags([]), 'flagged');
    expect(flagged.some((l) => typeof l['url'] === 'string')).toBe(true);
    expect(flagged.some((l) => 'missing' in l)).toBe(false);
  }, 60_000);

  it('serve runs the admin listener, reloads on SIGHUP, keeps the old policy on a broken edit, and stops on SIGTERM', async () => {
    const root = mkdtempSync(join(tmpdir(), 'gh-bin-serve-'));
    const policies = join(root, 'policies');
    mkdirSync(policies);
    writeFileSync(join(policies, 'main.yaml'), basePolicy());
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--admin', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--state-dir', join(root, 'state'), '--policies', policies],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GATEHOUSE_CONFIG: '' } },
    );
    children.push(child);
    const lines: Record<string, unknown>[] = [];
    const waiters: { test: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
    createInterface({ input: child.stdout }).on('line', (text) => {
      const l = JSON.parse(text) as Record<string, unknown>;
      lines.push(l);
      for (const w of [...waiters]) if (w.test(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const died = new Promise<never>((_res, rej) =>
      child.once('exit', (code, signal) => rej(new Error(`serve exited early (${code ?? signal}): ${stderr}`))),
    );
    died.catch(() => {});
    const waitFor = (test: (l: Record<string, unknown>) => boolean) =>
      Promise.race([
        died,
        new Promise<never>((_res, rej) => {
          // A deadline so a missing log line fails with the log, not a bare test timeout.
          setTimeout(() => rej(new Error(`no matching log line; log so far:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`)), 20_000).unref();
        }),
        new Promise<Record<string, unknown>>((res) => {
          const found = lines.find(test);
          if (found) res(found);
          else waiters.push({ test, resolve: res });
        }),
      ]);

    const ready = await waitFor((l) => typeof l['url'] === 'string');
    const base = String(ready['url']);
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('gatehouse_active_sessions 0');

    // Broken edit + SIGHUP: rejected, old policy stays (version 1).
    writeFileSync(join(policies, 'main.yaml'), `${basePolicy()}  - name: broken\n`);
    child.kill('SIGHUP');
    const rejected = await waitFor((l) => l['audit'] === 'policy.reload' && l['result'] === 'rejected');
    expect(String((rejected['errors'] as string[])[0])).toMatch(/main\.yaml:\d+:\d+: /);
    expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({ policyVersion: 1 });

    // Valid (changed) edit + SIGHUP (the watcher may also fire): applied.
    writeFileSync(join(policies, 'main.yaml'), basePolicy().replace('logins: [deploy]', 'logins: [deploy, www]'));
    child.kill('SIGHUP');
    await waitFor((l) => l['audit'] === 'policy.reload' && l['result'] === 'applied' && l['trigger'] !== 'start');
    const health = (await (await fetch(`${base}/healthz`)).json()) as { policyVersion: number };
    expect(health.policyVersion).toBeGreaterThanOrEqual(2);

    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Nothing secret in the log: the admin token never appears.
    const token = execFileSync('cat', [join(root, 'state', 'admin.token')], { encoding: 'utf8' }).trim();
    expect(JSON.stringify(lines)).not.toContain(token);
  });

  it('serve refuses a broken policy with file:line errors and exit 1', () => {
    const root = mkdtempSync(join(tmpdir(), 'gh-bin-bad-'));
    writeFileSync(join(root, 'p.yaml'), 'targets:\n  - name: x\n');
    const r = gatehouse(['serve', '--admin', '127.0.0.1:0', '--state-dir', join(root, 'state'), '--policies', root], root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${join(root, 'p.yaml')}:2:5: target "x": "address" is required`);
  });

  it('ca prints one OpenSSH line', () => {
    const state = join(mkdtempSync(join(tmpdir(), 'gh-bin-ca-')), 'state');
    const r = gatehouse(['ca', 'host', '--state-dir', state]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ssh-ed25519 \S+( \S+)?\n$/);
  });

  it('serve reports configuration errors with exit 2', () => {
    const r = gatehouse(['serve', '--listen', 'nowhere']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('listen (from --listen): expected HOST:PORT');
  });
});
