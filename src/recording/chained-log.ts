/**
 * An append-only line file with a hash-chain sidecar, written off the relay's hot path.
 *
 * `push(line)` is synchronous and cheap: it appends the line to the current batch, one buffer
 * that the next flush hands to the batch store as it is (`pushEncoded` lets the caller encode
 * straight into that buffer, so an event costs no allocation). A timer (default every 250 ms,
 * so well under the 1 s of data at risk the design allows; it runs only while lines come) and a
 * size threshold trigger flushes. The store (batch-store.ts; by default the recording I/O
 * worker thread of record-io.ts) hashes the lines into the chain and appends them with one
 * write per file. Only whole lines are ever written, so after a crash or kill -9 the file is
 * valid up to its last complete line (a partially written final line can only come from the
 * kernel cutting a write short, and readers ignore an unterminated tail).
 *
 * The queue is bounded. Overflow and write errors are reported to `onFailure` (typed
 * RecordingFailure) and counted in `stats`; after a write error the file is never written
 * again, so a half-written line can never be followed by more data.
 */
import { EMPTY, fitting, grown, largerSpare, MAX_SPARE } from './batch-buffers.js';
import { type BatchStore, CommitError, type CommitResult, InlineBatchStore, nodeRecordingFs, type RecordingFs, type SyncFailure } from './batch-store.js';
import { errnoCode, errorMessage, type FailureHandler, type RecordingFailure, type RecordingFailureKind } from './failures.js';
import { CHAIN_SUFFIX, toHex } from './line-chain.js';
import { openWorkerStore } from './record-io.js';

export { type AppendTarget, nodeRecordingFs, type RecordingFs } from './batch-store.js';

/** Default periodic flush interval (ms). */
export const DEFAULT_FLUSH_INTERVAL_MS = 250;

/** Encodes one line into `buf` at `pos` (never a '\n') and returns where it ends. */
export type LineEncoder = (buf: Buffer, pos: number) => number;

/**
 * Encodes the line of a binary chunk that starts at `offset` of the .bin (binary-ref.ts): returns
 * where the line ends and where its 64 hex digits of SHA-256 go (the store fills them in).
 */
export type BinaryLineEncoder = (buf: Buffer, pos: number, offset: number) => { readonly end: number; readonly hashAt: number };

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
  /** Where `pushBinary` chunks go (created with the first one); unset: no pushBinary. */
  readonly binaryPath?: string;
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
  /** Binary chunks and their bytes in the .bin (binaryPath), committed with their lines. */
  readonly binaryChunks: number;
  readonly binaryBytes: number;
  /** Whether the .bin exists (it can, with no chunk committed, after its first write failed). */
  readonly binaryFile: boolean;
}

