import { describe, expect, it } from 'vitest';
import { KeyCache, cacheKeyOf, secretCacheKeyOf } from '../../src/crypto/key-cache.js';

describe('KeyCache', () => {
  it('builds each value once and stays within its capacity, evicting the least recently used', () => {
    const cache = new KeyCache<number>(3);
    let built = 0;
    const make = (v: number) => () => {
      built++;
      return v;
    };
    expect(cache.get('a', make(1))).toBe(1);
    expect(cache.get('a', make(99))).toBe(1);
    expect(built).toBe(1);
    cache.get('b', make(2));
    cache.get('c', make(3));
    cache.get('a', make(99)); // refresh a: b is now the oldest
    cache.get('d', make(4));
    expect(cache.size).toBe(3);
    expect(cache.get('b', make(20))).toBe(20);
    expect(cache.get('a', make(99))).toBe(1);
  });

  it('cache keys separate parts unambiguously', () => {
    const ab = [Uint8Array.of(1, 2), Uint8Array.of(3)];
    const a_b = [Uint8Array.of(1), Uint8Array.of(2, 3)];
    expect(cacheKeyOf(...ab)).not.toBe(cacheKeyOf(...a_b));
    expect(secretCacheKeyOf(...ab)).not.toBe(secretCacheKeyOf(...a_b));
    expect(secretCacheKeyOf(...ab)).toBe(secretCacheKeyOf(Uint8Array.of(1, 2), Uint8Array.of(3)));
    // the secret form does not carry the secret bytes themselves
    expect(secretCacheKeyOf(Uint8Array.of(0xde, 0xad, 0xbe, 0xef))).not.toContain(Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString('base64').slice(0, 5));
  });
});
