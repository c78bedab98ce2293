/**
 * An append-only line file with a hash-chain sidecar, written off the relay's hot path.
 *
 * `push(line)` is synchronous and cheap: it appends the line to the current batch, one buffer
 * that the next flush hands to the batch store as it is (`pushEncoded` lets the caller encode
 * straight into that buffer, so an event costs no allocation). A timer (default every 250 ms,
 * so well under the 1 s of data at risk the design allows) and a size threshold trigger
 * flushes. The store (batch-store.ts; by default the recording I/O worker thread of
 * record-io.ts) hashes the lines into the chain and appends them with one write per file. Only whole lines are ever written, so after a crash or kill -9 the file is valid up
 * to its last complete line (a partially written final line can only come from the kernel
 * cutting a write short, and readers ignore an unterminated tail).
 *
 * The queue is bounded. Overflow and write errors are reported to `onFailure` (typed
 * RecordingFailure) and counted in `stats`; after a write error the file is never written
 * again, so a half-written line can never be followed by more data.
 */
import { type BatchStore, CommitError, InlineBatchStore, nodeRecordingFs, type RecordingFs } from './batch-store.js';
import { errnoCode, errorMessage, type FailureHandler, type RecordingFailure, type RecordingFailureKind } from './failures.js';
import { CHAIN_SUFFIX, toHex } from './line-chain.js';
import { openWorkerStore } from './record-io.js';

export { type AppendTarget, nodeRecordingFs, type RecordingFs } from './batch-store.js';

const EMPTY = Buffer.alloc(0);
/** Default periodic flush interval (ms). */
export const DEFAULT_FLUSH_INTERVAL_MS = 250;
/** First allocation of a batch buffer; it doubles as needed. */
const MIN_BATCH = 4096;
/** A written batch buffer up to this size is kept for the next batch while data flows. */
const MAX_SPARE = 16 * 1024 * 1024;

/** Encodes one line into `buf` at `pos` (never a '\n') and returns where it ends. */
export type LineEncoder = (buf: Buffer, pos: number) => number;

export interface ChainedLineWriterOptions {
  readonly path: string;
  readonly seed: Uint8Array;
  readonly onFailure: FailureHandler;
  /** Hard bound on queued characters; beyond it lines are dropped and reported. Default 8 MiB. */
  readonly maxQueuedBytes?: number;
  /** `push` returns 'pressure' at or above this (the caller may slow its source). Default 2 MiB. */
  readonly highWaterBytes?: number;
  /** Periodic flush interval; default 250 ms. */
  readonly flushIntervalMs?: number;
  /** Queued amount that triggers an immediate flush; default 512 KiB. */
  readonly flushThresholdBytes?: number;
  /**
   * Files through this file system, hashed and written on the calling thread (fault tests).
   * Unset: the recording I/O worker (record-io.ts) when it can run, else node:fs inline.
   */
  readonly fs?: RecordingFs;
  /** Called when the queue drops below the high-water mark after a 'pressure' result. */
  readonly onDrain?: () => void;
}

export type PushResult = 'ok' | 'pressure' | 'dropped';

export interface ChainedLineStats {
  /** Lines and bytes durably handed to the kernel (both files written). */
  readonly lines: number;
  readonly bytes: number;
  /** Chain value after the last committed line. */
  readonly chainHead: string;
  readonly droppedLines: number;
  readonly droppedBytes: number;
  readonly failed: boolean;
}

export class ChainedLineWriter {
  /** Queued lines, each followed by '\n', in batch[0..batchLen). */
  private batch: Buffer = EMPTY;
  private batchLen = 0;
  /** End (exclusive, before its '\n') of each queued line in `batch`. */
  private lineEnds: number[] = [];
  /** Bytes of the queued lines without their newlines (what the queue bounds count). */
  private queued = 0;
  /** The last written batch buffer, reused while data flows and released when a flush finds nothing. */
  private spare: Buffer | null = null;
  /** Size of the batch buffer last handed to a write. */
  private lastBatchSize = 0;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Chain value after the last line handed to the store. */
  private head: Uint8Array;
  private committedLines = 0;
  private committedBytes = 0;
  private committedHead: string;
  private droppedLines = 0;
  private droppedBytes = 0;
  private failed = false;
  private closed = false;
  private overflowing = false;
  private reportedAfterFailure = false;
  private underPressure = false;
  private scheduled = false;
  private drainWaiters: (() => void)[] = [];
  private readonly max: number;
  private readonly high: number;
  private readonly threshold: number;

