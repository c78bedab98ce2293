/**
 * A small bounded LRU map for imported key objects. Importing a raw key into node:crypto costs
 * more than the operation itself (issue 2), and host keys, CA keys and user keys repeat.
 * Bounded so that a peer offering many keys cannot grow memory.
 */
import { createHash } from 'node:crypto';

export class KeyCache<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly capacity = 256) {}

  get(key: string, make: () => V): V {
    const hit = this.map.get(key);
    if (hit !== undefined) {
      // refresh recency: Map iterates in insertion order
      this.map.delete(key);
      this.map.set(key, hit);
      return hit;
    }
    const v = make();
    if (this.map.size >= this.capacity) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, v);
    return v;
  }

  get size(): number {
    return this.map.size;
  }
}

/** A cache key for public raw bytes (base64 is the cheapest lossless string form Buffer offers). */
export function cacheKeyOf(...parts: Uint8Array[]): string {
  let s = '';
  for (const p of parts) s += `${Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('base64')}.`;
  return s;
}

/**
 * A cache key for secret bytes: a SHA-256 digest, so that private keys are not kept as
 * (unwipeable) JavaScript strings in the cache's index. Costs about a microsecond, far less than
 * the signature it saves an import for.
 */
export function secretCacheKeyOf(...parts: Uint8Array[]): string {
  const h = createHash('sha256');
  const len = new Uint8Array(4);
  for (const p of parts) {
    // length-prefixed, so that different splits of the same bytes cannot collide
    new DataView(len.buffer).setUint32(0, p.length);
    h.update(len).update(p);
  }
  return h.digest('base64');
}
