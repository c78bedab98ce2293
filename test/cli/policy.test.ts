import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/policy.js';
import { basePolicy } from '../policy/helpers.js';

function io() {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } },
    out: () => out,
    err: () => err,
  };
}

function policyDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-cli-policy-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('gatehouse policy check', () => {
  it('accepts the shipped example policy', async () => {
    const c = io();
    expect(await run(['check', 'policies'], c.io)).toBe(0);
    expect(c.out()).toMatch(/^ok: policies: 1 file, 1 user, 1 target, 1 rule\n$/);
  });

  it('warns about files a valid policy refers to that are missing, and targets no rule covers', async () => {
    const dir = policyDir({ 'main.yaml': basePolicy() });
    const c = io();
    expect(await run(['check', dir], c.io)).toBe(0);
    expect(c.err()).toContain(`target web2: knownHosts file ${join(dir, 'known_hosts')} does not exist; connections to it will be refused`);
    expect(c.err()).not.toContain('no rule covers');
    writeFileSync(join(dir, 'known_hosts'), '');
    writeFileSync(join(dir, 'main.yaml'), basePolicy().replace('targets: { names: [web1, WEB2] }', 'targets: { names: [web1] }'));
    const d = io();
    expect(await run(['check', dir], d.io)).toBe(0);
    expect(d.err()).not.toContain('does not exist');
    expect(d.err()).toBe('');
    const lonely = policyDir({ 'main.yaml': basePolicy().split('rules:')[0] ?? '' });
    writeFileSync(join(lonely, 'known_hosts'), '');
    const e = io();
    expect(await run(['check', lonely], e.io)).toBe(0);
    expect(e.err()).toContain('target db1: no rule covers it');
  });

  it('prints each error as file:line:col and exits 1', async () => {
    const dir = policyDir({
      'a.yaml': basePolicy(),
      'b.yaml': 'targets:\n  - name: db1\n    address: x\n    hostKeys: ["ssh-ed25519 AAAA"]\n    colour: red\n',
    });
    const c = io();
    expect(await run(['check', dir], c.io)).toBe(1);
    const lines = c.out().trim().split('\n');
    expect(lines).toEqual([
      `${join(dir, 'b.yaml')}:4:16: target "db1" hostKeys: bad public key line: public key blob: truncated uint32: need 4 bytes, have 3`,
      `${join(dir, 'b.yaml')}:5:5: target "db1": unknown key "colour" (expected one of: name, address, port, aliases, hostKeys, knownHosts, hostCA, auth, labels, description)`,
    ]);
    expect(c.err()).toContain('2 errors in');
  });

  it('uses --policies when no DIR is given', async () => {
    const dir = policyDir({ 'p.yml': 'rules:\n  - name: r\n    users: [ghost]\n    targets: "*"\n    logins: [root]\n    allow: [shell]\n' });
    const c = io();
    expect(await run(['check', '--policies', dir], c.io)).toBe(1);
    expect(c.out()).toContain(`${join(dir, 'p.yml')}:3:13: rule "r": unknown user "ghost"`);
  });

  it('reports a missing directory', async () => {
    const c = io();
    expect(await run(['check', '/nonexistent/policies'], c.io)).toBe(1);
    expect(c.out()).toContain('/nonexistent/policies: cannot read the policy directory: ENOENT');
  });
});

describe('gatehouse policy explain', () => {
  const dir = policyDir({ 'main.yaml': basePolicy() });
  const explain = async (...args: string[]) => {
    const c = io();
    const code = await run(['explain', '--policies', dir, ...args], c.io);
    return { code, out: c.out(), err: c.err() };
  };

  it('prints the allowing rule with its location', async () => {
    const r = await explain('--user', 'alice', '--target', 'db1', '--login', 'root');
    expect(r.code).toBe(0);
    expect(r.out).toContain('ALLOW shell for alice (key) on db1 as root');
    expect(r.out).toContain(`rule:   ops-prod (${join(dir, 'main.yaml')}:`);
    expect(r.out).toContain('recording: input on, on failure end');
    expect(r.out).toContain('allowed actions here: shell, exec, sftp, port-forward');
  });

  it('prints the denial reason and the closest rule', async () => {
    const r = await explain('--user', 'alice', '--target', 'db1.internal', '--login', 'root', '--action', 'agent-forward');
    expect(r.code).toBe(1);
    expect(r.out).toContain('DENY agent-forward for alice (key) on db1.internal as root');
    expect(r.out).toContain('rule:   ops-prod');
    expect(r.out).toContain('does not allow agent-forward [action-not-allowed]');
    const unknown = await explain('--user', 'mallory', '--target', 'db1', '--login', 'root');
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain('rule:   default-deny');
  });

  it('explains OIDC identities with their groups', async () => {
    const r = await explain('--user', 'zed@example.com', '--oidc-groups', 'admins,users', '--target', 'web1', '--login', 'admin', '--action', 'exec');
    expect(r.code).toBe(0);
    expect(r.out).toContain('ALLOW exec for zed@example.com (oidc, groups admins,users) on web1 as admin');
    expect(r.out).toContain('rule:   sso-admins');
  });

  it('rejects bad usage with status 2', async () => {
    expect((await explain('--user', 'alice')).code).toBe(2);
    expect((await explain('--user', 'a', '--target', 't', '--login', 'l', '--action', 'x11')).err).toContain('unknown action "x11"');
    expect((await explain('--user', 'a', '--target', 't', '--login', 'l', '--bogus')).code).toBe(2);
    const c = io();
    expect(await run(['frobnicate'], c.io)).toBe(2);
    expect(c.err()).toContain('gatehouse policy check');
  });
});
