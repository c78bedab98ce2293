/**
 * ChaCha20 blocks (RFC 8439 §2.3) in plain TypeScript, for the per-packet pieces of
 * chacha20-poly1305@openssh.com that are a block or a few: the 4-byte length (K_1, block 0),
 * the Poly1305 key (K_2, block 0) and short payloads. A block costs ~0.3 µs here, where a
 * node:crypto cipher context costs ~3 µs to set up; longer payloads still go through
 * node:crypto's assembly implementation.
 */

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574] as const;

export class ChaChaBlockKey {
  private readonly key = new Uint32Array(8);
  private readonly ks = new Uint8Array(64);

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError('chacha20 key must be 32 bytes');
    const v = new DataView(key.buffer, key.byteOffset, 32);
    for (let i = 0; i < 8; i++) this.key[i] = v.getUint32(i * 4, true);
  }

  /**
   * Key-stream block for state words 12..15 = (w12, w13, w14, w15), written as 64 little-endian
   * bytes into `out`.
   */
  block(w12: number, w13: number, w14: number, w15: number, out: Uint8Array): Uint8Array {
    // sixteen locals rather than an array: V8 keeps them in registers
    const k = this.key;
    const k0 = k[0] ?? 0;
    const k1 = k[1] ?? 0;
    const k2 = k[2] ?? 0;
    const k3 = k[3] ?? 0;
    const k4 = k[4] ?? 0;
    const k5 = k[5] ?? 0;
    const k6 = k[6] ?? 0;
    const k7 = k[7] ?? 0;
    let x0 = SIGMA[0] | 0;
    let x1 = SIGMA[1] | 0;
    let x2 = SIGMA[2] | 0;
    let x3 = SIGMA[3] | 0;
    let x4 = k0 | 0;
    let x5 = k1 | 0;
    let x6 = k2 | 0;
    let x7 = k3 | 0;
    let x8 = k4 | 0;
    let x9 = k5 | 0;
    let x10 = k6 | 0;
    let x11 = k7 | 0;
    let x12 = w12 | 0;
    let x13 = w13 | 0;
    let x14 = w14 | 0;
    let x15 = w15 | 0;
    for (let i = 0; i < 10; i++) {
      // column rounds, then diagonal rounds (RFC 8439 §2.3, quarter round §2.1)
      x0 = (x0 + x4) | 0;
      x12 ^= x0;
      x12 = (x12 << 16) | (x12 >>> 16);
      x8 = (x8 + x12) | 0;
      x4 ^= x8;
      x4 = (x4 << 12) | (x4 >>> 20);
      x0 = (x0 + x4) | 0;
      x12 ^= x0;
      x12 = (x12 << 8) | (x12 >>> 24);
      x8 = (x8 + x12) | 0;
      x4 ^= x8;
      x4 = (x4 << 7) | (x4 >>> 25);
      x1 = (x1 + x5) | 0;
      x13 ^= x1;
      x13 = (x13 << 16) | (x13 >>> 16);
      x9 = (x9 + x13) | 0;
      x5 ^= x9;
      x5 = (x5 << 12) | (x5 >>> 20);
      x1 = (x1 + x5) | 0;
      x13 ^= x1;
      x13 = (x13 << 8) | (x13 >>> 24);
      x9 = (x9 + x13) | 0;
      x5 ^= x9;
      x5 = (x5 << 7) | (x5 >>> 25);
      x2 = (x2 + x6) | 0;
      x14 ^= x2;
      x14 = (x14 << 16) | (x14 >>> 16);
      x10 = (x10 + x14) | 0;
      x6 ^= x10;
      x6 = (x6 << 12) | (x6 >>> 20);
      x2 = (x2 + x6) | 0;
      x14 ^= x2;
      x14 = (x14 << 8) | (x14 >>> 24);
      x10 = (x10 + x14) | 0;
      x6 ^= x10;
      x6 = (x6 << 7) | (x6 >>> 25);
      x3 = (x3 + x7) | 0;
      x15 ^= x3;
      x15 = (x15 << 16) | (x15 >>> 16);
      x11 = (x11 + x15) | 0;
      x7 ^= x11;
      x7 = (x7 << 12) | (x7 >>> 20);
      x3 = (x3 + x7) | 0;
      x15 ^= x3;
      x15 = (x15 << 8) | (x15 >>> 24);
      x11 = (x11 + x15) | 0;
      x7 ^= x11;
      x7 = (x7 << 7) | (x7 >>> 25);
      x0 = (x0 + x5) | 0;
      x15 ^= x0;
      x15 = (x15 << 16) | (x15 >>> 16);
      x10 = (x10 + x15) | 0;
      x5 ^= x10;
      x5 = (x5 << 12) | (x5 >>> 20);
      x0 = (x0 + x5) | 0;
      x15 ^= x0;
      x15 = (x15 << 8) | (x15 >>> 24);
      x10 = (x10 + x15) | 0;
      x5 ^= x10;
      x5 = (x5 << 7) | (x5 >>> 25);
      x1 = (x1 + x6) | 0;
      x12 ^= x1;
      x12 = (x12 << 16) | (x12 >>> 16);
      x11 = (x11 + x12) | 0;
      x6 ^= x11;
      x6 = (x6 << 12) | (x6 >>> 20);
      x1 = (x1 + x6) | 0;
      x12 ^= x1;
      x12 = (x12 << 8) | (x12 >>> 24);
      x11 = (x11 + x12) | 0;
      x6 ^= x11;
      x6 = (x6 << 7) | (x6 >>> 25);
      x2 = (x2 + x7) | 0;
      x13 ^= x2;
      x13 = (x13 << 16) | (x13 >>> 16);
      x8 = (x8 + x13) | 0;
      x7 ^= x8;
      x7 = (x7 << 12) | (x7 >>> 20);
      x2 = (x2 + x7) | 0;
      x13 ^= x2;
      x13 = (x13 << 8) | (x13 >>> 24);
      x8 = (x8 + x13) | 0;
      x7 ^= x8;
      x7 = (x7 << 7) | (x7 >>> 25);
      x3 = (x3 + x4) | 0;
      x14 ^= x3;
      x14 = (x14 << 16) | (x14 >>> 16);
      x9 = (x9 + x14) | 0;
      x4 ^= x9;
      x4 = (x4 << 12) | (x4 >>> 20);
      x3 = (x3 + x4) | 0;
      x14 ^= x3;
      x14 = (x14 << 8) | (x14 >>> 24);
      x9 = (x9 + x14) | 0;
      x4 ^= x9;
      x4 = (x4 << 7) | (x4 >>> 25);
    }
    put(out, 0, x0 + SIGMA[0]);
    put(out, 4, x1 + SIGMA[1]);
    put(out, 8, x2 + SIGMA[2]);
    put(out, 12, x3 + SIGMA[3]);
    put(out, 16, x4 + k0);
    put(out, 20, x5 + k1);
    put(out, 24, x6 + k2);
    put(out, 28, x7 + k3);
    put(out, 32, x8 + k4);
    put(out, 36, x9 + k5);
    put(out, 40, x10 + k6);
    put(out, 44, x11 + k7);
    put(out, 48, x12 + w12);
    put(out, 52, x13 + w13);
    put(out, 56, x14 + w14);
    put(out, 60, x15 + w15);
    return out;
  }

  /** OpenSSH's block 0 for a sequence number: counter 0, nonce = seq as uint64 big-endian. */
  sshBlock0(seq: number, out: Uint8Array): Uint8Array {
    return this.block(0, 0, 0, sshNonceWord(seq), out);
  }

  /**
   * XOR with OpenSSH's key stream for `seq` from block `counter` on. Meant for short data (a few
   * blocks), where it is cheaper than setting up a node:crypto cipher.
   */
  sshXor(seq: number, counter: number, data: Uint8Array): Uint8Array {
    const out = new Uint8Array(data.length);
    const ks = this.ks;
    const w15 = sshNonceWord(seq);
    for (let off = 0, c = counter; off < data.length; off += 64, c++) {
      this.block(c, 0, 0, w15, ks);
      const n = Math.min(64, data.length - off);
      for (let i = 0; i < n; i++) out[off + i] = (data[off + i] ?? 0) ^ (ks[i] ?? 0);
    }
    return out;
  }
}

/** State word 15 for OpenSSH's nonce: bytes 4..7 of seq as uint64 big-endian, read little-endian. */
function sshNonceWord(seq: number): number {
  const s = seq >>> 0;
  return ((s >>> 24) | ((s >>> 8) & 0xff00) | ((s & 0xff00) << 8) | ((s & 0xff) << 24)) >>> 0;
}

/** Little-endian store of (a 32-bit sum) at out[o..o+4]. */
function put(out: Uint8Array, o: number, v: number): void {
  out[o] = v & 0xff;
  out[o + 1] = (v >>> 8) & 0xff;
  out[o + 2] = (v >>> 16) & 0xff;
  out[o + 3] = (v >>> 24) & 0xff;
}
