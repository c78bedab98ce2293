/**
 * Messages between a gateway thread and its recording I/O worker (record-io.ts,
 * record-io-worker.ts). Each request names a writer (`id`) and carries a request number (`req`)
 * that its reply repeats.
 */

export type IoRequest =
  /**
   * Creates the file and its chain sidecar (both must not exist), mode 0640. `binPath`: where
   * binary chunks go (binary-ref.ts), created with the first batch that has one.
   */
  | { readonly op: 'open'; readonly req: number; readonly id: number; readonly path: string; readonly chainPath: string; readonly binPath?: string }
  /**
   * Chains the lines of `buf[0..len)` (each ends at an entry of `ends`, before its '\n') from
   * `head`, appends the bytes to the file and the chain values to the sidecar. `buf` is
   * transferred and comes back with the reply. With binary chunks (`blob[0..blobLen)`, `refs`
   * as in chainBatch) their hashes are filled into the lines first, and the chunks are
   * appended to the .bin before the lines are written; `blob` comes back too.
   */
  | {
      readonly op: 'commit';
      readonly req: number;
      readonly id: number;
      readonly buf: ArrayBuffer;
      readonly len: number;
      readonly ends: readonly number[];
      readonly head: Uint8Array;
      readonly blob?: ArrayBuffer;
      readonly blobLen?: number;
      readonly refs?: readonly number[];
    }
  /** fdatasync of both files (each result reported). */
  | { readonly op: 'sync'; readonly req: number; readonly id: number }
  /** Closes the writer's files; with `sync`, fdatasyncs them first (each result reported, as for 'sync'). */
  | { readonly op: 'close'; readonly req: number; readonly id: number; readonly sync?: boolean }
  /** Creates the directory and its missing parents (`mode`); an existing directory is fine. */
  | { readonly op: 'mkdir'; readonly req: number; readonly path: string; readonly mode: number }
  /**
   * Replaces `path` with `text` atomically: writes `path`.tmp (mode 0640), fdatasyncs it when
   * `sync`, renames it over `path`. A reader or a crash sees the old or the new file, never half.
   */
  | { readonly op: 'replace'; readonly req: number; readonly path: string; readonly text: string; readonly sync: boolean };

/**
 * The worker thread's name (Linux comm, at most 15 bytes): `ps -L`, `top -H` and the benchmark
 * show its CPU apart from the relay's.
 */
export const RECORD_IO_THREAD_NAME = 'gh-record-io';

/**
 * What crosses to the worker in one message: a request, or the requests made in the same tick,
 * in order (the worker runs them in that order and answers with one message, a reply or the
 * replies in the same order). Each crossing wakes the other thread; a session's set-up and
 * close made nine of them before requests were batched (issue 7).
 */
export type IoRequestMessage = IoRequest | readonly IoRequest[];
export type IoReplyMessage = IoReply | readonly IoReply[];

/** Whether a message carries several requests or replies (see IoRequestMessage). */
export function isBatch<T>(m: T | readonly T[]): m is readonly T[] {
  return Array.isArray(m);
}

/** An error as it crosses the thread boundary. */
export interface IoError {
  readonly message: string;
  readonly code?: string;
}

export type IoReply =
  | {
      readonly req: number;
      readonly ok: true;
      readonly head?: Uint8Array;
      readonly buf?: ArrayBuffer;
      readonly blob?: ArrayBuffer;
      /** Whether the .bin exists (created by this or an earlier commit). */
      readonly binCreated?: boolean;
      /** One per open file (the file, its sidecar, the .bin when it exists): null when it synced. */
      readonly syncErrors?: readonly { readonly file: 'file' | 'chain' | 'binary'; readonly error: IoError | null }[];
    }
  /** `stage`: which file failed (see CommitError in batch-store.ts). */
  | {
      readonly req: number;
      readonly ok: false;
      readonly stage: CommitStage;
      readonly error: IoError;
      readonly buf?: ArrayBuffer;
      readonly blob?: ArrayBuffer;
      readonly binCreated?: boolean;
    };

/**
 * 'binary' or 'file': none of the batch's lines were written to the file ('binary': its .bin
 * may hold some of the chunks, referenced by no event); 'chain': the lines are in the file but
 * not chained.
 */
export type CommitStage = 'binary' | 'file' | 'chain';
