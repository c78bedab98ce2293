const utf8 = new TextEncoder();

/** Growable writer for SSH wire encodings (RFC 4251 §5). */
export class SshWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  bool(v: boolean): this {
    return this.byte(v ? 1 : 0);
  }

  uint32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
    return this;
  }

  uint64(v: bigint): this {
    this.ensure(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, v));
    this.pos += 8;
    return this;
  }

  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** An SSH `string` from bytes or from text (UTF-8). */
  string(v: Uint8Array | string): this {
    const b = typeof v === 'string' ? utf8.encode(v) : v;
    this.uint32(b.length);
    return this.raw(b);
  }

  nameList(names: readonly string[]): this {
    return this.string(names.join(','));
  }

  /** An SSH `mpint` from a bigint. */
  mpint(v: bigint): this {
    return this.string(encodeMpint(v));
  }

  /** An SSH `mpint` from unsigned big-endian magnitude bytes. */
  mpintFromBytes(magnitude: Uint8Array): this {
    let i = 0;
    while (i < magnitude.length && magnitude[i] === 0) i++;
    const m = magnitude.subarray(i);
    if (m.length > 0 && ((m[0] ?? 0) & 0x80) !== 0) {
      this.uint32(m.length + 1);
      this.byte(0);
      return this.raw(m);
    }
    return this.string(m);
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export function encodeMpint(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  const neg = v < 0n;
  let hex = (neg ? -v : v).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
  if (neg) {
    // two's complement over the minimal width that keeps the sign bit set
    let n = BigInt.asUintN(bytes.length * 8, v);
    if ((n & (1n << BigInt(bytes.length * 8 - 1))) === 0n) n = BigInt.asUintN((bytes.length + 1) * 8, v);
    let h = n.toString(16);
    if (h.length % 2) h = `0${h}`;
    bytes = Uint8Array.from(Buffer.from(h, 'hex'));
    return bytes;
  }
  if (((bytes[0] ?? 0) & 0x80) !== 0) {
    const out = new Uint8Array(bytes.length + 1);
    out.set(bytes, 1);
    return out;
  }
  return bytes;
}

/** Concatenate byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Constant-time equality of two byte arrays. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return d === 0;
}
