/**
 * Messages between a gateway thread and its recording I/O worker (record-io.ts,
 * record-io-worker.ts). Each request names a writer (`id`) and carries a request number (`req`)
 * that its reply repeats.
 */

export type IoRequest =
  /** Creates the file and its chain sidecar (both must not exist), mode 0640. */
  | { readonly op: 'open'; readonly req: number; readonly id: number; readonly path: string; readonly chainPath: string }
  /**
   * Chains the lines of `buf[0..len)` (each ends at an entry of `ends`, before its '\n') from
   * `head`, appends the bytes to the file and the chain values to the sidecar. `buf` is
   * transferred and comes back with the reply.
   */
  | {
      readonly op: 'commit';
      readonly req: number;
      readonly id: number;
      readonly buf: ArrayBuffer;
      readonly len: number;
      readonly ends: readonly number[];
      readonly head: Uint8Array;
    }
  /** fdatasync of both files (each result reported). */
  | { readonly op: 'sync'; readonly req: number; readonly id: number }
  | { readonly op: 'close'; readonly req: number; readonly id: number };

/** An error as it crosses the thread boundary. */
export interface IoError {
  readonly message: string;
  readonly code?: string;
}

export type IoReply =
  | { readonly req: number; readonly ok: true; readonly head?: Uint8Array; readonly buf?: ArrayBuffer; readonly syncErrors?: readonly (IoError | null)[] }
  /** `stage`: which file failed ('file': nothing of the batch is chained; 'chain': the lines are in the file, unchained). */
  | { readonly req: number; readonly ok: false; readonly stage: 'file' | 'chain'; readonly error: IoError; readonly buf?: ArrayBuffer };
