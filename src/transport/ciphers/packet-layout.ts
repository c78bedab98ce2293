/**
 * Packet layout rules shared by every mode (RFC 4253 §6):
 *   uint32 packet_length | byte padding_length | payload | random padding | MAC or tag
 * Padding is at least 4 bytes. Modes that leave the length unencrypted (AEAD, chacha, EtM) align
 * padding_length||payload||padding; the others align the whole packet including the length.
 */
import { randomFillSync, timingSafeEqual } from 'node:crypto';
import { DisconnectReason, SshProtocolError } from '../../wire/index.js';

export const MIN_PADDING = 4;

/** Bytes of padding for a payload: the smallest count >= 4 that aligns the packet. */
export function paddingFor(payloadLength: number, align: number, lengthCounts: boolean): number {
  const covered = 1 + payloadLength + (lengthCounts ? 4 : 0);
  let pad = align - (covered % align);
  if (pad < MIN_PADDING) pad += align;
  return pad;
}

// Random padding comes from a pool refilled in bulk: one randomFillSync per packet would cost
// more than padding is worth.
const POOL_SIZE = 16384;
const pool = new Uint8Array(POOL_SIZE);
let poolPos = POOL_SIZE;

export function fillRandomPadding(out: Uint8Array, offset: number, n: number): void {
  if (poolPos + n > POOL_SIZE) {
    randomFillSync(pool);
    poolPos = 0;
  }
  out.set(pool.subarray(poolPos, poolPos + n), offset);
  poolPos += n;
}

export function writeU32(out: Uint8Array, offset: number, v: number): void {
  out[offset] = v >>> 24;
  out[offset + 1] = (v >>> 16) & 0xff;
  out[offset + 2] = (v >>> 8) & 0xff;
  out[offset + 3] = v & 0xff;
}

export function readU32(b: Uint8Array, offset: number): number {
  return (((b[offset] ?? 0) << 24) | ((b[offset + 1] ?? 0) << 16) | ((b[offset + 2] ?? 0) << 8) | (b[offset + 3] ?? 0)) >>> 0;
}

/**
 * Writes packet_length, padding_length, payload (`payload` then `body`, when given) and random
 * padding into `out` at `offset`. Returns packet_length.
 */
export function writePlainPacket(out: Uint8Array, offset: number, payload: Uint8Array, pad: number, body?: Uint8Array): number {
  const n = payload.length + (body?.length ?? 0);
  const packetLength = 1 + n + pad;
  writeU32(out, offset, packetLength);
  out[offset + 4] = pad;
  out.set(payload, offset + 5);
  if (body !== undefined) out.set(body, offset + 5 + payload.length);
  fillRandomPadding(out, offset + 5 + n, pad);
  return packetLength;
}

/**
 * Where sealParts assembles a packet's plaintext: one buffer for every sealer in the process
 * (sealing is synchronous and the cipher only reads it during the call, producing fresh
 * output), grown to the largest packet sealed, at most the 256 KiB packet cap.
 */
let plainScratch = new Uint8Array(0);

/**
 * writePlainPacket with the minimal padding for `align` (length excluded, as the AEAD modes
 * do), into the shared scratch buffer. Returns a view of packet_length..padding, valid until
 * the next packet is sealed.
 */
export function plainPacketInScratch(payload: Uint8Array, align: number, body?: Uint8Array): Uint8Array {
  const n = payload.length + (body?.length ?? 0);
  const pad = paddingFor(n, align, false);
  const size = 5 + n + pad;
  if (plainScratch.length < size) plainScratch = new Uint8Array(Math.max(size, 64 * 1024));
  writePlainPacket(plainScratch, 0, payload, pad, body);
  return plainScratch.subarray(0, size);
}

/**
 * Checks packet_length against the mode's alignment before anything is allocated or decrypted.
 * A misaligned or impossibly small length ends the connection (OpenSSH: "Bad packet length").
 */
export function checkPacketLength(packetLength: number, align: number, lengthCounts: boolean): number {
  const aligned = (packetLength + (lengthCounts ? 4 : 0)) % align === 0;
  if (!aligned || packetLength < 1 + MIN_PADDING) {
    throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, `bad packet length ${packetLength}`);
  }
  return packetLength;
}

/**
 * Given the decrypted padding_length||payload||padding (`body`, packet_length bytes), returns the
 * payload as a view. Bad padding is a PROTOCOL_ERROR (RFC 4253 §6).
 */
export function payloadOf(body: Uint8Array): Uint8Array {
  const pad = body[0] ?? 0;
  if (pad < MIN_PADDING || pad > body.length - 1) {
    throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, `bad padding length ${pad}`);
  }
  return body.subarray(1, body.length - pad);
}

export function macError(what: string): SshProtocolError {
  return new SshProtocolError(DisconnectReason.MAC_ERROR, what);
}

export function wrongPacketSize(): SshProtocolError {
  return new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, 'packet size does not match packet_length');
}

/** A caller broke the packetLength()-then-open() order; a bug in the framing layer, not the peer. */
export class OpenerOrderError extends Error {
  override readonly name = 'OpenerOrderError';
}

/** Uint32 sequence number as 4 big-endian bytes (RFC 4253 §6.4). */
export function seqBytes(seq: number, into: Uint8Array): Uint8Array {
  writeU32(into, 0, seq >>> 0);
  return into;
}

/** Constant-time comparison of a computed MAC or tag with the received one. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
