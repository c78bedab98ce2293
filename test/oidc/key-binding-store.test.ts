import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OidcIdentity } from '../../src/oidc/claims.js';
import { KeyBindingStoreError } from '../../src/oidc/errors.js';
import { KeyBindingStore, parseKeyBindingFile, serializeKeyBindings } from '../../src/oidc/key-binding-store.js';

const alice: OidcIdentity = { user: 'alice@example.com', groups: ['ops'], source: 'oidc', issuer: 'https://idp.example', subject: 'a1' };
const bob: OidcIdentity = { ...alice, user: 'bob@example.com', subject: 'b1' };
const fp = (n: number) => `SHA256:${Buffer.alloc(32, n).toString('base64').replace(/=+$/, '')}`;

function store(now: { t: number }, over: { ttlSeconds?: number; maxEntries?: number } = {}) {
  const stateDir = mkdtempSync(join(tmpdir(), 'gh-kb-'));
  return new KeyBindingStore({ stateDir, ttlSeconds: over.ttlSeconds ?? 8 * 3600, now: () => now.t, ...(over.maxEntries === undefined ? {} : { maxEntries: over.maxEntries }) });
}

describe('KeyBindingStore', () => {
  it('binds a key for the TTL and forgets it afterwards', async () => {
    const now = { t: 1_000_000 };
    const s = store(now, { ttlSeconds: 3600 });
    await s.bind(fp(1), alice);
    expect((await s.lookup(fp(1)))?.identity).toEqual(alice);
    now.t += 3600 * 1000 - 1;
    expect((await s.lookup(fp(1)))?.identity.user).toBe('alice@example.com');
    now.t += 1;
    expect(await s.lookup(fp(1))).toBeUndefined();
  });

  it('writes the file 0600, atomically, leaving no temporary files', async () => {
    const now = { t: 1_000_000 };
    const s = store(now);
    await Promise.all([s.bind(fp(1), alice), s.bind(fp(2), bob), s.bind(fp(3), alice)]);
    expect(statSync(s.path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(s.path, '..'))).toEqual(['oidc-key-bindings.json']);
    expect((await s.list()).map((b) => b.fingerprint).sort()).toEqual([fp(1), fp(2), fp(3)].sort());
  });

  it('loses no change when several stores (gateway workers, the CLI) change the file at once', async () => {
    const now = { t: 1_000_000 };
    const first = store(now);
    const stateDir = join(first.path, '..');
    const others = [1, 2, 3].map(() => new KeyBindingStore({ stateDir, ttlSeconds: 3600, now: () => now.t }));
    const all = [first, ...others];
    await Promise.all(all.flatMap((s, i) => Array.from({ length: 10 }, (_, j) => s.bind(fp(i * 10 + j + 1), alice))));
    expect(await first.list()).toHaveLength(40);
    expect(readdirSync(stateDir)).toEqual(['oidc-key-bindings.json']);
  });

  it('takes over a lock left by a process that died mid-change', async () => {
    const now = { t: 1_000_000 };
    const s = store(now);
    writeFileSync(`${s.path}.lock`, '99999\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${s.path}.lock`, old, old);
    await s.bind(fp(1), alice);
    expect((await s.lookup(fp(1)))?.identity).toEqual(alice);
  });

  it('revokes one key, and all keys of a user', async () => {
    const now = { t: 1_000_000 };
    const s = store(now);
    await s.bind(fp(1), alice);
    await s.bind(fp(2), alice);
    await s.bind(fp(3), bob);
    expect(await s.revokeKey(fp(3))).toBe(true);
    expect(await s.revokeKey(fp(3))).toBe(false);
    expect(await s.lookup(fp(3))).toBeUndefined();
    expect(await s.revokeUser('alice@example.com')).toBe(2);
    expect(await s.list()).toEqual([]);
  });

  it('revokes what a policy reload no longer admits', async () => {
    const now = { t: 1_000_000 };
    const s = store(now);
    await s.bind(fp(1), alice);
    await s.bind(fp(2), bob);
    expect(await s.revokeWhere((id) => id.user === 'bob@example.com')).toBe(1);
    expect((await s.list()).map((b) => b.identity.user)).toEqual(['alice@example.com']);
  });

  it('sees a revocation made by another store instance (the CLI) at once', async () => {
    const now = { t: 1_000_000 };
    const s = store(now);
    await s.bind(fp(1), alice);
    const cli = new KeyBindingStore({ stateDir: join(s.path, '..'), ttlSeconds: 1, now: () => now.t });
    expect(await cli.revokeKey(fp(1))).toBe(true);
    expect(await s.lookup(fp(1))).toBeUndefined();
  });

  it('stays bounded: over the limit the bindings closest to expiry go', async () => {
    const now = { t: 1_000_000 };
    const s = store(now, { maxEntries: 3 });
    for (let i = 1; i <= 5; i++) {
      await s.bind(fp(i), alice);
      now.t += 1000;
    }
    expect((await s.list()).map((b) => b.fingerprint)).toEqual([fp(3), fp(4), fp(5)]);
  });

  it('refuses malformed fingerprints and a corrupt file with a typed error', async () => {
    const now = { t: 1_000_000 };
    const s = store(now);
    await expect(s.bind('MD5:aa:bb', alice)).rejects.toBeInstanceOf(KeyBindingStoreError);
    expect(await s.lookup('nonsense')).toBeUndefined();
    writeFileSync(s.path, '{"version":1,"bindings":[{"fingerprint":"x"}]}');
    await expect(s.lookup(fp(1))).rejects.toBeInstanceOf(KeyBindingStoreError);
  });
});

describe('parseKeyBindingFile fuzz', () => {
  it('gives bindings or a KeyBindingStoreError for random and mutated inputs', () => {
    const seed = serializeKeyBindings([{ fingerprint: fp(1), identity: alice, boundAtMs: 1, expiresAtMs: 2 }]);
    expect(parseKeyBindingFile(seed)).toHaveLength(1);
    const alphabet = '{}[]":,0123456789abcnulltruefalse';
    for (let i = 0; i < 3000; i++) {
      let input: string;
      if (i % 4 === 0) input = randomBytes(i % 300).toString('latin1');
      else {
        const chars = [...seed];
        for (let e = 0; e < 1 + (i % 6); e++) {
          const pos = randomBytes(2).readUInt16BE() % chars.length;
          chars[pos] = alphabet[(randomBytes(1)[0] ?? 0) % alphabet.length] ?? '0';
        }
        input = chars.join('');
      }
      try {
        parseKeyBindingFile(input);
      } catch (err) {
        expect(err).toBeInstanceOf(KeyBindingStoreError);
      }
    }
  });
});
