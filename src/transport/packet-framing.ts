/**
 * Binary packet framing (RFC 4253 §6) over a PacketOpener: input buffering, packet_length
 * checked against the 256 KiB cap before anything is allocated, and the receive sequence
 * number (uint32, wrapping at 2^32, §6.4).
 *
 * Input is kept as a queue of chunks. A packet that lies within one chunk (the usual case for
 * bulk data: a socket read is 64 KiB) is opened as a view of it, with no copy and no
 * allocation; one split over several reads is copied once, when it is complete, into a scratch
 * buffer shared by every reader and reused for the next packet. That is safe because open()
 * runs synchronously and its payload never aliases the packet (see PacketOpener.open).
 */
import { DisconnectReason, SshProtocolError } from '../wire/index.js';
import type { PacketOpener } from './packet-protection.js';
import { MAX_PACKET_LENGTH } from './transport-types.js';

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already consumed. */
  private head = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** The next n bytes (n <= length), consumed. A view when they sit in one chunk, else one copy. */
  take(n: number): Uint8Array {
    return this.takeWith(n, null);
  }

  /** Copies the next n bytes (n <= length) into `out` without consuming them. */
  peekInto(out: Uint8Array, n: number): void {
    if (n > this.total || n > out.length) throw new RangeError('ByteQueue underflow');
    let o = 0;
    let head = this.head;
    for (let i = 0; o < n; i++) {
      const c = this.chunks[i];
      if (c === undefined) throw new RangeError('ByteQueue underflow');
      const k = Math.min(n - o, c.length - head);
      out.set(c.subarray(head, head + k), o);
      o += k;
      head = 0;
    }
  }

  /**
   * The next n bytes (n <= length), consumed: a view when they sit in one chunk, else copied into
   * `scratch` (which must hold n bytes) and returned as its first n bytes.
   */
  takeInto(n: number, scratch: Uint8Array): Uint8Array {
    if (scratch.length < n) throw new RangeError('ByteQueue scratch too small');
    return this.takeWith(n, scratch);
  }

  /** take/takeInto: a view of one chunk, or a copy into `scratch` (a fresh array when null). */
  private takeWith(n: number, scratch: Uint8Array | null): Uint8Array {
    const first = this.chunks[0];
    if (first === undefined || n > this.total) throw new RangeError('ByteQueue underflow');
    if (first.length - this.head >= n) {
      const v = first.subarray(this.head, this.head + n);
      this.advance(n);
      return v;
    }
    const out = scratch ?? new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0];
      if (c === undefined) throw new RangeError('ByteQueue underflow');
      const k = Math.min(n - o, c.length - this.head);
      out.set(c.subarray(this.head, this.head + k), o);
      o += k;
      this.advance(k);
    }
    return out.length === n ? out : out.subarray(0, n);
  }

  /**
   * Replaces the queued chunks that are views into `borrowed`'s memory with copies of their
   * unconsumed bytes: the owner of that memory is about to reuse it. Only the newest chunks can
   * be such views (every earlier borrowed chunk was owned when its read ended), so the scan
   * stops at the first one that is not: a packet trickling in byte by byte stays linear.
   */
  own(borrowed: Uint8Array): void {
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const c = this.chunks[i];
      if (c === undefined || c.buffer !== borrowed.buffer) return;
      this.chunks[i] = i === 0 ? c.slice(this.head) : c.slice();
      if (i === 0) this.head = 0;
    }
  }

  /** Everything left, consumed. */
  takeAll(): Uint8Array {
    return this.total === 0 ? new Uint8Array(0) : this.take(this.total);
  }

  private advance(n: number): void {
    this.head += n;
    this.total -= n;
    const c = this.chunks[0];
    if (c !== undefined && this.head === c.length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}

export interface ReceivedPacket {
  readonly seq: number;
  readonly payload: Uint8Array;
  /** Bytes the packet took on the wire (for rekey accounting). */
  readonly wireLength: number;
}

/** Largest header any opener asks for (one AES block). */
const MAX_HEADER = 16;

/**
 * Where packets split over several reads are assembled: one buffer for every reader in the
 * process (open() is synchronous), grown to the largest packet seen, at most the 256 KiB cap
 * plus a MAC. Per-connection buffers would cost idle sessions memory; per-packet ones, GC.
 */
let scratch = new Uint8Array(0);

function scratchFor(n: number): Uint8Array {
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, 64 * 1024));
  return scratch;
}

export class PacketReader {
  private readonly input = new ByteQueue();
  /** The header of the packet in progress (peeked, not consumed), and its length once known. */
  private readonly header = new Uint8Array(MAX_HEADER);
  private packetLength = -1;
  seq = 0;

  constructor(public opener: PacketOpener) {}

  get buffered(): number {
    return this.input.length;
  }

  push(chunk: Uint8Array): void {
    this.input.push(chunk);
  }

  /** The caller is about to reuse `borrowed` (pushed earlier): keep copies of what is left of it. */
  ownInput(borrowed: Uint8Array): void {
    this.input.own(borrowed);
  }

  /**
   * The next whole packet, or null when more bytes are needed. Throws SshProtocolError for a
   * bad length (before allocating), a bad MAC/tag or bad padding.
   */
  next(): ReceivedPacket | null {
    const o = this.opener;
    if (this.packetLength < 0) {
      const hl = o.headerLength;
      if (hl > MAX_HEADER) throw new RangeError(`opener header of ${hl} bytes`);
      if (this.input.length < hl) return null;
      this.input.peekInto(this.header, hl);
      const len = o.packetLength(this.seq, this.header.subarray(0, hl));
      if (len > MAX_PACKET_LENGTH || len < 5) {
        throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, `bad packet length ${len}`);
      }
      if (4 + len < hl) throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, `bad packet length ${len}`);
      this.packetLength = len;
    }
    const total = 4 + this.packetLength + o.trailerLength;
    if (this.input.length < total) return null;
    const packet = this.input.takeInto(total, scratchFor(total));
    this.packetLength = -1;
    const seq = this.seq;
    const opened = o.open(seq, packet);
    // openers backed by node:crypto hand back Buffers; the core speaks plain Uint8Array (a view, no copy)
    const payload = new Uint8Array(opened.buffer, opened.byteOffset, opened.byteLength);
    this.seq = (this.seq + 1) >>> 0;
    return { seq, payload, wireLength: total };
  }
}
