/**
 * Binary packet framing (RFC 4253 §6) over a PacketOpener: input buffering, packet_length
 * checked against the 256 KiB cap before anything is allocated, and the receive sequence
 * number (uint32, wrapping at 2^32, §6.4).
 *
 * Input is kept as a queue of chunks so that a packet split over many small reads is copied
 * once, when it is complete, rather than by re-concatenating the buffer on every read.
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
    const first = this.chunks[0];
    if (first === undefined || n > this.total) throw new RangeError('ByteQueue underflow');
    if (first.length - this.head >= n) {
      const v = first.subarray(this.head, this.head + n);
      this.advance(n);
      return v;
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0];
      if (c === undefined) throw new RangeError('ByteQueue underflow');
      const k = Math.min(n - o, c.length - this.head);
      out.set(c.subarray(this.head, this.head + k), o);
      o += k;
      this.advance(k);
    }
    return out;
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

export class PacketReader {
  private readonly input = new ByteQueue();
  /** The header taken for the packet in progress, and its length, once known. */
  private header: Uint8Array | null = null;
  private packetLength = -1;
  seq = 0;

  constructor(public opener: PacketOpener) {}

  get buffered(): number {
    return this.input.length + (this.header?.length ?? 0);
  }

  push(chunk: Uint8Array): void {
    this.input.push(chunk);
  }

  /**
   * The next whole packet, or null when more bytes are needed. Throws SshProtocolError for a
   * bad length (before allocating), a bad MAC/tag or bad padding.
   */
  next(): ReceivedPacket | null {
    const o = this.opener;
    if (this.header === null) {
      if (this.input.length < o.headerLength) return null;
      // copied: openers may decrypt the header in place, and it must survive further pushes
      this.header = this.input.take(o.headerLength).slice();
      const len = o.packetLength(this.seq, this.header);
      if (len > MAX_PACKET_LENGTH || len < 5) {
        throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, `bad packet length ${len}`);
      }
      if (4 + len < o.headerLength) throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, `bad packet length ${len}`);
      this.packetLength = len;
    }
    const total = 4 + this.packetLength + o.trailerLength;
    const restLength = total - this.header.length;
    if (this.input.length < restLength) return null;
    const packet = new Uint8Array(total);
    packet.set(this.header, 0);
    packet.set(this.input.take(restLength), this.header.length);
    this.header = null;
    this.packetLength = -1;
    const seq = this.seq;
    const opened = o.open(seq, packet);
    // openers backed by node:crypto hand back Buffers; the core speaks plain Uint8Array (a view, no copy)
    const payload = new Uint8Array(opened.buffer, opened.byteOffset, opened.byteLength);
    this.seq = (this.seq + 1) >>> 0;
    return { seq, payload, wireLength: total };
  }
}
