/**
 * The socket edge of a connection: the only place where protocol bytes meet a TCP socket.
 *  - TCP_NODELAY, because SSH does its own batching and interactive keystrokes must not wait
 *    for Nagle;
 *  - every packet produced while handling the events of one loop iteration (the socket reads
 *    of one poll, a timer, an API call) goes out in ONE socket write: packets are gathered and
 *    written together (writev, no concatenating copy) once the loop has run the callbacks it
 *    had ready. Over a stream that is not a socket (the SSH
 *    channel an inner connection of `ssh -J` runs over), where every write() becomes at least
 *    one message, they are concatenated into one write instead: a packet handed over in parts
 *    must not become several CHANNEL_DATA messages, and several packets in one write fill the
 *    channel's packets rather than each leaving a runt behind;
 *  - socket backpressure is visible (`canWrite`) so channel streams stop producing while the
 *    kernel buffer is full, and `onDrain` tells them when to go on.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { takeSharedReads } from './shared-read.js';

/**
 * What a connection runs over: a TCP socket, or any byte stream — the gateway runs an inner SSH
 * server over an SSH channel for ProxyJump. Socket-only knobs are optional.
 */
export type ByteStream = Duplex & {
  setNoDelay?: (noDelay?: boolean) => unknown;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
};

export interface SocketEdgeEvents {
  /**
   * Bytes read from the socket. `borrowed`: they sit in a buffer the next read reuses
   * (shared-read.ts), so whatever the consumer keeps past this call it must copy first.
   */
  data(chunk: Uint8Array, borrowed: boolean): void;
  /** The socket drained after a write returned false. */
  drain(): void;
  /** The socket ended or failed; `error` is absent on a clean end of stream. */
  closed(error?: Error): void;
}

export class SocketEdge {
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private backpressured = false;
  private ended = false;
  /** A real socket takes a gathered write (writev); any other stream gets one concatenated write. */
  private readonly gathers: boolean;
  /** Total bytes written and read, for metrics and the rekey-by-bytes policy upstream. */
  bytesOut = 0;
  bytesIn = 0;

  constructor(
    readonly socket: ByteStream,
    private readonly events: SocketEdgeEvents,
  ) {
    this.gathers = socket instanceof Socket;
    socket.setNoDelay?.(true);
    const read = (chunk: Uint8Array, borrowed: boolean): void => {
      this.bytesIn += chunk.length;
      this.events.data(chunk, borrowed);
    };
    if (!takeSharedReads(socket, (chunk) => read(chunk, true))) {
      socket.on('data', (chunk: Buffer) => read(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length), false));
    }
    socket.on('drain', () => {
      this.backpressured = false;
      this.events.drain();
    });
    socket.on('error', (e) => this.finish(e));
    socket.on('end', () => this.finish());
    socket.on('close', () => this.finish());
  }

  /** Queues bytes (one or more sealed packets) for the next batched write. */
  write(bytes: Uint8Array): void {
    if (this.ended || bytes.length === 0) return;
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    if (!this.flushScheduled) this.scheduleFlush();
  }

  /** Queues consecutive parts of the byte stream (e.g. one packet's length, ciphertext and tag) for the next batched write. */
  writeParts(parts: readonly Uint8Array[]): void {
    if (this.ended) return;
    for (const p of parts) {
      if (p.length === 0) continue;
      this.queue.push(p);
      this.queuedBytes += p.length;
    }
    if (!this.flushScheduled && this.queuedBytes > 0) this.scheduleFlush();
  }

  /**
   * A socket is written once the event loop has run every callback it had ready (setImmediate),
   * so the packets produced by all the reads of one poll go out in one writev: under bulk load
   * libuv hands over several reads per poll, and each write into loopback TCP costs the kernel
   * far more per call than per byte (a 128 MiB ssh -J upload: 321 writev calls instead of 1090).
   * Interactive traffic waits no longer than the rest of the current loop iteration. Over a
   * stream (the inner connection of ssh -J), the next microtask keeps the channel write in step.
   */
  private scheduleFlush(): void {
    this.flushScheduled = true;
    if (this.gathers) setImmediate(() => this.flush());
    else queueMicrotask(() => this.flush());
  }

  /** Writes everything queued now, as one socket write. */
  flush(): void {
    this.flushScheduled = false;
    if (this.queue.length === 0 || this.ended) return;
    const parts = this.queue;
    const total = this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    this.bytesOut += total;
    const only = parts[0];
    if (parts.length === 1 && only !== undefined) {
      if (!this.socket.write(only)) this.backpressured = true;
      return;
    }
    if (!this.gathers) {
      if (!this.socket.write(Buffer.concat(parts, total))) this.backpressured = true;
      return;
    }
    // Several parts: one gathered write (writev) under cork, without concatenating them first.
    this.socket.cork();
    let ok = true;
    for (const p of parts) ok = this.socket.write(p) && ok;
    this.socket.uncork();
    if (!ok) this.backpressured = true;
  }

  /** False while the socket's buffer is above its high-water mark. */
  get canWrite(): boolean {
    return !this.backpressured && !this.ended;
  }

  /** Bytes accepted but not yet handed to the kernel (ours plus the socket's own buffer). */
  get pendingBytes(): number {
    return this.queuedBytes + this.socket.writableLength;
  }

  /** Flushes what is queued (e.g. a DISCONNECT), then ends and destroys the socket. */
  close(): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    this.socket.end();
    // Do not wait on a peer that never reads: destroy after a short grace period.
    const t = setTimeout(() => this.socket.destroy(), 1000);
    t.unref();
    this.socket.once('close', () => clearTimeout(t));
  }

  /** Destroys the socket at once. */
  destroy(): void {
    this.ended = true;
    this.queue = [];
    this.queuedBytes = 0;
    this.socket.destroy();
  }

  private finished = false;
  private finish(error?: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.ended = true;
    this.events.closed(error);
  }
}
