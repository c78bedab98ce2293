import { describe, expect, it } from 'vitest';
import {
  Authorization,
  allowedActions,
  type Decision,
  evaluate,
  type Identity,
  reachableTargets,
  reevaluate,
} from '../../src/policy/evaluate.js';
import { parseKeyLine } from '../../src/policy/key-line.js';
import { checkPolicySources } from '../../src/policy/loader.js';
import { policyAdmitsOidcIdentity } from '../../src/policy/lookup.js';
import { resolveTarget } from '../../src/policy/targets.js';
import type { Action, Policy } from '../../src/policy/types.js';
import { ALICE_KEY, basePolicy, HOST_KEY } from './helpers.js';

function load(text = basePolicy()): Policy {
  const { policy, issues } = checkPolicySources([{ file: 'p.yaml', text }]);
  expect(issues).toEqual([]);
  if (!policy) throw new Error('no policy');
  return policy;
}

const policy = load();
const key = (user: string, extra: Partial<Identity> = {}): Identity => ({
  user,
  groups: [],
  authMethod: 'publickey',
  source: 'key',
  ...extra,
});
const oidc = (user: string, groups: string[]): Identity => ({ user, groups, authMethod: 'keyboard-interactive', source: 'oidc' });

function decide(identity: Identity, target: string, login: string, action: Action, port?: number): Decision {
  return evaluate(policy, { identity, target, login, action, ...(port === undefined ? {} : { port }) });
}

