/**
 * Where a ChainedLineWriter's batches go: each batch of whole lines is hashed into the file's
 * chain, appended to the file, and its chain values appended to the sidecar. Two stores do
 * this: the recording I/O worker thread (record-io.ts, the default: the relay's thread then
 * neither hashes nor waits on file calls) and InlineBatchStore, which does it on the calling
 * thread through a RecordingFs (file systems injected by fault tests, and the fallback when no
 * worker can run).
 */
import { open } from 'node:fs/promises';
import { CHAIN_LINE_LENGTH, writeChainLine } from './chain-bytes.js';
import { CHAIN_SUFFIX, chainStep } from './line-chain.js';

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

export interface CommitResult {
  /** Chain value after the batch's last line. */
  readonly head: Uint8Array;
  /** The batch buffer, free for reuse (null when the store kept it). */
  readonly spare: Buffer | null;
}

/**
 * A batch that did not fully reach the disk. `stage` 'file': none of its lines count as
 * written; 'chain': the lines are in the file but their chain values are not in the sidecar
 * (verify reports them as an unsealed tail).
 */
export class CommitError extends Error {
  constructor(
    readonly stage: 'file' | 'chain',
    override readonly cause: unknown,
    readonly spare: Buffer | null,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'CommitError';
  }
}

export interface BatchStore {
  /** Chains the lines of `buf[0..len)` (line i ends before its '\n' at `ends[i]`) from `head` and appends them. Rejects with CommitError. */
  commit(buf: Buffer, len: number, ends: readonly number[], head: Uint8Array): Promise<CommitResult>;
  /** fdatasync of the file and the sidecar, together; the error of each (undefined when it synced). */
  sync(): Promise<readonly [unknown, unknown]>;
  close(): Promise<void>;
}

/** The store that works on the calling thread, through `fs`. */
export class InlineBatchStore implements BatchStore {
  private constructor(
    private readonly file: AppendTarget,
    private readonly chainFile: AppendTarget,
  ) {}

  /** Creates `path` and its sidecar; rejects (with the errno in `code`) if either fails. */
  static async open(fs: RecordingFs, path: string): Promise<InlineBatchStore> {
    const file = await fs.createAppend(path);
    try {
      return new InlineBatchStore(file, await fs.createAppend(path + CHAIN_SUFFIX));
    } catch (e) {
      await file.close().catch(() => undefined);
      throw e;
    }
  }

  async commit(buf: Buffer, len: number, ends: readonly number[], head: Uint8Array): Promise<CommitResult> {
    // The bytes that are written are the bytes that are hashed into the chain.
    const chainBytes = Buffer.allocUnsafe(ends.length * CHAIN_LINE_LENGTH);
    let chainLen = 0;
    let start = 0;
    let h = head;
    for (const end of ends) {
      h = chainStep(h, buf.subarray(start, end));
      chainLen = writeChainLine(h, chainBytes, chainLen);
      start = end + 1;
    }
    try {
      await this.file.write(buf.subarray(0, len));
    } catch (e) {
      throw new CommitError('file', e, buf);
    }
    try {
      await this.chainFile.write(chainBytes.subarray(0, chainLen));
    } catch (e) {
      throw new CommitError('chain', e, buf);
    }
    return { head: h, spare: buf };
  }

  async sync(): Promise<readonly [unknown, unknown]> {
    // Both syncs at once: the file system commits them together, which costs less CPU (and
    // half the wait) than one after the other.
    const [a, b] = await Promise.allSettled([this.file.sync(), this.chainFile.sync()]);
    return [a.status === 'rejected' ? a.reason : undefined, b.status === 'rejected' ? b.reason : undefined];
  }

  async close(): Promise<void> {
    await Promise.all([this.file, this.chainFile].map((f) => f.close().catch(() => undefined)));
  }
}
