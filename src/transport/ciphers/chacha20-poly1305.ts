/**
 * chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305).
 *
 * 64 bytes of key material: the first 32 are K_2 (payload and Poly1305 key), the second 32 are
 * K_1 (packet length only). Both ChaCha20 instances use the sequence number as a 64-bit
 * big-endian nonce. The Poly1305 key is the first 32 bytes of K_2's block 0; the payload is
 * encrypted from block 1; the tag covers the encrypted length and the encrypted payload.
 *
 * node:crypto's 'chacha20' takes a 16-byte IV read as a little-endian block counter followed by
 * the nonce. Bytes 0..7 = counter (LE), bytes 8..15 = seq (BE 64-bit) is exactly the original
 * DJB layout OpenSSH uses. Packets are at most 256 KiB, far below the counter's 32-bit wrap.
 */
import { type KeyObject, createCipheriv, createSecretKey, timingSafeEqual } from 'node:crypto';
import type { DirectionKeys, PacketOpener, PacketSealer } from '../packet-protection.js';
import {
  OpenerOrderError,
  checkPacketLength,
  macError,
  paddingFor,
  payloadOf,
  readU32,
  writePlainPacket,
  writeU32,
  wrongPacketSize,
} from './packet-layout.js';
import { poly1305 } from './poly1305.js';

export const CHACHA_NAME = 'chacha20-poly1305@openssh.com';
const BLOCK = 8;
const TAG = 16;
const ZERO_BLOCK = new Uint8Array(64);

class ChachaKeys {
  readonly main: KeyObject;
  readonly header: KeyObject;
  private readonly iv = Buffer.alloc(16);

  constructor(keys: DirectionKeys) {
    if (keys.encKey.length < 64) throw new RangeError(`${CHACHA_NAME} needs 64 bytes of key material`);
    this.main = createSecretKey(keys.encKey.subarray(0, 32));
    this.header = createSecretKey(keys.encKey.subarray(32, 64));
  }

  /** The 16-byte IV for block counter 0 and nonce = seq (uint32 seq, high nonce word 0). */
  ivFor(seq: number): Buffer {
    // counter bytes 0..7 stay 0; nonce bytes 8..11 stay 0
    writeU32(this.iv, 12, seq >>> 0);
    return this.iv;
  }

  /** ChaCha20(K_1) over the 4 length bytes. */
  cryptLength(seq: number, len4: Uint8Array): Buffer {
    return createCipheriv('chacha20', this.header, this.ivFor(seq)).update(len4);
  }

  /** A K_2 stream positioned at block 1, and the Poly1305 key taken from block 0. */
  mainStream(seq: number): { stream: ReturnType<typeof createCipheriv>; polyKey: Uint8Array } {
    const stream = createCipheriv('chacha20', this.main, this.ivFor(seq));
    const polyKey = stream.update(ZERO_BLOCK).subarray(0, 32);
    return { stream, polyKey };
  }
}

export class ChachaPolySealer implements PacketSealer {
  readonly cipherName = CHACHA_NAME;
  readonly macName = null;
  private readonly k: ChachaKeys;

  constructor(keys: DirectionKeys) {
    this.k = new ChachaKeys(keys);
  }

  seal(seq: number, payload: Uint8Array): Uint8Array {
    const pad = paddingFor(payload.length, BLOCK, false);
    const len = 1 + payload.length + pad;
    const out = Buffer.allocUnsafe(4 + len + TAG);
    writePlainPacket(out, 0, payload, pad);
    const { stream, polyKey } = this.k.mainStream(seq);
    out.set(stream.update(out.subarray(4, 4 + len)), 4);
    out.set(this.k.cryptLength(seq, out.subarray(0, 4)), 0);
    out.set(poly1305(polyKey, out.subarray(0, 4 + len)), 4 + len);
    return out;
  }
}

export class ChachaPolyOpener implements PacketOpener {
  readonly cipherName = CHACHA_NAME;
  readonly macName = null;
  readonly headerLength = 4;
  readonly trailerLength = TAG;
  private readonly k: ChachaKeys;
  private pending = -1;

  constructor(keys: DirectionKeys) {
    this.k = new ChachaKeys(keys);
  }

  packetLength(seq: number, header: Uint8Array): number {
    if (header.length < 4) throw new OpenerOrderError('header shorter than headerLength');
    const plain = this.k.cryptLength(seq, header.subarray(0, 4));
    this.pending = checkPacketLength(readU32(plain, 0), BLOCK, false);
    return this.pending;
  }

  open(seq: number, packet: Uint8Array): Uint8Array {
    const len = this.pending;
    if (len < 0) throw new OpenerOrderError('open() before packetLength()');
    this.pending = -1;
    if (packet.length !== 4 + len + TAG) throw wrongPacketSize();
    const { stream, polyKey } = this.k.mainStream(seq);
    // Authenticate before decrypting anything (PROTOCOL.chacha20poly1305: "checked in constant time")
    const tag = poly1305(polyKey, packet.subarray(0, 4 + len));
    if (!timingSafeEqual(tag, packet.subarray(4 + len))) throw macError('chacha20-poly1305 tag mismatch');
    return payloadOf(stream.update(packet.subarray(4, 4 + len)));
  }
}
