/**
 * AES-CTR (RFC 4344 §4) with HMAC, in both MAC orders:
 *  - encrypt-and-MAC (RFC 4253 §6.4): the MAC covers seq || the whole plaintext packet; the
 *    length is encrypted, so the first block is decrypted to learn it.
 *  - encrypt-then-MAC (OpenSSH PROTOCOL §1.6, "-etm@openssh.com"): the length stays in clear,
 *    the MAC covers seq || length || ciphertext and is checked before anything is decrypted.
 *
 * CTR is one continuous key stream for the whole key lifetime, so each direction holds a single
 * cipher context. To read an encrypted length without consuming the stream, the opener encrypts
 * the current counter block with a separate AES-ECB context and XORs it with the first block;
 * open() then decrypts the whole packet in one call, giving one contiguous plaintext buffer.
 */
import { type Cipher, type KeyObject, createCipheriv, createSecretKey } from 'node:crypto';
import type { DirectionKeys, PacketOpener, PacketSealer } from '../packet-protection.js';
import { PacketMac } from './hmac-mac.js';
import {
  OpenerOrderError,
  checkPacketLength,
  macError,
  paddingFor,
  payloadOf,
  readU32,
  writePlainPacket,
  wrongPacketSize,
} from './packet-layout.js';
import type { CipherSpec, MacSpec } from './registry.js';

const BLOCK = 16;

type CtrAlgorithm = 'aes-128-ctr' | 'aes-192-ctr' | 'aes-256-ctr';
type EcbAlgorithm = 'aes-128-ecb' | 'aes-192-ecb' | 'aes-256-ecb';

function algorithms(spec: CipherSpec): { ctr: CtrAlgorithm; ecb: EcbAlgorithm } {
  switch (spec.keyLength) {
    case 16:
      return { ctr: 'aes-128-ctr', ecb: 'aes-128-ecb' };
    case 24:
      return { ctr: 'aes-192-ctr', ecb: 'aes-192-ecb' };
    case 32:
      return { ctr: 'aes-256-ctr', ecb: 'aes-256-ecb' };
    default:
      throw new RangeError(`no AES-CTR with a ${spec.keyLength}-byte key`);
  }
}

function streamFor(spec: CipherSpec, keys: DirectionKeys): { stream: Cipher; key: KeyObject } {
  if (keys.encKey.length < spec.keyLength || keys.iv.length < BLOCK) {
    throw new RangeError(`${spec.name} needs a ${spec.keyLength}-byte key and a 16-byte IV`);
  }
  const key = createSecretKey(keys.encKey.subarray(0, spec.keyLength));
  return { stream: createCipheriv(algorithms(spec).ctr, key, keys.iv.subarray(0, BLOCK)), key };
}

export class AesCtrSealer implements PacketSealer {
  readonly cipherName: string;
  readonly macName: string;
  private readonly stream: Cipher;
  private readonly mac: PacketMac;

  constructor(spec: CipherSpec, macSpec: MacSpec, keys: DirectionKeys) {
    this.cipherName = spec.name;
    this.macName = macSpec.name;
    this.stream = streamFor(spec, keys).stream;
    this.mac = new PacketMac(macSpec, keys.macKey);
  }

  seal(seq: number, payload: Uint8Array): Uint8Array {
    const etm = this.mac.spec.etm;
    const pad = paddingFor(payload.length, BLOCK, !etm);
    const len = 1 + payload.length + pad;
    const out = Buffer.allocUnsafe(4 + len + this.mac.length);
    writePlainPacket(out, 0, payload, pad);
    if (etm) {
      out.set(this.stream.update(out.subarray(4, 4 + len)), 4);
      this.mac.computeInto(seq, out.subarray(0, 4 + len), out, 4 + len);
    } else {
      this.mac.computeInto(seq, out.subarray(0, 4 + len), out, 4 + len);
      out.set(this.stream.update(out.subarray(0, 4 + len)), 0);
    }
    return out;
  }
}

export class AesCtrOpener implements PacketOpener {
  readonly cipherName: string;
  readonly macName: string;
  readonly headerLength: number;
  readonly trailerLength: number;
  private readonly stream: Cipher;
  private readonly mac: PacketMac;
  private readonly etm: boolean;
  /** AES-ECB under the same key: turns the current counter block into key stream. */
  private readonly ecb: Cipher | null;
  /** The CTR counter block the stream is at (big-endian 128-bit, RFC 4344 §4). */
  private readonly counter: Buffer;
  private pending = -1;

  constructor(spec: CipherSpec, macSpec: MacSpec, keys: DirectionKeys) {
    this.cipherName = spec.name;
    this.macName = macSpec.name;
    const { stream, key } = streamFor(spec, keys);
    this.stream = stream;
    this.mac = new PacketMac(macSpec, keys.macKey);
    this.etm = macSpec.etm;
    this.headerLength = this.etm ? 4 : BLOCK;
    this.trailerLength = macSpec.macLength;
    this.counter = Buffer.from(keys.iv.subarray(0, BLOCK));
    if (this.etm) this.ecb = null;
    else {
      this.ecb = createCipheriv(algorithms(spec).ecb, key, null);
      this.ecb.setAutoPadding(false);
    }
  }

  packetLength(_seq: number, header: Uint8Array): number {
    if (header.length < this.headerLength) throw new OpenerOrderError('header shorter than headerLength');
    if (this.ecb === null) {
      this.pending = checkPacketLength(readU32(header, 0), BLOCK, false);
    } else {
      const ks = this.ecb.update(this.counter);
      const len = (readU32(header, 0) ^ readU32(ks, 0)) >>> 0;
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
    if (this.etm) {
      if (!this.mac.verify(seq, tag, packet.subarray(0, 4 + len))) throw macError(`${this.macName} mismatch`);
      return payloadOf(this.stream.update(packet.subarray(4, 4 + len)));
    }
    const plain = this.stream.update(packet.subarray(0, 4 + len));
    this.advanceCounter((4 + len) / BLOCK);
    if (!this.mac.verify(seq, tag, plain)) throw macError(`${this.macName} mismatch`);
    return payloadOf(plain.subarray(4));
  }

  private advanceCounter(blocks: number): void {
    let carry = blocks;
    for (let i = BLOCK - 1; i >= 0 && carry > 0; i--) {
      const v = (this.counter[i] ?? 0) + (carry & 0xff);
      this.counter[i] = v & 0xff;
      carry = Math.floor(carry / 256) + (v >> 8);
    }
  }
}
