/**
 * HMAC for the packet MAC (RFC 4253 §6.4: mac = MAC(key, sequence_number || unencrypted_packet);
 * EtM, OpenSSH PROTOCOL §1.6: the same over the length and the ciphertext).
 * createHmac per packet measured as fast as cloning precomputed ipad/opad states with
 * Hash.copy() on Node 20, so the simple form stays.
 */
import { type KeyObject, createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import type { MacSpec } from './registry.js';
import { seqBytes } from './packet-layout.js';

export class PacketMac {
  readonly length: number;
  private readonly key: KeyObject;
  private readonly seq = new Uint8Array(4);

  constructor(
    readonly spec: MacSpec,
    key: Uint8Array,
  ) {
    if (key.length < spec.keyLength) throw new RangeError(`${spec.name} needs a ${spec.keyLength}-byte key`);
    this.key = createSecretKey(key.subarray(0, spec.keyLength));
    this.length = spec.macLength;
  }

  /** MAC over seq || data, written into out at offset. */
  computeInto(seq: number, data: Uint8Array, out: Uint8Array, offset: number): void {
    const tag = createHmac(this.spec.hash, this.key).update(seqBytes(seq, this.seq)).update(data).digest();
    out.set(tag, offset);
  }

  /** MAC over seq || parts…, compared in constant time with `expected`. */
  verify(seq: number, expected: Uint8Array, ...parts: Uint8Array[]): boolean {
    const h = createHmac(this.spec.hash, this.key).update(seqBytes(seq, this.seq));
    for (const p of parts) h.update(p);
    const tag = h.digest();
    return expected.length === tag.length && timingSafeEqual(tag, expected);
  }
}
