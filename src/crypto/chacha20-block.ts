/**
 * One ChaCha20 block (RFC 8439 §2.3) in plain TypeScript, for the per-packet pieces of
 * chacha20-poly1305@openssh.com that are a single block: the 4-byte length (K_1, block 0) and
 * the Poly1305 key (K_2, block 0). Computing them here costs well under a microsecond, where a
 * node:crypto cipher context costs several per packet; the payload itself still goes through
 * node:crypto's assembly implementation.
 */

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574] as const;

function rotl(v: number, n: number): number {
  return (v << n) | (v >>> (32 - n));
}

export class ChaChaBlockKey {
  private readonly key = new Uint32Array(8);
  private readonly x = new Uint32Array(16);
  private readonly s = new Uint32Array(16);

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
    const s = this.s;
    s[0] = SIGMA[0];
    s[1] = SIGMA[1];
    s[2] = SIGMA[2];
    s[3] = SIGMA[3];
    s.set(this.key, 4);
    s[12] = w12;
    s[13] = w13;
    s[14] = w14;
    s[15] = w15;
    const x = this.x;
    x.set(s);
    for (let i = 0; i < 10; i++) {
      // column rounds then diagonal rounds (RFC 8439 §2.3)
      quarter(x, 0, 4, 8, 12);
      quarter(x, 1, 5, 9, 13);
      quarter(x, 2, 6, 10, 14);
      quarter(x, 3, 7, 11, 15);
      quarter(x, 0, 5, 10, 15);
      quarter(x, 1, 6, 11, 12);
      quarter(x, 2, 7, 8, 13);
      quarter(x, 3, 4, 9, 14);
    }
    for (let i = 0; i < 16; i++) {
      const w = ((x[i] ?? 0) + (s[i] ?? 0)) >>> 0;
      out[i * 4] = w & 0xff;
      out[i * 4 + 1] = (w >>> 8) & 0xff;
      out[i * 4 + 2] = (w >>> 16) & 0xff;
      out[i * 4 + 3] = w >>> 24;
    }
    return out;
  }

  /** OpenSSH's block 0 for a sequence number: counter 0, nonce = seq as uint64 big-endian. */
  sshBlock0(seq: number, out: Uint8Array): Uint8Array {
    // nonce bytes 0..3 are zero; bytes 4..7 = seq big-endian, read as a little-endian word
    const s = seq >>> 0;
    const w15 = ((s >>> 24) | ((s >>> 8) & 0xff00) | ((s & 0xff00) << 8) | ((s & 0xff) << 24)) >>> 0;
    return this.block(0, 0, 0, w15, out);
  }
}

function quarter(x: Uint32Array, a: number, b: number, c: number, d: number): void {
  let va = x[a] ?? 0;
  let vb = x[b] ?? 0;
  let vc = x[c] ?? 0;
  let vd = x[d] ?? 0;
  va = (va + vb) | 0;
  vd = rotl(vd ^ va, 16);
  vc = (vc + vd) | 0;
  vb = rotl(vb ^ vc, 12);
  va = (va + vb) | 0;
  vd = rotl(vd ^ va, 8);
  vc = (vc + vd) | 0;
  vb = rotl(vb ^ vc, 7);
  x[a] = va;
  x[b] = vb;
  x[c] = vc;
  x[d] = vd;
}
