/**
 * aes128-gcm@openssh.com / aes256-gcm@openssh.com: RFC 5647 as OpenSSH does it (PROTOCOL §1.7).
 * The 12-byte IV from the key derivation is a 4-byte fixed field and an 8-byte big-endian
 * invocation counter, incremented after every packet (RFC 5647 §7.1). packet_length stays in
 * clear and is the AAD; the 16-byte tag follows the packet. Padding aligns to 16 bytes,
 * excluding the length field.
 */
import type { AesGcmKey, SymmetricBackend } from '../../crypto/symmetric.js';
import type { DirectionKeys, PacketOpener } from '../packet-protection.js';
import type { BatchSealer } from './batch-sealer.js';
import {
  checkPacketLength,
  macError,
  OpenerOrderError,
  paddingFor,
  payloadOf,
  plainPacketInScratch,
  readU32,
  writePlainPacket,
  wrongPacketSize,
} from './packet-layout.js';
import type { CipherSpec } from './registry.js';

const BLOCK = 16;
const TAG = 16;

class GcmState {
  readonly key: AesGcmKey;
  readonly iv: Uint8Array;

  constructor(spec: CipherSpec, keys: DirectionKeys, backend: SymmetricBackend) {
    if (keys.encKey.length < spec.keyLength || keys.iv.length < 12) {
      throw new RangeError(`${spec.name} needs a ${spec.keyLength}-byte key and a 12-byte IV`);
    }
    this.key = backend.aesGcm(keys.encKey.subarray(0, spec.keyLength));
    this.iv = Uint8Array.from(keys.iv.subarray(0, 12));
  }

  /** RFC 5647 §7.1: invocation_counter += 1 (mod 2^64), the fixed field unchanged. */
  nextIv(): void {
    for (let i = 11; i >= 4; i--) {
      const v = ((this.iv[i] ?? 0) + 1) & 0xff;
      this.iv[i] = v;
      if (v !== 0) break;
    }
  }
}

export class AesGcmSealer implements BatchSealer {
  readonly cipherName: string;
  readonly macName = null;
  private readonly s: GcmState;

  constructor(spec: CipherSpec, keys: DirectionKeys, backend: SymmetricBackend) {
    this.cipherName = spec.name;
    this.s = new GcmState(spec, keys, backend);
  }

  sealedLength(payloadLength: number): number {
    return 5 + payloadLength + paddingFor(payloadLength, BLOCK, false) + TAG;
  }

  seal(seq: number, payload: Uint8Array, body?: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafe(this.sealedLength(payload.length + (body?.length ?? 0)));
    this.sealInto(seq, payload, out, 0, body);
    return out;
  }

  sealInto(_seq: number, payload: Uint8Array, out: Uint8Array, offset: number, body?: Uint8Array): number {
    const n = payload.length + (body?.length ?? 0);
    const pad = paddingFor(n, BLOCK, false);
    const len = 1 + n + pad;
    writePlainPacket(out, offset, payload, pad, body);
    const aad = out.subarray(offset, offset + 4);
    this.s.key.sealInto(this.s.iv, aad, out.subarray(offset + 4, offset + 4 + len), out, offset + 4);
    this.s.nextIv();
    return 4 + len + TAG;
  }

  sealParts(_seq: number, payload: Uint8Array, parts: Uint8Array[], body?: Uint8Array): number {
    const plain = plainPacketInScratch(payload, BLOCK, body);
    // packet_length goes out in clear and is the AAD; it gets its own small buffer (Node's
    // pooled allocation) because the scratch is overwritten by the next packet.
    const head = Buffer.allocUnsafe(4);
    head.set(plain.subarray(0, 4));
    const sealed = this.s.key.seal(this.s.iv, head, plain.subarray(4));
    this.s.nextIv();
    parts.push(head, sealed.ciphertext, sealed.tag);
    return plain.length + TAG;
  }
}

export class AesGcmOpener implements PacketOpener {
  readonly cipherName: string;
  readonly macName = null;
  readonly headerLength = 4;
  readonly trailerLength = TAG;
  private readonly s: GcmState;
  private pending = -1;

  constructor(spec: CipherSpec, keys: DirectionKeys, backend: SymmetricBackend) {
    this.cipherName = spec.name;
    this.s = new GcmState(spec, keys, backend);
  }

  packetLength(_seq: number, header: Uint8Array): number {
    if (header.length < 4) throw new OpenerOrderError('header shorter than headerLength');
    this.pending = checkPacketLength(readU32(header, 0), BLOCK, false);
    return this.pending;
  }

  open(_seq: number, packet: Uint8Array): Uint8Array {
    const len = this.pending;
    if (len < 0) throw new OpenerOrderError('open() before packetLength()');
    this.pending = -1;
    if (packet.length !== 4 + len + TAG) throw wrongPacketSize();
    const body = this.s.key.open(this.s.iv, packet.subarray(0, 4), packet.subarray(4));
    if (body === null) throw macError(`${this.cipherName} tag mismatch`);
    this.s.nextIv();
    return payloadOf(body);
  }
}
