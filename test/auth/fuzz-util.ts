/** Deterministic random and mutated inputs for parser fuzz tests. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

export function randomBytes(rand: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** Flips, truncates, extends or overwrites length fields of a valid encoding. */
export function mutate(rand: () => number, valid: Uint8Array): Uint8Array {
  const b = valid.slice();
  switch (Math.floor(rand() * 5)) {
    case 0: {
      const i = Math.floor(rand() * b.length);
      b[i] = (b[i] ?? 0) ^ (1 << Math.floor(rand() * 8));
      return b;
    }
    case 1:
      return b.subarray(0, Math.floor(rand() * b.length));
    case 2: {
      const out = new Uint8Array(b.length + 1 + Math.floor(rand() * 8));
      out.set(b);
      return out;
    }
    case 3: {
      if (b.length < 5) return b;
      const i = 1 + Math.floor(rand() * (b.length - 4));
      new DataView(b.buffer).setUint32(i, Math.floor(rand() * 0x100000000));
      return b;
    }
    default: {
      const i = Math.floor(rand() * b.length);
      b[i] = Math.floor(rand() * 256);
      return b;
    }
  }
}