  private constructor(
    private readonly opts: ChainedLineWriterOptions,
    private readonly store: BatchStore,
  ) {
    this.head = opts.seed;
    this.committedHead = toHex(opts.seed);
    this.max = opts.maxQueuedBytes ?? 8 * 1024 * 1024;
    this.high = Math.min(opts.highWaterBytes ?? 2 * 1024 * 1024, this.max);
    this.threshold = opts.flushThresholdBytes ?? 512 * 1024;
    const interval = opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.timer = setInterval(() => void this.flush(), interval);
    this.timer.unref();
  }

  /** Creates the file and its chain sidecar; rejects (with the errno in `code`) if either fails. */
  static async create(opts: ChainedLineWriterOptions): Promise<ChainedLineWriter> {
    const store = (opts.fs ? undefined : await openWorkerStore(opts.path)) ?? (await InlineBatchStore.open(opts.fs ?? nodeRecordingFs, opts.path));
    return new ChainedLineWriter(opts, store);
  }

  get path(): string {
    return this.opts.path;
  }

  get stats(): ChainedLineStats {
    return {
      lines: this.committedLines,
      bytes: this.committedBytes,
      chainHead: this.committedHead,
      droppedLines: this.droppedLines,
      droppedBytes: this.droppedBytes,
      failed: this.failed,
    };
  }

  /** Whether the writer can still record (no write failure, not closed). */
  get isHealthy(): boolean {
    return !this.failed && !this.closed;
  }

  /**
   * Resolves when the queue is below the high-water mark (at once if it already is, or if the
   * writer failed or closed). The relay can hold back SSH window adjusts until then.
   */
  whenDrained(): Promise<void> {
    if (this.queued < this.high || !this.isHealthy) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private releaseDrainWaiters(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const r of w) r();
  }

  /** Whether `chars` more would fit in the queue now. */
  hasRoomFor(chars: number): boolean {
    return this.isHealthy && this.queued + chars <= this.max;
  }

  /**
   * Queues one line (must not contain '\n'): a string (written as UTF-8) or bytes, which are
   * copied, so the caller may reuse its buffer.
   */
  push(line: string | Uint8Array): PushResult {
    if (this.failed || this.closed) return this.dropAfterFailure(line.length);
    if (typeof line === 'string') {
      const max = line.length * 3;
      return this.pushEncoded(max, (buf, pos) => pos + buf.write(line, pos, max, 'utf8'));
    }
    return this.pushEncoded(line.length, (buf, pos) => {
      buf.set(line, pos);
      return pos + line.length;
    });
  }

  /**
   * Queues one line that `encode` writes straight into the batch buffer: at most `maxBytes`
   * bytes at the position it is given, never a '\n'; it returns the end of what it wrote.
   */
  pushEncoded(maxBytes: number, encode: LineEncoder): PushResult {
    if (this.failed || this.closed) return this.dropAfterFailure(maxBytes);
    this.reserve(maxBytes + 1);
    const start = this.batchLen;
    const end = encode(this.batch, start);
    const n = end - start;
    if (this.queued + n > this.max) {
      // Nothing of the line stays: the batch ends where it ended before.
      this.droppedLines++;
      this.droppedBytes += n;
      if (!this.overflowing) {
        this.overflowing = true;
        this.report('queue-full', `recording queue full (${this.max} bytes); data is being dropped`, 1, n);
      }
      this.scheduleFlush();
      return 'dropped';
    }
    this.batch[end] = 0x0a;
    this.batchLen = end + 1;
    this.lineEnds.push(end);
    this.queued += n;
    if (this.queued >= this.threshold) this.scheduleFlush();
    if (this.queued >= this.high) {
      this.underPressure = true;
      return 'pressure';
    }
    return 'ok';
  }

  private dropAfterFailure(bytes: number): PushResult {
    this.droppedLines++;
    this.droppedBytes += bytes;
    if (!this.reportedAfterFailure) {
      this.reportedAfterFailure = true;
      this.report('dropped-after-failure', `${this.closed ? 'closed' : 'failed'} recording file received more data`, 1, bytes);
    }
    return 'dropped';
  }

