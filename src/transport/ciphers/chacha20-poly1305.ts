/**
 * chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305).
 *
 * 64 bytes of key material: the first 32 are K_2 (payload and Poly1305 key), the second 32 are
 * K_1 (packet length only). Both ChaCha20 instances use the sequence number as a 64-bit
 * big-endian nonce. The Poly1305 key is the first 32 bytes of K_2's block 0; the payload is
 * encrypted from block 1; the tag covers the encrypted length and the encrypted payload.
 *
 * The ChaCha20 and Poly1305 primitives come from a SymmetricBackend (crypto/symmetric.ts).
 */
import type { ChaChaKey, SymmetricBackend } from '../../crypto/symmetric.js';
import type { DirectionKeys, PacketOpener } from '../packet-protection.js';
import type { BatchSealer } from './batch-sealer.js';
import {
  checkPacketLength,
  constantTimeEqual,
  macError,
  OpenerOrderError,
  paddingFor,
  payloadOf,
  plainPacketInScratch,
  readU32,
  writePlainPacket,
  wrongPacketSize,
} from './packet-layout.js';

export const CHACHA_NAME = 'chacha20-poly1305@openssh.com';
const BLOCK = 8;
const TAG = 16;

class ChachaKeys {
  /** K_2: payload and Poly1305 key. */
  readonly main: ChaChaKey;
  /** K_1: the packet length only. */
  readonly header: ChaChaKey;

  constructor(
    keys: DirectionKeys,
    readonly backend: SymmetricBackend,
  ) {
    if (keys.encKey.length < 64) throw new RangeError(`${CHACHA_NAME} needs 64 bytes of key material`);
    this.main = backend.chacha20(keys.encKey.subarray(0, 32));
    this.header = backend.chacha20(keys.encKey.subarray(32, 64));
  }
}

export class ChachaPolySealer implements BatchSealer {
  readonly cipherName = CHACHA_NAME;
  readonly macName = null;
  private readonly k: ChachaKeys;

  constructor(keys: DirectionKeys, backend: SymmetricBackend) {
    this.k = new ChachaKeys(keys, backend);
  }

  sealedLength(payloadLength: number): number {
    return 5 + payloadLength + paddingFor(payloadLength, BLOCK, false) + TAG;
  }

  seal(seq: number, payload: Uint8Array, body?: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafe(this.sealedLength(payload.length + (body?.length ?? 0)));
    this.sealInto(seq, payload, out, 0, body);
    return out;
  }

  sealInto(seq: number, payload: Uint8Array, out: Uint8Array, offset: number, body?: Uint8Array): number {
    const n = payload.length + (body?.length ?? 0);
    const pad = paddingFor(n, BLOCK, false);
    const len = 1 + n + pad;
    writePlainPacket(out, offset, payload, pad, body);
    const stream = this.k.main.packetStream(seq);
    out.set(stream.xor(out.subarray(offset + 4, offset + 4 + len)), offset + 4);
    out.set(this.k.header.lengthXor(seq, out.subarray(offset, offset + 4)), offset);
    out.set(this.k.backend.poly1305(stream.polyKey, out.subarray(offset, offset + 4 + len)), offset + 4 + len);
    return 4 + len + TAG;
  }

  sealParts(seq: number, payload: Uint8Array, parts: Uint8Array[], body?: Uint8Array): number {
    const plain = plainPacketInScratch(payload, BLOCK, body);
    // both XORs return fresh arrays (never views of the scratch, which the next packet reuses)
    const stream = this.k.main.packetStream(seq);
    const ciphertext = stream.xor(plain.subarray(4));
    const head = this.k.header.lengthXor(seq, plain.subarray(0, 4));
    parts.push(head, ciphertext, this.k.backend.poly1305(stream.polyKey, head, ciphertext));
    return plain.length + TAG;
  }
}

export class ChachaPolyOpener implements PacketOpener {
  readonly cipherName = CHACHA_NAME;
  readonly macName = null;
  readonly headerLength = 4;
  readonly trailerLength = TAG;
  private readonly k: ChachaKeys;
  private pending = -1;

  constructor(keys: DirectionKeys, backend: SymmetricBackend) {
    this.k = new ChachaKeys(keys, backend);
  }

  packetLength(seq: number, header: Uint8Array): number {
    if (header.length < 4) throw new OpenerOrderError('header shorter than headerLength');
    const plain = this.k.header.lengthXor(seq, header.subarray(0, 4));
    this.pending = checkPacketLength(readU32(plain, 0), BLOCK, false);
    return this.pending;
  }

  open(seq: number, packet: Uint8Array): Uint8Array {
    const len = this.pending;
    if (len < 0) throw new OpenerOrderError('open() before packetLength()');
    this.pending = -1;
    if (packet.length !== 4 + len + TAG) throw wrongPacketSize();
    const stream = this.k.main.packetStream(seq);
    // Authenticate before decrypting anything, comparing in constant time (PROTOCOL.chacha20poly1305)
    const tag = this.k.backend.poly1305(stream.polyKey, packet.subarray(0, 4 + len));
    if (!constantTimeEqual(tag, packet.subarray(4 + len))) throw macError('chacha20-poly1305 tag mismatch');
    return payloadOf(stream.xor(packet.subarray(4, 4 + len)));
  }
}
