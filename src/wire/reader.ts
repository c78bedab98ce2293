import { WireError } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bounds-checked reader over SSH wire encodings (RFC 4251 §5). Every read past the end, and
 * every malformed field, throws WireError; nothing returns undefined.
 */
export class SshReader {
  private pos: number;
  private readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    offset = 0,
    private readonly end = buf.length,
  ) {
    if (offset < 0 || offset > end || end > buf.length) throw new WireError('reader bounds out of range');
    this.pos = offset;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get done(): boolean {
    return this.pos === this.end;
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos) throw new WireError(`truncated ${what}: need ${n} bytes, have ${this.end - this.pos}`);
  }

  byte(): number {
    this.need(1, 'byte');
    const v = this.view.getUint8(this.pos);
    this.pos += 1;
    return v;
  }

  bool(): boolean {
    return this.byte() !== 0;
  }

  uint32(): number {
    this.need(4, 'uint32');
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  uint64(): bigint {
    this.need(8, 'uint64');
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  /** Raw bytes (a view, not a copy). */
  raw(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0) throw new WireError(`invalid length ${n}`);
    this.need(n, 'bytes');
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** An SSH `string` as bytes (a view, not a copy). `max` bounds the declared length. */
  bytes(max = this.end - this.pos): Uint8Array {
    const n = this.uint32();
    if (n > max) throw new WireError(`string of ${n} bytes exceeds limit ${max}`);
    return this.raw(n);
  }

  /** An SSH `string` decoded as strict UTF-8. */
  string(max?: number): string {
    const b = this.bytes(max);
    try {
      return utf8.decode(b);
    } catch {
      throw new WireError('string is not valid UTF-8');
    }
  }

  /** An SSH `string` holding only printable US-ASCII (algorithm names and the like). */
  ascii(max?: number): string {
    const b = this.bytes(max);
    let s = '';
    for (const c of b) {
      if (c < 0x20 || c > 0x7e) throw new WireError('name contains a non-printable byte');
      s += String.fromCharCode(c);
    }
    return s;
  }

  /** An SSH `name-list` (RFC 4251 §5): comma-separated ASCII names, no empty names. */
  nameList(max = 64 * 1024): string[] {
    const s = this.ascii(max);
    if (s === '') return [];
    const names = s.split(',');
    for (const n of names) {
      if (n === '' || n.length > 64) throw new WireError('malformed name-list');
    }
    return names;
  }

  /** An SSH `mpint` as a bigint (two's complement, big-endian). */
  mpint(maxBytes = 16 * 1024 + 1): bigint {
    const b = this.bytes(maxBytes);
    if (b.length === 0) return 0n;
    const first = b[0] ?? 0;
    if (b.length > 1 && ((first === 0 && ((b[1] ?? 0) & 0x80) === 0) || (first === 0xff && ((b[1] ?? 0) & 0x80) !== 0))) {
      throw new WireError('mpint has unnecessary leading bytes');
    }
    let v = 0n;
    for (const x of b) v = (v << 8n) | BigInt(x);
    if (first & 0x80) v -= 1n << BigInt(b.length * 8);
    return v;
  }

  /** The magnitude bytes of a non-negative mpint, with any leading zero stripped. */
  mpintBytes(maxBytes = 16 * 1024 + 1): Uint8Array {
    const b = this.bytes(maxBytes);
    if (b.length > 0 && ((b[0] ?? 0) & 0x80) !== 0) throw new WireError('negative mpint where positive expected');
    let i = 0;
    while (i < b.length && b[i] === 0) i++;
    return b.subarray(i);
  }

  rest(): Uint8Array {
    return this.raw(this.end - this.pos);
  }

  /** Throws unless the whole input was consumed. */
  expectEnd(what = 'message'): void {
    if (this.pos !== this.end) throw new WireError(`${this.end - this.pos} trailing bytes after ${what}`);
  }
}
