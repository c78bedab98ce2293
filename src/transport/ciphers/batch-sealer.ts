/**
 * An optional extension of PacketSealer for the send path: sealing straight into a caller's
 * buffer. A writer that gathers several packets for one socket write can size one buffer with
 * sealedLength() and sealInto() each packet at its offset, instead of a fresh allocation per
 * packet plus a concatenating copy (a fresh 32 KiB buffer costs several microseconds in page
 * faults and GC pressure, comparable to encrypting it).
 */
import type { PacketSealer } from '../packet-protection.js';

export interface BatchSealer extends PacketSealer {
  /** Exact bytes seal()/sealInto() produce for a payload of this length (padding is minimal). */
  sealedLength(payloadLength: number): number;
  /**
   * Seals one packet into out[offset .. offset + sealedLength(payload.length)); returns the
   * bytes written. Same sequence-number and state rules as seal(). With `body`, the packet's
   * payload is `payload` followed by `body` (sealedLength of both lengths together): channel
   * data goes out without first being copied behind its message header.
   */
  sealInto(seq: number, payload: Uint8Array, out: Uint8Array, offset: number, body?: Uint8Array): number;
  /**
   * Optional: seals one packet as consecutive parts appended to `parts` (for a gathered write),
   * returning the bytes they hold (sealedLength). A mode whose primitive allocates its own
   * output (node:crypto's AES-GCM) hands that output on as a part instead of copying it into a
   * packet buffer. Same sequence-number and state rules as seal(); the parts are the caller's.
   */
  sealParts?(seq: number, payload: Uint8Array, parts: Uint8Array[], body?: Uint8Array): number;
}