export class ChainedLineWriter {
  /** Queued lines, each followed by '\n', in batch[0..batchLen). */
  private batch: Buffer = EMPTY;
  private batchLen = 0;
  /** End (exclusive, before its '\n') of each queued line in `batch`. */
  private lineEnds: number[] = [];
  /** Bytes of the queued lines without their newlines (what the queue bounds count). */
  private queued = 0;
  /** The last written batch buffer, reused while data flows and released once the writer is idle (onTimer). */
  private spare: Buffer | null = null;
  /** Queued binary chunks (pushBinary) in blob[0..blobLen), and their triples for chainBatch. */
  private blob: Buffer = EMPTY;
  private blobLen = 0;
  private blobRefs: number[] = [];
  private blobSpare: Buffer | null = null;
  /** Size of the .bin once every accepted chunk is written: the offset of the next chunk. */
  private binaryOffset = 0;
  private committedChunks = 0;
  private committedBinaryBytes = 0;
  private binaryCreated = false;
  /**
   * The largest batch and blob buffers of the current burst of data (0 once the writer is idle,
   * see onTimer). New buffers start at this size, so a steady stream stops growing its buffers,
   * and copying what they hold, after its first few batches: a batch keeps filling while the
   * one before is being written, past the flush threshold and past the buffer it was given.
   */
  private batchCapacity = 0;
  private blobCapacity = 0;
  /** A batch was handed to the store since the last timer tick (see onTimer). */
  private wroteSinceTick = false;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly interval: number;
  /** Chain value after the last line handed to the store. */
  private head: Uint8Array;
  private committedLines = 0;
  private committedBytes = 0;
  private committedHead: string;
  private droppedLines = 0;
  private droppedBytes = 0;
  private failed = false;
  private closed = false;
  private closing: Promise<void> | null = null;
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
    this.interval = opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
  }

  /**
   * Starts the periodic flush when a line is queued; onTimer stops it once the writer has been
   * idle for a whole interval. A writer with nothing to write (the audit log and the casts of
   * 1,000 idle sessions) holds no timer: with one each, ticking four times a second, they woke
   * an idle gateway's event loop thousands of times a second.
   */
  private armTimer(): void {
    if (this.timer !== null || this.closed || this.closing !== null) return;
    this.timer = setInterval(() => this.onTimer(), this.interval);
    this.timer.unref();
  }

  /** Creates the file and its chain sidecar; rejects (with the errno in `code`) if either fails. */
  static async create(opts: ChainedLineWriterOptions): Promise<ChainedLineWriter> {
    const store =
      (opts.fs ? undefined : await openWorkerStore(opts.path, opts.binaryPath)) ?? (await InlineBatchStore.open(opts.fs ?? nodeRecordingFs, opts.path, opts.binaryPath));
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
      binaryChunks: this.committedChunks,
      binaryBytes: this.committedBinaryBytes,
      binaryFile: this.binaryCreated,
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
    return this.tryPushEncoded(maxBytes, encode) ?? 'ok';
  }

  /**
   * `pushEncoded` whose encoder may decline: when it returns -1 nothing is queued and the result
   * is undefined.
   */
  tryPushEncoded(maxBytes: number, encode: LineEncoder): PushResult | undefined {
    if (this.failed || this.closed) return this.dropAfterFailure(maxBytes);
    this.reserve(maxBytes + 1);
    const start = this.batchLen;
    const end = encode(this.batch, start);
    if (end < 0) return undefined;
    const n = end - start;
    if (this.queued + n > this.max) return this.overflow(n);
    return this.accept(end, n);
  }

  /**
   * Queues a binary chunk for the .bin (copied, so the caller may reuse its buffer) and the line
   * that `encode` writes for it (at most `maxLineBytes`; see BinaryLineEncoder). Line and chunk
   * are written in the same flush, the chunk first.
   */
  pushBinary(bytes: Uint8Array, maxLineBytes: number, encode: BinaryLineEncoder): PushResult {
    if (this.failed || this.closed) return this.dropAfterFailure(maxLineBytes + bytes.length);
    if (this.opts.binaryPath === undefined) throw new Error('pushBinary needs a writer with a binaryPath');
    this.reserve(maxLineBytes + 1);
    const start = this.batchLen;
    const { end, hashAt } = encode(this.batch, start, this.binaryOffset);
    const n = end - start + bytes.length;
    if (this.queued + n > this.max) return this.overflow(n);
    this.reserveBlob(bytes.length);
    this.blob.set(bytes, this.blobLen);
    this.blobRefs.push(hashAt, this.blobLen, this.blobLen + bytes.length);
    this.blobLen += bytes.length;
    this.binaryOffset += bytes.length;
    return this.accept(end, n);
  }

  /** The line just encoded ends at `end` and counts `n` against the queue bounds: queue it. */
  private accept(end: number, n: number): PushResult {
    this.batch[end] = 0x0a;
    this.batchLen = end + 1;
    this.lineEnds.push(end);
    this.queued += n;
    this.armTimer();
    if (this.queued >= this.threshold) this.scheduleFlush();
    if (this.queued >= this.high) {
      this.underPressure = true;
      return 'pressure';
    }
    return 'ok';
  }

  /** Nothing of the line stays: the batch ends where it ended before. */
  private overflow(n: number): PushResult {
    this.droppedLines++;
    this.droppedBytes += n;
    if (!this.overflowing) {
      this.overflowing = true;
      this.report('queue-full', `recording queue full (${this.max} bytes); data is being dropped`, 1, n);
    }
    this.scheduleFlush();
    return 'dropped';
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
    const { next, tookSpare } = grown(this.batch, this.batchLen, need, this.spare, this.batchCapacity);
    if (tookSpare) this.spare = null;
    this.batch = next;
    this.batchCapacity = Math.max(this.batchCapacity, Math.min(next.length, MAX_SPARE));
  }

  /** Makes room for `n` more bytes of binary chunks (buffers of their own, like the batch's). */
  private reserveBlob(n: number): void {
    const need = this.blobLen + n;
    if (need <= this.blob.length) return;
    const { next, tookSpare } = grown(this.blob, this.blobLen, need, this.blobSpare, this.blobCapacity);
    if (tookSpare) this.blobSpare = null;
    this.blob = next;
    this.blobCapacity = Math.max(this.blobCapacity, Math.min(next.length, MAX_SPARE));
  }

  /** Writes everything queued so far. Never rejects; failures go to onFailure. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.lineEnds.length === 0 || this.failed) return;
    this.flushing = this.writeBatch().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  /** Flushes, syncs and closes both files. Idempotent: every call resolves when the files are closed. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.stopTimer();
    while (this.flushing) await this.flushing;
    // From here on a line pushed is reported as dropped (it would reach no file).
    this.closed = true;
    this.releaseDrainWaiters();
    let last: Promise<void> | undefined;
    if (this.lineEnds.length > 0 && !this.failed) {
      last = this.writeBatch();
      // A store that keeps order takes the close behind the last batch in the same round trip.
      if (!this.store.ordered) await last;
    }
    if (this.failed) {
      await this.store.close();
      return;
    }
    const synced = this.store.syncAndClose();
    await last;
    const failed = (await synced)[0];
    // A last batch that failed was reported; the files' sync after it says nothing more.
    if (!failed || this.failed) return;
    // The first failure is the one reported.
    this.fail(failed.error, this.pathOf(failed.file), 0, 0);
  }

  /** The path of one of the writer's files, as a failure names it. */
  private pathOf(file: SyncFailure['file']): string {
    if (file === 'chain') return this.opts.path + CHAIN_SUFFIX;
    return file === 'binary' ? (this.opts.binaryPath ?? this.opts.path) : this.opts.path;
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * The periodic flush. A writer that wrote nothing for a whole interval is idle: it gives its
   * spare buffers back and stops the timer until the next line (armTimer). (A flush that merely
   * finds the queue empty proves nothing: another one may just have taken the lines, with data
   * still streaming.)
   */
  private onTimer(): void {
    if (this.lineEnds.length === 0 && this.flushing === null && !this.wroteSinceTick) {
      this.spare = null;
      this.blobSpare = null;
      this.batchCapacity = 0;
      this.blobCapacity = 0;
      this.stopTimer();
      return;
    }
    this.wroteSinceTick = false;
    void this.flush();
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
    this.wroteSinceTick = true;
    this.batch = fitting(this.spare, this.batchCapacity);
    this.spare = null;
    this.batchLen = 0;
    this.lineEnds = [];
    this.queued = 0;
    const blob = this.blobRefs.length > 0 ? { buf: this.blob, len: this.blobLen, refs: this.blobRefs } : undefined;
    if (blob) {
      this.blob = fitting(this.blobSpare, this.blobCapacity);
      this.blobSpare = null;
      this.blobLen = 0;
      this.blobRefs = [];
    }
    let result: CommitResult;
    try {
      result = await this.store.commit(buf, len, ends, this.head, blob);
    } catch (e) {
      if (e instanceof CommitError && e.binaryCreated) this.binaryCreated = true;
      if (!(e instanceof CommitError)) this.fail(e, this.opts.path, ends.length, len + (blob?.len ?? 0));
      else if (e.stage === 'chain') {
        // The lines are in the file but unchained: verify reports them as an unsealed tail.
        this.fail(e.cause, this.pathOf('chain'), 0, 0);
      } else this.fail(e.cause, this.pathOf(e.stage), ends.length, len + (blob?.len ?? 0));
      return;
    }
    this.head = result.head;
    if (result.binaryCreated) this.binaryCreated = true;
    this.committedLines += ends.length;
    this.committedBytes += len;
    this.committedHead = toHex(this.head);
    if (blob) {
      this.committedChunks += blob.refs.length / 3;
      this.committedBinaryBytes += blob.len;
    }
    if (result.spare && result.spare !== this.batch) this.spare = largerSpare(this.spare, result.spare);
    if (result.blobSpare && result.blobSpare !== this.blob) this.blobSpare = largerSpare(this.blobSpare, result.blobSpare);
    if (this.queued < this.high) {
      this.overflowing = false;
      if (this.underPressure) {
        this.underPressure = false;
        this.opts.onDrain?.();
      }
      this.releaseDrainWaiters();
    }
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
    this.blob = EMPTY;
    this.blobLen = 0;
    this.blobRefs = [];
    this.blobSpare = null;
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
