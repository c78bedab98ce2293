import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, type PolicyIssue } from '../../src/policy/errors.js';
import { checkPolicySources } from '../../src/policy/loader.js';
import { ALICE_KEY, basePolicy, HOST_KEY } from './helpers.js';

function check(text: string, file = 'p.yaml'): readonly PolicyIssue[] {
  return checkPolicySources([{ file, text }]).issues;
}

function only(text: string): PolicyIssue {
  const issues = check(text);
  expect(issues.map(formatIssue)).toHaveLength(1);
  return issues[0] as PolicyIssue;
}

const target = `targets:
  - name: db1
    address: 10.0.0.5
    hostKeys: ["${HOST_KEY}"]
`;

describe('policy schema', () => {
  it('accepts the base policy and normalises it', () => {
    const { policy, issues } = checkPolicySources([{ file: 'p.yaml', text: basePolicy() }]);
    expect(issues).toEqual([]);
    expect(policy?.users.map((u) => u.name)).toEqual(['alice', 'bob', 'carol@example.com', 'dave', 'erin']);
    expect(policy?.targets.find((t) => t.name === 'web1')?.port).toBe(2200);
    const rule = policy?.rules.find((r) => r.name === 'sso-admins');
    expect(rule?.recording).toEqual({ input: false, onFailure: 'continue' });
    expect(rule?.targets).toEqual({ kind: 'all' });
    expect(policy?.rules[0]?.recording).toEqual({ input: true, onFailure: 'end' });
    expect(policy?.users[0]?.keys[0]?.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(policy?.users[0]?.at).toEqual({ file: 'p.yaml', line: 2, col: 5 });
  });

  it('accepts an empty file as an empty (deny-all) policy', () => {
    expect(check('')).toEqual([]);
    expect(check('# only a comment\n')).toEqual([]);
  });

  it('reports YAML syntax errors with the position', () => {
    const i = only('users:\n  - name: [alice\n');
    expect(i.kind).toBe('yaml-syntax');
    expect(i.line).toBeGreaterThanOrEqual(2);
    expect(formatIssue(i)).toMatch(/^p\.yaml:\d+:\d+: YAML: /);
  });

  it('reports an unknown key at its line and column', () => {
    const i = only(`${target}    colour: blue\n`);
    expect(i).toMatchObject({ kind: 'unknown-key', file: 'p.yaml', line: 5, col: 5 });
    expect(i.message).toContain('unknown key "colour"');
    expect(formatIssue(i)).toBe(`p.yaml:5:5: ${i.message}`);
  });

  it('reports an unknown top-level key', () => {
    expect(only('usres: []\n')).toMatchObject({ kind: 'unknown-key', line: 1, col: 1 });
  });

  it('reports a wrong type', () => {
    const i = only(`${target.replace('address: 10.0.0.5', 'address: 10.0.0.5\n    port: "ssh"')}`);
    expect(i).toMatchObject({ kind: 'wrong-type', line: 4, col: 11 });
    expect(i.message).toContain('port must be a port number, not the string "ssh"');
    expect(only('users: {alice: 1}\n')).toMatchObject({ kind: 'wrong-type', line: 1, col: 8 });
    expect(only(`users:\n  - name: alice\n    groups: ops\n`)).toMatchObject({ kind: 'wrong-type', line: 3, col: 13 });
  });

  it('reports an out-of-range port', () => {
    expect(only(`${target}    port: 70000\n`)).toMatchObject({ kind: 'invalid-value', line: 5, col: 11 });
  });

  it('reports an unknown action with the allowed ones', () => {
    const text = `${target}rules:
  - name: r
    users: []
    targets: { names: [db1] }
    logins: [root]
    allow: [shell, x11]
`;
    const i = only(text);
    expect(i).toMatchObject({ kind: 'unknown-action', line: 10, col: 20 });
    expect(i.message).toContain('unknown action "x11"');
    expect(i.message).toContain('port-forward');
  });

  it('reports a duplicate target name, also across files and against aliases', () => {
    const two = `${target}  - name: DB1\n    address: 10.0.0.6\n    hostKeys: ["${HOST_KEY}"]\n`;
    const i = only(two);
    expect(i).toMatchObject({ kind: 'duplicate', line: 5, col: 5 });
    expect(i.message).toContain('already defined at p.yaml:2:5');
    const issues = checkPolicySources([
      { file: 'a.yaml', text: target },
      { file: 'b.yaml', text: `targets:\n  - name: other\n    address: x\n    aliases: [db1]\n    hostKeys: ["${HOST_KEY}"]\n` },
    ]).issues;
    expect(issues).toHaveLength(1);
    expect(formatIssue(issues[0] as PolicyIssue)).toMatch(/^b\.yaml:2:5: alias "db1" of target "other" is already defined at a\.yaml:2:5/);
  });

  it('reports duplicate users and rules, and a key shared by two users', () => {
    const users = `users:\n  - name: a\n    keys: ["${ALICE_KEY}"]\n  - name: a\n  - name: b\n    keys: ["${ALICE_KEY}"]\n`;
    const issues = check(users);
    expect(issues.map((i) => [i.kind, i.line])).toEqual([
      ['duplicate', 4],
      ['duplicate', 5],
    ]);
    expect(issues[1]?.message).toContain('also belongs to user "a"');
  });

  it('reports a rule naming an unknown target or user at the reference', () => {
    const text = `${target}users:\n  - name: alice\nrules:
  - name: r
    users: [alice, mallory]
    targets: { names: [db1, db9] }
    logins: [root]
    allow: [shell]
`;
    const issues = check(text);
    expect(issues.map((i) => [i.kind, i.line, i.col, i.message])).toEqual([
      ['unknown-reference', 9, 20, 'rule "r": unknown user "mallory"'],
      ['unknown-reference', 10, 29, 'rule "r": unknown target "db9"'],
    ]);
  });

  it('reports a bad key line', () => {
    const cases = [
      'ssh-ed25519',
      'ssh-ed25519 !!!notbase64',
      `ssh-rsa ${ALICE_KEY.split(' ')[1]}`,
      'ssh-ed25519 AAAA',
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5',
    ];
    for (const line of cases) {
      const i = only(`users:\n  - name: a\n    keys:\n      - "${line}"\n`);
      expect(i, line).toMatchObject({ kind: 'bad-key', line: 4, col: 9 });
      expect(i.message).toContain('bad public key line');
    }
  });

  it.skipIf(!existsSync('/usr/bin/ssh-keygen'))('refuses a certificate where a key is expected (needs openssh-client)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-cert-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'ca')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'u')]);
    execFileSync('ssh-keygen', ['-q', '-s', join(dir, 'ca'), '-I', 'id', '-n', 'alice', join(dir, 'u.pub')]);
    const cert = readFileSync(join(dir, 'u-cert.pub'), 'utf8').trim();
    const i = only(`users:\n  - name: a\n    keys: ["${cert}"]\n`);
    expect(i).toMatchObject({ kind: 'bad-key', line: 3 });
    expect(i.message).toContain('is a certificate');
    // while the plain key from ssh-keygen is accepted, with ssh-keygen's fingerprint
    const pub = readFileSync(join(dir, 'u.pub'), 'utf8').trim();
    const { policy } = checkPolicySources([{ file: 'p.yaml', text: `users:\n  - name: a\n    keys: ["${pub}"]\n` }]);
    const fp = execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'u.pub')], { encoding: 'utf8' }).split(' ')[1];
    expect(policy?.users[0]?.keys[0]?.fingerprint).toBe(fp);
  });

  it('requires host verification: no trust on first use', () => {
    const i = only('targets:\n  - name: db1\n    address: h\n');
    expect(i).toMatchObject({ kind: 'missing-field', line: 2, col: 5 });
    expect(i.message).toContain('never trusts a host key on first use');
  });

  it('reports missing required fields and a rule that names nobody', () => {
    const issues = check('rules:\n  - name: r\n    targets: "*"\n');
    expect(issues.map((i) => i.kind).sort()).toEqual(['missing-field', 'missing-field', 'missing-field']);
    expect(issues.map((i) => i.message).join('\n')).toMatch(/"logins" is required[\s\S]*"allow" is required[\s\S]*users, groups or oidcGroups/);
  });

  it('rejects bad recording, env, login and selector values', () => {
    const text = `${target}rules:
  - name: r
    groups: [g]
    targets: { names: [db1], labels: { a: b } }
    logins: ["root; rm"]
    allow: [shell]
    env: ["A B"]
    recording: { onFailure: panic, input: yes please }
`;
    const kinds = check(text).map((i) => [i.kind, i.line]);
    expect(kinds).toEqual(
      expect.arrayContaining([
        ['invalid-value', 9],
        ['invalid-value', 11],
        ['wrong-type', 12],
        ['invalid-value', 12],
      ]),
    );
  });

  it('rejects YAML aliases (no expansion bombs)', () => {
    const i = check('users:\n  - &a\n    name: x\n  - *a\n');
    expect(i.map((x) => x.kind)).toContain('wrong-type');
    expect(i.map((x) => x.message).join()).toContain('aliases are not allowed');
  });

  it('resolves knownHosts and key files relative to the policy file', () => {
    const { policy } = checkPolicySources([{ file: '/etc/gh/policies/p.yaml', text: basePolicy() }]);
    expect(policy?.targets.find((t) => t.name === 'web2')?.hostVerification).toEqual({
      kind: 'known-hosts',
      file: '/etc/gh/policies/known_hosts',
    });
  });
});