describe('policy evaluation', () => {
  const table: [string, Identity, string, string, Action, string, string][] = [
    // who, identity, target, login, action, expected rule, expected code ('' = allowed)
    ['group + label match', key('alice'), 'db1', 'root', 'shell', 'ops-prod', ''],
    ['alias, any case', key('alice'), 'DB1.Internal', 'postgres', 'sftp', 'ops-prod', ''],
    ['by address', key('alice'), '10.0.0.5', 'root', 'exec', 'ops-prod', ''],
    ['login not listed', key('alice'), 'db1', 'admin', 'shell', 'ops-prod', 'login-not-allowed'],
    ['action not allowed', key('alice'), 'db1', 'root', 'agent-forward', 'ops-prod', 'action-not-allowed'],
    ['shell is not port-forward', key('bob'), 'web1', 'deploy', 'port-forward', 'dev-web', 'action-not-allowed'],
    ['user match by name', key('bob'), 'web2', 'deploy', 'shell', 'dev-web', ''],
    ['label does not match', key('alice'), 'web1', 'root', 'shell', 'ops-prod', 'target-not-allowed'],
    ['target outside rule', key('bob'), 'db1', 'deploy', 'shell', 'dev-web', 'target-not-allowed'],
    ['unknown user', key('mallory'), 'db1', 'root', 'shell', 'default-deny', 'unknown-user'],
    ['unknown target', key('alice'), 'db9', 'root', 'shell', 'default-deny', 'unknown-target'],
    ['oidc group', oidc('zed@example.com', ['admins']), 'db1', 'admin', 'exec', 'sso-admins', ''],
    ['oidc group wrong action', oidc('zed@example.com', ['admins']), 'db1', 'admin', 'sftp', 'sso-admins', 'action-not-allowed'],
    ['oidc listed user', oidc('carol@example.com', []), 'web1', 'carol', 'exec', 'carol-web', ''],
    ['oidc user, no groups', oidc('zed@example.com', ['users']), 'db1', 'admin', 'exec', 'default-deny', 'no-rule-for-user'],
    ['no subject match is default deny', key('erin'), 'db1', 'admin', 'shell', 'default-deny', 'no-rule-for-user'],
    ['requireSso user with key', key('dave'), 'db1', 'root', 'shell', 'default-deny', 'sso-required'],
  ];
  for (const [name, identity, target, login, action, rule, code] of table) {
    it(name, () => {
      const d = decide(identity, target, login, action);
      expect(d.rule).toBe(rule);
      expect(d.reason.length).toBeGreaterThan(10);
      if (code === '') {
        expect(d.allowed).toBe(true);
        expect(d).toBeInstanceOf(Authorization);
      } else {
        expect(d.allowed).toBe(false);
        if (!d.allowed) expect(d.code).toBe(code);
      }
    });
  }

  it('an OIDC identity cannot take over a key user of the same name', () => {
    const d = decide(oidc('alice', ['ops']), 'db1', 'root', 'shell');
    expect(d.allowed).toBe(false);
    // and policy groups ("ops") are not IdP groups
    const d2 = decide(oidc('eve@example.com', ['ops']), 'db1', 'root', 'shell');
    expect(d2.allowed).toBe(false);
  });

  it('a key no longer listed for the user is denied', () => {
    expect(decide(key('alice', { keyFingerprint: 'SHA256:nope' }), 'db1', 'root', 'shell').allowed).toBe(false);
    const fp = policy.users[0]?.keys[0]?.fingerprint ?? '';
    expect(decide(key('alice', { keyFingerprint: fp }), 'db1', 'root', 'shell').allowed).toBe(true);
  });

  it('a certificate from a CA the policy no longer trusts is denied', () => {
    const ca = parseKeyLine(HOST_KEY);
    const withCa = load(`${basePolicy()}userCAs: ["${HOST_KEY}"]\n`);
    const cert = key('alice', { source: 'certificate', certificateAuthority: ca.fingerprint });
    expect(evaluate(withCa, { identity: cert, target: 'db1', login: 'root', action: 'shell' }).allowed).toBe(true);
    const d = evaluate(policy, { identity: cert, target: 'db1', login: 'root', action: 'shell' });
    expect(d).toMatchObject({ allowed: false, code: 'unknown-user' });
    // certificates from the gateway's own CA (web sign-in) are SSO identities, not policy CAs
    const web = oidc('carol@example.com', []);
    const webCert: Identity = { ...web, source: 'certificate', sso: true, certificateAuthority: 'SHA256:gateway-user-ca' };
    expect(evaluate(policy, { identity: webCert, target: 'web1', login: 'carol', action: 'exec' }).allowed).toBe(true);
  });

  it('requireSso users pass with an SSO identity', () => {
    expect(decide(key('dave', { source: 'certificate', sso: false }), 'db1', 'root', 'shell').allowed).toBe(false);
    expect(decide(oidc('zed@example.com', ['admins']), 'web2', 'admin', 'shell').allowed).toBe(true);
  });

  it('a requireSso rule refuses a key login and admits the same user by SSO', () => {
    const p = load(`${basePolicy()}  - name: alice-sso
    users: [alice]
    targets: { names: [web1] }
    logins: [ops]
    allow: [shell]
    requireSso: true
`);
    const byKey = evaluate(p, { identity: key('alice'), target: 'web1', login: 'ops', action: 'shell' });
    expect(byKey).toMatchObject({ allowed: false, code: 'sso-required', rule: 'alice-sso' });
    const bySso = evaluate(p, { identity: key('alice', { source: 'certificate', sso: false }), target: 'web1', login: 'ops', action: 'shell' });
    expect(bySso.allowed).toBe(false);
  });

  it('names the port: 22 or the target port by name, the exact port by address', () => {
    expect(decide(key('bob'), 'web1', 'deploy', 'shell', 22).allowed).toBe(true);
    expect(decide(key('bob'), 'web1', 'deploy', 'shell', 2200).allowed).toBe(true);
    expect(decide(key('bob'), 'web1', 'deploy', 'shell', 2201).allowed).toBe(false);
    expect(resolveTarget(policy, '10.0.0.6', 2201)).toMatchObject({ kind: 'found', target: { name: 'web2' } });
    expect(resolveTarget(policy, '10.0.0.6').kind).toBe('ambiguous');
    expect(resolveTarget(policy, '10.0.0.6', 22).kind).toBe('not-found');
    expect(resolveTarget(policy, '127.0.0.1').kind).toBe('not-found');
  });

  it('carries recording, env allow-list and the policy version', () => {
    const a = decide(key('alice'), 'db1', 'root', 'shell');
    const b = decide(key('bob'), 'web1', 'deploy', 'shell');
    const c = decide(oidc('zed@example.com', ['admins']), 'db1', 'admin', 'exec');
    if (!(a instanceof Authorization && b instanceof Authorization && c instanceof Authorization)) throw new Error('denied');
    expect(a.recording).toEqual({ input: true, onFailure: 'end' });
    expect(c.recording.onFailure).toBe('continue');
    expect(a.allowsEnv('LANG')).toBe(false);
    expect(b.allowsEnv('LANG')).toBe(true);
    expect(b.allowsEnv('LC_ALL')).toBe(true);
    expect(b.allowsEnv('LD_PRELOAD')).toBe(false);
    expect(a.target.name).toBe('db1');
    expect(a.policyVersion).toBe(0);
  });

  it('only the engine can construct an Authorization', () => {
    const Ctor = Authorization as unknown as new (...args: unknown[]) => unknown;
    expect(() => new Ctor(Symbol('gatehouse.policy.Authorization'), key('x'))).toThrow(TypeError);
    const forged = { ...decide(key('alice'), 'db1', 'root', 'shell') };
    expect(Authorization.isAuthorization(forged)).toBe(false);
    expect(Authorization.isAuthorization(decide(key('alice'), 'db1', 'root', 'shell'))).toBe(true);
  });

  it('re-evaluates against a new policy: removing the user revokes', () => {
    const a = decide(key('alice'), 'db1', 'root', 'shell');
    if (!(a instanceof Authorization)) throw new Error('denied');
    expect(reevaluate(policy, a).allowed).toBe(true);
    const without = load(basePolicy().replace(/ {2}- name: alice\n {4}keys: \[.*\]\n {4}groups: \[ops\]\n/, ''));
    const d = reevaluate(without, a);
    expect(d.allowed).toBe(false);
    if (!d.allowed) expect(d.code).toBe('unknown-user');
    const noTarget = load(basePolicy().replace('targets: { labels: { env: prod } }', 'targets: { names: [web1] }'));
    expect(reevaluate(noTarget, a).allowed).toBe(false);
  });

  it('default deny with an empty policy', () => {
    const empty = load('');
    const d = evaluate(empty, { identity: key('alice'), target: 'db1', login: 'root', action: 'shell' });
    expect(d).toMatchObject({ allowed: false, rule: 'default-deny' });
  });

  it('lists allowed actions and reachable targets', () => {
    const db1 = policy.targets[0];
    if (!db1) throw new Error('no target');
    expect(allowedActions(policy, key('alice'), db1, 'root').sort()).toEqual(['exec', 'port-forward', 'sftp', 'shell']);
    expect(allowedActions(policy, key('alice'), db1, 'nobody')).toEqual([]);
    expect(reachableTargets(policy, key('alice')).map((r) => [r.target.name, r.logins])).toEqual([['db1', ['root', 'postgres']]]);
    expect(reachableTargets(policy, key('bob')).map((r) => r.target.name)).toEqual(['web1', 'web2']);
    expect(reachableTargets(policy, key('mallory'))).toEqual([]);
  });

  it('uses the first rule that allows, in file order', () => {
    const text = `${basePolicy()}  - name: later
    users: [alice]
    targets: "*"
    logins: [root]
    allow: [shell]
`;
    const p = load(text.replace(`["${ALICE_KEY}"]`, `["${ALICE_KEY}"]`));
    const d = evaluate(p, { identity: key('alice'), target: 'db1', login: 'root', action: 'shell' });
    expect(d.rule).toBe('ops-prod');
    const d2 = evaluate(p, { identity: key('alice'), target: 'web1', login: 'root', action: 'shell' });
    expect(d2.rule).toBe('later');
  });
});

describe('policyAdmitsOidcIdentity', () => {
  it('admits an OIDC user entry or a provider group some rule names, and nobody else', () => {
    expect(policyAdmitsOidcIdentity(policy, { user: 'carol@example.com', groups: [] })).toBe(true);
    expect(policyAdmitsOidcIdentity(policy, { user: 'zed@example.com', groups: ['users', 'admins'] })).toBe(true);
    expect(policyAdmitsOidcIdentity(policy, { user: 'zed@example.com', groups: ['users'] })).toBe(false);
    // a key user of the same name is not an OIDC entry
    expect(policyAdmitsOidcIdentity(policy, { user: 'alice', groups: [] })).toBe(false);
  });
});
