/** A minimal, bounded DER reader (X.690 §8, §10) for the private key structures we accept. */
import { KeyFormatError } from './errors.js';

export class DerReader {
  private pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  peekTag(): number {
    if (this.pos >= this.end) throw new KeyFormatError('DER: truncated');
    return this.buf[this.pos] ?? 0;
  }

  /** Reads one TLV with the given tag and returns its contents (a view). */
  element(tag: number): Uint8Array {
    const t = this.peekTag();
    if (t !== tag) throw new KeyFormatError(`DER: expected tag 0x${tag.toString(16)}, found 0x${t.toString(16)}`);
    this.pos++;
    if (this.pos >= this.end) throw new KeyFormatError('DER: truncated length');
    let len = this.buf[this.pos++] ?? 0;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 3) throw new KeyFormatError('DER: unsupported length encoding');
      len = 0;
      for (let i = 0; i < n; i++) {
        if (this.pos >= this.end) throw new KeyFormatError('DER: truncated length');
        len = len * 256 + (this.buf[this.pos++] ?? 0);
      }
      if (len < 0x80) throw new KeyFormatError('DER: non-minimal length');
    }
    if (len > this.end - this.pos) throw new KeyFormatError('DER: element runs past its container');
    const v = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }

  sequence(): DerReader {
    const v = this.element(0x30);
    return new DerReader(v);
  }

  /** A non-negative INTEGER as its magnitude (leading zero stripped). */
  unsignedInteger(): Uint8Array {
    const v = this.element(0x02);
    if (v.length === 0) throw new KeyFormatError('DER: empty INTEGER');
    if (((v[0] ?? 0) & 0x80) !== 0) throw new KeyFormatError('DER: negative INTEGER');
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    return v.subarray(i);
  }

  smallInteger(): number {
    const v = this.unsignedInteger();
    if (v.length > 4) throw new KeyFormatError('DER: INTEGER too large');
    let n = 0;
    for (const b of v) n = n * 256 + b;
    return n;
  }

  octetString(): Uint8Array {
    return this.element(0x04);
  }

  /** An OBJECT IDENTIFIER's encoded bytes as hex (compare with the constants below). */
  oid(): string {
    return toHex(this.element(0x06));
  }

  /** BIT STRING contents without the unused-bits byte (which must be 0). */
  bitString(): Uint8Array {
    const v = this.element(0x03);
    if (v.length === 0 || v[0] !== 0) throw new KeyFormatError('DER: BIT STRING with unused bits');
    return v.subarray(1);
  }

  /** An optional [n] EXPLICIT element: its contents, or null when the next element is something else. */
  optionalContext(n: number): DerReader | null {
    if (this.done || this.peekTag() !== (0xa0 | n)) return null;
    return new DerReader(this.element(0xa0 | n));
  }

  skip(): void {
    this.element(this.peekTag());
  }
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Object identifiers, DER-encoded, as hex. */
export const OID = {
  rsaEncryption: '2a864886f70d010101',
  ecPublicKey: '2a8648ce3d0201',
  prime256v1: '2a8648ce3d030107',
  secp384r1: '2b81040022',
  secp521r1: '2b81040023',
  ed25519: '2b6570',
  pbes2: '2a864886f70d01050d',
  pbkdf2: '2a864886f70d01050c',
  hmacWithSHA1: '2a864886f70d0207',
  hmacWithSHA256: '2a864886f70d0209',
  hmacWithSHA512: '2a864886f70d020b',
  aes128cbc: '608648016503040102',
  aes192cbc: '608648016503040116',
  aes256cbc: '60864801650304012a',
} as const;
