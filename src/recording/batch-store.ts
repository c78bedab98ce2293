/**
 * Where a ChainedLineWriter's batches go: each batch of whole lines is hashed into the file's
 * chain, appended to the file, and its chain values appended to the sidecar. Two stores do
 * this: the recording I/O worker thread (record-io.ts, the default: the relay's thread then
 * neither hashes nor waits on file calls) and InlineBatchStore, which does it on the calling
 * thread through a RecordingFs (file systems injected by fault tests, and the fallback when no
 * worker can run).
 */
import { open } from 'node:fs/promises';
import { chainBatch } from './chain-bytes.js';
import { CHAIN_SUFFIX } from './line-chain.js';
import type { CommitStage } from './record-io-protocol.js';

export interface AppendTarget {
  write(data: Uint8Array): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The file operations the inline store needs; injectable for fault tests. */
export interface RecordingFs {
  /** Creates `path` (it must not exist) for appending. */
  createAppend(path: string): Promise<AppendTarget>;
}

export const nodeRecordingFs: RecordingFs = {
  async createAppend(path) {
    const fh = await open(path, 'ax', 0o640);
    return {
      async write(data) {
        let off = 0;
        while (off < data.length) {
          const { bytesWritten } = await fh.write(data, off, data.length - off);
          if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
          off += bytesWritten;
        }
      },
      sync: () => fh.datasync(),
      close: () => fh.close(),
    };
  },
};

/**
 * Binary chunks of a batch (binary-ref.ts): `buf[0..len)`, and per chunk a triple in `refs`:
 * where its hash goes in the batch's lines, and its start and end in `buf`.
 */
export interface BlobBatch {
  readonly buf: Buffer;
  readonly len: number;
  readonly refs: readonly number[];
}

export interface CommitResult {
  /** Chain value after the batch's last line. */
  readonly head: Uint8Array;
  /** The batch buffer, free for reuse (null when the store kept it). */
  readonly spare: Buffer | null;
  /** The blob buffer, likewise. */
  readonly blobSpare: Buffer | null;
  /** Whether the .bin exists now. */
  readonly binaryCreated: boolean;
}

/**
 * A batch that did not fully reach the disk. `stage` 'binary' or 'file': none of its lines
 * count as written; 'chain': the lines are in the file but their chain values are not in the
 * sidecar (verify reports them as an unsealed tail).
 */
export class CommitError extends Error {
  constructor(
    readonly stage: CommitStage,
    override readonly cause: unknown,
    readonly spare: Buffer | null,
    readonly blobSpare: Buffer | null = null,
    /** Whether the .bin exists (it may have been created by this batch before its write failed). */
    readonly binaryCreated = false,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'CommitError';
  }
}

/** A file that did not sync. */
export interface SyncFailure {
  readonly file: 'file' | 'chain' | 'binary';
  readonly error: unknown;
}

export interface BatchStore {
  /**
   * Chains the lines of `buf[0..len)` (line i ends before its '\n' at `ends[i]`) from `head`
   * and appends them; with `blob`, first fills in the chunks' hashes and appends the chunks to
   * the .bin. Rejects with CommitError.
   */
  commit(buf: Buffer, len: number, ends: readonly number[], head: Uint8Array, blob?: BlobBatch): Promise<CommitResult>;
  /** fdatasync of every file of the store, together; the ones that failed. */
  sync(): Promise<readonly SyncFailure[]>;
  close(): Promise<void>;
  /** sync() then close(), in one step where the store can (the worker: one request). */
  syncAndClose(): Promise<readonly SyncFailure[]>;
  /**
   * Whether calls take effect in the order they are made, so a close may be asked for while an
   * earlier commit is still on its way (the worker: one queue of requests). The inline store
   * writes through the thread pool and must see the commit finish first.
   */
  readonly ordered: boolean;
}

/** The store that works on the calling thread, through `fs`. */
export class InlineBatchStore implements BatchStore {
  readonly ordered = false;
  private bin: AppendTarget | undefined;

  private constructor(
    private readonly fs: RecordingFs,
    private readonly file: AppendTarget,
    private readonly chainFile: AppendTarget,
    private readonly binPath: string | undefined,
  ) {}

  /**
   * Creates `path` and its sidecar; rejects (with the errno in `code`) if either fails.
   * `binPath` is created with the first binary chunk.
   */
  static async open(fs: RecordingFs, path: string, binPath?: string): Promise<InlineBatchStore> {
    const file = await fs.createAppend(path);
    try {
      return new InlineBatchStore(fs, file, await fs.createAppend(path + CHAIN_SUFFIX), binPath);
    } catch (e) {
      await file.close().catch(() => undefined);
      throw e;
    }
  }

  async commit(buf: Buffer, len: number, ends: readonly number[], head: Uint8Array, blob?: BlobBatch): Promise<CommitResult> {
    const blobSpare = blob?.buf ?? null;
    const { head: h, sidecar } = chainBatch(buf.subarray(0, len), ends, head, blob ? { bytes: blob.buf.subarray(0, blob.len), refs: blob.refs } : undefined);
    if (blob && blob.len > 0) {
      try {
        if (!this.bin) {
          if (this.binPath === undefined) throw Object.assign(new Error('binary chunks for a recording without a .bin file'), { code: 'EINVAL' });
          this.bin = await this.fs.createAppend(this.binPath);
        }
        await this.bin.write(blob.buf.subarray(0, blob.len));
      } catch (e) {
        throw new CommitError('binary', e, buf, blobSpare, this.bin !== undefined);
      }
    }
    try {
      await this.file.write(buf.subarray(0, len));
    } catch (e) {
      throw new CommitError('file', e, buf, blobSpare, this.bin !== undefined);
    }
    try {
      await this.chainFile.write(sidecar);
    } catch (e) {
      throw new CommitError('chain', e, buf, blobSpare, this.bin !== undefined);
    }
    return { head: h, spare: buf, blobSpare, binaryCreated: this.bin !== undefined };
  }

  async sync(): Promise<readonly SyncFailure[]> {
    // All syncs at once: the file system commits them together, which costs less CPU (and
    // less waiting) than one after the other.
    const files: [SyncFailure['file'], AppendTarget][] = [
      ['file', this.file],
      ['chain', this.chainFile],
    ];
    if (this.bin) files.push(['binary', this.bin]);
    const synced = await Promise.allSettled(files.map(([, f]) => f.sync()));
    const failed: SyncFailure[] = [];
    synced.forEach((r, i) => {
      const name = files[i]?.[0];
      if (r.status === 'rejected' && name !== undefined) failed.push({ file: name, error: r.reason });
    });
    return failed;
  }

  async close(): Promise<void> {
    await Promise.all([this.file, this.chainFile, ...(this.bin ? [this.bin] : [])].map((f) => f.close().catch(() => undefined)));
  }

  async syncAndClose(): Promise<readonly SyncFailure[]> {
    const failed = await this.sync();
    await this.close();
    return failed;
  }
}
