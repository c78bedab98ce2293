import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GatehouseEvent } from '../../src/obs/events.js';
import { Authorization, type Denial, evaluate, type Identity } from '../../src/policy/evaluate.js';
import { LiveAuthorizations } from '../../src/policy/live-sessions.js';
import { parseKeyLine } from '../../src/policy/key-line.js';
import { checkPolicySources } from '../../src/policy/loader.js';
import { keyUserNamed, trustedUserCa, userForKey } from '../../src/policy/lookup.js';
import { PolicyStore } from '../../src/policy/store.js';
import type { Action } from '../../src/policy/types.js';
import { ALICE_KEY, BOB_KEY, basePolicy, HOST_KEY, tempDir } from './helpers.js';

const id = (user: string): Identity => ({ user, groups: [], authMethod: 'publickey', source: 'key' });

function authorize(store: PolicyStore, user: string, target: string, login: string, action: Action): Authorization {
  const d = evaluate(store.current, { identity: id(user), target, login, action });
  if (!(d instanceof Authorization)) throw new Error(`denied: ${d.reason}`);
  return d;
}

describe('LiveAuthorizations', () => {
  it('revokes exactly the sessions a reload no longer allows, with an audit event', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.yaml'), basePolicy());
    const store = new PolicyStore(dir);
    const events: GatehouseEvent[] = [];
    const live = new LiveAuthorizations(store, (e) => events.push(e));
    const revoked: [string, Denial][] = [];
    live.register('s-alice', authorize(store, 'alice', 'db1', 'root', 'shell'), (d) => revoked.push(['s-alice', d]));
    live.register('s-alice', authorize(store, 'alice', 'db1', 'root', 'port-forward'), (d) => revoked.push(['s-alice-fwd', d]));
    live.register('s-bob', authorize(store, 'bob', 'web1', 'deploy', 'shell'), (d) => revoked.push(['s-bob', d]));
    expect(live.size).toBe(3);

    // Unrelated edit: nobody is revoked, the authorizations follow the new policy version.
    writeFileSync(join(dir, 'p.yaml'), basePolicy().replace('logins: [deploy]', 'logins: [deploy, www]'));
    expect(store.reload().applied).toBe(true);
    expect(revoked).toEqual([]);
    expect(live.authorizationsOf('s-bob')[0]?.policyVersion).toBe(2);

    // Port forwarding withdrawn from ops-prod: only that authorization goes.
    writeFileSync(join(dir, 'p.yaml'), basePolicy().replace('allow: [shell, exec, sftp, port-forward]', 'allow: [shell, exec, sftp]'));
    store.reload();
    expect(revoked.map(([s, d]) => [s, d.code])).toEqual([['s-alice-fwd', 'action-not-allowed']]);

    // Alice removed from the policy: her shell ends; bob's stays.
    writeFileSync(join(dir, 'p.yaml'), basePolicy().replace('groups: [ops]\n  - name: bob', 'groups: [former]\n  - name: bob'));
    store.reload();
    expect(revoked.map(([s]) => s)).toEqual(['s-alice-fwd', 's-alice']);
    expect(live.size).toBe(1);
    const audit = events.filter((e) => e.type === 'session.revoked');
    expect(audit).toHaveLength(2);
    expect(audit[1]).toMatchObject({ type: 'session.revoked', sessionId: 's-alice', user: 'alice' });
    live.close();
    store.close();
  });

  it('unregistering stops tracking, and a throwing callback does not stop the others', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.yaml'), basePolicy());
    const store = new PolicyStore(dir);
    const live = new LiveAuthorizations(store);
    const ended: string[] = [];
    const off = live.register('a', authorize(store, 'alice', 'db1', 'root', 'shell'), () => ended.push('a'));
    live.register('b', authorize(store, 'alice', 'db1', 'root', 'exec'), () => {
      throw new Error('socket already gone');
    });
    live.register('c', authorize(store, 'alice', 'db1', 'root', 'sftp'), () => ended.push('c'));
    off();
    writeFileSync(join(dir, 'p.yaml'), '');
    store.reload();
    expect(ended).toEqual(['c']);
    expect(live.size).toBe(0);
    expect(() => live.register('x', { allowed: true } as unknown as Authorization, () => {})).toThrow(TypeError);
    store.close();
  });
});

describe('policy lookups', () => {
  const text = `${basePolicy()}userCAs: ["${HOST_KEY}"]\n`;
  const { policy } = checkPolicySources([{ file: 'p.yaml', text }]);
  if (!policy) throw new Error('invalid');
  it('finds the key user by blob, never an OIDC user', () => {
    expect(userForKey(policy, parseKeyLine(ALICE_KEY).blob)?.name).toBe('alice');
    expect(userForKey(policy, parseKeyLine(BOB_KEY.replace('bob@laptop', 'other comment')).blob)?.name).toBe('bob');
    expect(userForKey(policy, parseKeyLine(HOST_KEY).blob)).toBeUndefined();
    expect(keyUserNamed(policy, 'carol@example.com')).toBeUndefined();
    expect(keyUserNamed(policy, 'alice')?.groups).toEqual(['ops']);
  });
  it('knows the trusted user CAs', () => {
    expect(trustedUserCa(policy, parseKeyLine(HOST_KEY).blob)).toBeDefined();
    expect(trustedUserCa(policy, parseKeyLine(ALICE_KEY).blob)).toBeUndefined();
  });
});
