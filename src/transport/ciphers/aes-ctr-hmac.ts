/**
 * AES-CTR (RFC 4344 §4) with HMAC, in both MAC orders:
 *  - encrypt-and-MAC (RFC 4253 §6.4): the MAC covers seq || the whole plaintext packet; the
 *    length is encrypted, so the first block is decrypted to learn it.
 *  - encrypt-then-MAC (OpenSSH PROTOCOL §1.6, "-etm@openssh.com"): the length stays in clear,
 *    the MAC covers seq || length || ciphertext and is checked before anything is decrypted.
 *
 * CTR is one continuous key stream for the whole key lifetime, so each direction holds a single
 * stream. To read an encrypted length without consuming the stream, the opener XORs the first
 * block with the peeked next key-stream block; open() then decrypts the whole packet in one call,
 * giving one contiguous plaintext buffer.
 */
import type { AesCtrStream, HmacKey, SymmetricBackend } from '../../crypto/symmetric.js';
import type { DirectionKeys, PacketOpener } from '../packet-protection.js';
import type { BatchSealer } from './batch-sealer.js';
import {
  OpenerOrderError,
  checkPacketLength,
  constantTimeEqual,
  macError,
  paddingFor,
  payloadOf,
  readU32,
  seqBytes,
  writePlainPacket,
  wrongPacketSize,
} from './packet-layout.js';
import type { CipherSpec, MacSpec } from './registry.js';

const BLOCK = 16;

function streamFor(spec: CipherSpec, keys: DirectionKeys, backend: SymmetricBackend): AesCtrStream {
  if (keys.encKey.length < spec.keyLength || keys.iv.length < BLOCK) {
    throw new RangeError(`${spec.name} needs a ${spec.keyLength}-byte key and a 16-byte IV`);
  }
  return backend.aesCtr(keys.encKey.subarray(0, spec.keyLength), keys.iv.subarray(0, BLOCK));
}

function macFor(spec: MacSpec, keys: DirectionKeys, backend: SymmetricBackend): HmacKey {
  if (keys.macKey.length < spec.keyLength) throw new RangeError(`${spec.name} needs a ${spec.keyLength}-byte key`);
  return backend.hmac(spec.hash, keys.macKey.subarray(0, spec.keyLength));
}

export class AesCtrSealer implements BatchSealer {
  readonly cipherName: string;
  readonly macName: string;
  private readonly stream: AesCtrStream;
  private readonly mac: HmacKey;
  private readonly macLength: number;
  private readonly etm: boolean;
  private readonly seq = new Uint8Array(4);

  constructor(spec: CipherSpec, macSpec: MacSpec, keys: DirectionKeys, backend: SymmetricBackend) {
    this.cipherName = spec.name;
    this.macName = macSpec.name;
    this.stream = streamFor(spec, keys, backend);
    this.mac = macFor(macSpec, keys, backend);
    this.macLength = macSpec.macLength;
    this.etm = macSpec.etm;
  }

  sealedLength(payloadLength: number): number {
    return 5 + payloadLength + paddingFor(payloadLength, BLOCK, !this.etm) + this.macLength;
  }

  seal(seq: number, payload: Uint8Array, body?: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafe(this.sealedLength(payload.length + (body?.length ?? 0)));
    this.sealInto(seq, payload, out, 0, body);
    return out;
  }

  sealInto(seq: number, payload: Uint8Array, out: Uint8Array, offset: number, body?: Uint8Array): number {
    const n = payload.length + (body?.length ?? 0);
    const pad = paddingFor(n, BLOCK, !this.etm);
    const len = 1 + n + pad;
    const o = offset;
    writePlainPacket(out, o, payload, pad, body);
    const s = seqBytes(seq, this.seq);
    if (this.etm) {
      out.set(this.stream.update(out.subarray(o + 4, o + 4 + len)), o + 4);
      out.set(this.mac.mac(s, out.subarray(o, o + 4 + len)), o + 4 + len);
    } else {
      out.set(this.mac.mac(s, out.subarray(o, o + 4 + len)), o + 4 + len);
      out.set(this.stream.update(out.subarray(o, o + 4 + len)), o);
    }
    return 4 + len + this.macLength;
  }
}

export class AesCtrOpener implements PacketOpener {
  readonly cipherName: string;
  readonly macName: string;
  readonly headerLength: number;
  readonly trailerLength: number;
  private readonly stream: AesCtrStream;
  private readonly mac: HmacKey;
  private readonly etm: boolean;
  private readonly seq = new Uint8Array(4);
  private pending = -1;

  constructor(spec: CipherSpec, macSpec: MacSpec, keys: DirectionKeys, backend: SymmetricBackend) {
    this.cipherName = spec.name;
    this.macName = macSpec.name;
    this.stream = streamFor(spec, keys, backend);
    this.mac = macFor(macSpec, keys, backend);
    this.etm = macSpec.etm;
    this.headerLength = this.etm ? 4 : BLOCK;
    this.trailerLength = macSpec.macLength;
  }

  packetLength(_seq: number, header: Uint8Array): number {
    if (header.length < this.headerLength) throw new OpenerOrderError('header shorter than headerLength');
    if (this.etm) {
      this.pending = checkPacketLength(readU32(header, 0), BLOCK, false);
    } else {
      const len = (readU32(header, 0) ^ readU32(this.stream.peekBlock(), 0)) >>> 0;
      this.pending = checkPacketLength(len, BLOCK, true);
    }
    return this.pending;
  }

  open(seq: number, packet: Uint8Array): Uint8Array {
    const len = this.pending;
    if (len < 0) throw new OpenerOrderError('open() before packetLength()');
    this.pending = -1;
    if (packet.length !== 4 + len + this.trailerLength) throw wrongPacketSize();
    const tag = packet.subarray(4 + len);
    const s = seqBytes(seq, this.seq);
    if (this.etm) {
      if (!constantTimeEqual(this.mac.mac(s, packet.subarray(0, 4 + len)), tag)) throw macError(`${this.macName} mismatch`);
      return payloadOf(this.stream.update(packet.subarray(4, 4 + len)));
    }
    const plain = this.stream.update(packet.subarray(0, 4 + len));
    if (!constantTimeEqual(this.mac.mac(s, plain), tag)) throw macError(`${this.macName} mismatch`);
    return payloadOf(plain.subarray(4));
  }
}