  /** Makes room for `n` more bytes in the batch buffer. */
  private reserve(n: number): void {
    const need = this.batchLen + n;
    if (need <= this.batch.length) return;
    // While a batch is being written, data is flowing: start the next one at the size of the
    // last, instead of growing (and copying) from MIN_BATCH again.
    let size = Math.max(MIN_BATCH, this.batch.length * 2, this.flushing ? this.lastBatchSize : 0);
    while (size < need) size *= 2;
    let next: Buffer;
    if (this.spare && this.spare.length >= need) {
      next = this.spare;
      this.spare = null;
    } else next = Buffer.allocUnsafeSlow(size); // an ArrayBuffer of its own: the I/O worker takes it over
    this.batch.copy(next, 0, 0, this.batchLen);
    this.batch = next;
  }

  /** Writes everything queued so far. Never rejects; failures go to onFailure. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.lineEnds.length === 0) this.spare = null; // idle: give the memory back
    if (this.lineEnds.length === 0 || this.failed) return;
    this.flushing = this.writeBatch().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  /** Flushes, syncs and closes both files. Idempotent. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
    if (this.closed) return;
    this.closed = true;
    this.releaseDrainWaiters();
    if (!this.failed) {
      // The first failure is the one reported.
      const synced = await this.store.sync();
      synced.forEach((err, i) => {
        if (err !== undefined && !this.failed) this.fail(err, i === 0 ? this.opts.path : this.opts.path + CHAIN_SUFFIX, 0, 0);
      });
    }
    await this.store.close();
  }

  private scheduleFlush(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async writeBatch(): Promise<void> {
    const buf = this.batch;
    const len = this.batchLen;
    const ends = this.lineEnds;
    this.lastBatchSize = Math.min(buf.length, MAX_SPARE);
    this.batch = this.spare ?? EMPTY;
    this.spare = null;
    this.batchLen = 0;
    this.lineEnds = [];
    this.queued = 0;
    let spare: Buffer | null;
    try {
      const r = await this.store.commit(buf, len, ends, this.head);
      this.head = r.head;
      spare = r.spare;
    } catch (e) {
      if (e instanceof CommitError && e.stage === 'chain') {
        // The lines are in the file but unchained: verify reports them as an unsealed tail.
        this.fail(e.cause, this.opts.path + CHAIN_SUFFIX, 0, 0);
      } else this.fail(e instanceof CommitError ? e.cause : e, this.opts.path, ends.length, len);
      return;
    }
    this.committedLines += ends.length;
    this.committedBytes += len;
    this.committedHead = toHex(this.head);
    if (spare) this.keepSpare(spare);
    if (this.queued < this.high) {
      this.overflowing = false;
      if (this.underPressure) {
        this.underPressure = false;
        this.opts.onDrain?.();
      }
      this.releaseDrainWaiters();
    }
  }

  /** Keeps a written buffer for the next batch (the larger of it and the current spare). */
  private keepSpare(buf: Buffer): void {
    if (buf.length > MAX_SPARE || buf === this.batch) return;
    if (this.spare === null || this.spare.length < buf.length) this.spare = buf;
  }

  private fail(e: unknown, file: string, lostLines: number, lostBytes: number): void {
    this.failed = true;
    const pendingLines = this.lineEnds.length;
    const pendingBytes = this.queued;
    this.batch = EMPTY;
    this.batchLen = 0;
    this.lineEnds = [];
    this.queued = 0;
    this.spare = null;
    this.droppedLines += lostLines + pendingLines;
    this.droppedBytes += lostBytes + pendingBytes;
    const code = errnoCode(e);
    this.report('write-failed', `cannot write ${file}: ${errorMessage(e)}`, lostLines + pendingLines, lostBytes + pendingBytes, code, file);
    this.releaseDrainWaiters();
  }

  private report(kind: RecordingFailureKind, message: string, lostLines: number, lostBytes: number, code?: string, file?: string): void {
    const f: RecordingFailure = {
      kind,
      file: file ?? this.opts.path,
      message,
      lostLines,
      lostBytes,
      ...(code !== undefined ? { code } : {}),
    };
    try {
      this.opts.onFailure(f);
    } catch {
      // A throwing handler must not break the writer; the failure is still in stats.
    }
  }
}
