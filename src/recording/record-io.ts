/**
 * The recording I/O worker: one worker thread per gateway process (or cluster worker) that
 * hashes every recording batch into its chain and writes the file and the sidecar
 * (record-io-worker.ts). The relay's thread only encodes lines into a batch buffer and hands the
 * buffer over (transferred, not copied). SHA-256 over every recorded byte and the file calls
 * were a fifth of a busy gateway thread during a recorded bulk download, while the machine had
 * idle CPU (issue 7).
 *
 * If the worker dies, every pending request fails with EIO, which the writers report as
 * recording failures (never silently); the next file opened starts a new worker. The worker is
 * unreferenced while no request is pending, so it never keeps a process alive.
 */
import { existsSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type BatchStore, type BlobBatch, CommitError, type CommitResult, type SyncFailure } from './batch-store.js';
import { ensureDirSync } from './layout.js';
import { CHAIN_SUFFIX } from './line-chain.js';
import { type IoError, type IoReply, type IoReplyMessage, type IoRequest, isBatch } from './record-io-protocol.js';

/** Omit applied to each member of a union. */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A request before it is numbered. */
type Request = OmitEach<IoRequest, 'req'>;

function toError(e: IoError): Error {
  return Object.assign(new Error(e.message), e.code !== undefined ? { code: e.code } : {});
}

/**
 * The compiled worker next to this module, or (when this module runs from its TypeScript source,
 * as under the test runner) the one in dist/; undefined when there is none.
 */
function workerUrl(): URL | undefined {
  const candidates = [new URL('./record-io-worker.js', import.meta.url)];
  if (import.meta.url.endsWith('.ts')) candidates.push(new URL('../../dist/src/recording/record-io-worker.js', import.meta.url));
  return candidates.find((u) => existsSync(fileURLToPath(u)));
}

class RecordIoThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, (r: IoReply | Error) => void>();
  /** Requests made in this tick, posted together at its end (see IoRequestMessage). */
  private outbox: { readonly m: IoRequest; readonly transfer: readonly ArrayBuffer[] }[] = [];
  private nextReq = 1;
  private nextWriter = 1;

  constructor(private readonly url: URL) {}

  newWriterId(): number {
    return this.nextWriter++;
  }

  /** Queues `m` for the worker; requests are carried out in the order they are made. */
  request(m: Request, transfer: ArrayBuffer[] = []): Promise<IoReply> {
    const w = this.start();
    const req = this.nextReq++;
    return new Promise<IoReply>((resolve, reject) => {
      this.pending.set(req, (r) => (r instanceof Error ? reject(r) : resolve(r)));
      if (this.pending.size === 1) w.ref();
      this.outbox.push({ m: { ...m, req }, transfer });
      if (this.outbox.length === 1) queueMicrotask(() => this.post(w));
    });
  }

  /**
   * Posts what the tick queued as one message. When `w` stopped meanwhile, its requests failed
   * with it (and left the outbox); what is there now belongs to the next worker, whose own post
   * is scheduled.
   */
  private post(w: Worker): void {
    if (this.worker !== w) return;
    const box = this.outbox;
    this.outbox = [];
    if (box.length === 0) return;
    crossings.messages++;
    crossings.requests += box.length;
    const only = box[0];
    if (box.length === 1 && only) {
      w.postMessage(only.m, [...only.transfer]);
      return;
    }
    w.postMessage(
      box.map((b) => b.m),
      [...new Set(box.flatMap((b) => b.transfer))],
    );
  }

  private settle(r: IoReply, w: Worker): void {
    const settle = this.pending.get(r.req);
    this.pending.delete(r.req);
    if (this.pending.size === 0) w.unref();
    settle?.(r);
  }

  async stop(): Promise<void> {
    const w = this.worker;
    if (w) await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // No inherited node options (a program run with --input-type or a loader would pass them on
    // to a worker they do not apply to), and a small heap: the worker keeps file descriptors and
    // hashes, and the batches it writes are transferred buffers, outside its heap.
    const w = new Worker(this.url, { name: 'gatehouse-recording-io', execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 64 } });
    w.unref();
    w.on('message', (r: IoReplyMessage) => {
      if (isBatch(r)) for (const one of r) this.settle(one, w);
      else this.settle(r, w);
    });
    const stopped = (why: string): void => {
      if (this.worker !== w) return;
      this.worker = null;
      this.outbox = [];
      const err = Object.assign(new Error(`recording I/O worker stopped: ${why}`), { code: 'EIO' });
      const waiting = [...this.pending.values()];
      this.pending.clear();
      for (const settle of waiting) settle(err);
    };
    w.on('error', (e) => stopped(e.message));
    w.on('exit', (code) => stopped(`exit code ${code}`));
    this.worker = w;
    return w;
  }
}

let thread: RecordIoThread | null | undefined;

/** Messages posted to the worker and the requests they carried, since the process started (tests, diagnostics). */
const crossings = { messages: 0, requests: 0 };

export function recordIoCrossings(): { readonly messages: number; readonly requests: number } {
  return { ...crossings };
}

function ioThread(): RecordIoThread | null {
  if (thread === undefined) {
    const url = process.env['GATEHOUSE_RECORDING_IO'] === 'inline' ? undefined : workerUrl();
    thread = url ? new RecordIoThread(url) : null;
  }
  return thread;
}

/** Whether recording files go through the worker thread (false: on the calling thread). */
export function recordIoWorkerAvailable(): boolean {
  return ioThread() !== null;
}

/** `buf`'s ArrayBuffer when `buf` is all of it (batch buffers are), else a copy of `buf[0..len)`: what is transferred becomes unusable here. */
function ownArrayBuffer(buf: Buffer, len: number): ArrayBuffer {
  const ab = buf.buffer;
  if (buf.byteOffset === 0 && buf.byteLength === ab.byteLength && ab instanceof ArrayBuffer) return ab;
  const copy = new ArrayBuffer(len);
  new Uint8Array(copy).set(buf.subarray(0, len));
  return copy;
}

class WorkerBatchStore implements BatchStore {
  readonly ordered = true;

  constructor(
    private readonly io: RecordIoThread,
    private readonly id: number,
  ) {}

  async commit(buf: Buffer, len: number, ends: readonly number[], head: Uint8Array, blob?: BlobBatch): Promise<CommitResult> {
    const ab = ownArrayBuffer(buf, len);
    const blobAb = blob ? ownArrayBuffer(blob.buf, blob.len) : undefined;
    let r: IoReply;
    try {
      r = await this.io.request(
        { op: 'commit', id: this.id, buf: ab, len, ends, head, ...(blob && blobAb ? { blob: blobAb, blobLen: blob.len, refs: blob.refs } : {}) },
        blobAb ? [ab, blobAb] : [ab],
      );
    } catch (e) {
      throw new CommitError('file', e, null);
    }
    const spare = r.buf ? Buffer.from(r.buf) : null;
    const blobSpare = r.blob ? Buffer.from(r.blob) : null;
    const binaryCreated = r.binCreated === true;
    if (!r.ok) throw new CommitError(r.stage, toError(r.error), spare, blobSpare, binaryCreated);
    if (!r.head) throw new CommitError('chain', new Error('recording I/O worker returned no chain value'), spare, blobSpare, binaryCreated);
    return { head: r.head, spare, blobSpare, binaryCreated };
  }

  sync(): Promise<readonly SyncFailure[]> {
    return this.syncing({ op: 'sync', id: this.id });
  }

  async close(): Promise<void> {
    await this.io.request({ op: 'close', id: this.id }).catch(() => undefined);
  }

  syncAndClose(): Promise<readonly SyncFailure[]> {
    return this.syncing({ op: 'close', id: this.id, sync: true });
  }

  /** A request that syncs the writer's files: the files whose fdatasync failed (all of them when the request did). */
  private async syncing(m: Extract<Request, { op: 'sync' } | { op: 'close' }>): Promise<readonly SyncFailure[]> {
    try {
      const r = await this.io.request(m);
      if (!r.ok) return [{ file: 'file', error: toError(r.error) }];
      return (r.syncErrors ?? []).flatMap((s) => (s.error ? [{ file: s.file, error: toError(s.error) }] : []));
    } catch (e) {
      return [{ file: 'file', error: e }];
    }
  }
}

/** Sends `m` and rejects with the worker's error (errno in `code`) unless it succeeded. */
async function requestOk(io: RecordIoThread, m: Request): Promise<void> {
  const r = await io.request(m);
  if (!r.ok) throw toError(r.error);
}

/**
 * Creates a directory and its missing parents (mode 0750) in the worker, or on this thread when
 * there is none. Rejects with the errno in `code`.
 */
export async function makeDirectory(path: string, mode = 0o750): Promise<void> {
  const io = ioThread();
  if (!io) return ensureDirSync(path, mode);
  await requestOk(io, { op: 'mkdir', path, mode });
}

/**
 * Replaces `path` with `text` atomically (temp file, fdatasync when `sync`, rename), in the
 * worker or on this thread when there is none. Rejects with the errno in `code`. One request
 * instead of five thread-pool calls: session set-up writes the index twice (issue 7).
 */
export async function replaceFile(path: string, text: string, sync: boolean): Promise<void> {
  const io = ioThread();
  if (!io) return replaceFileHere(path, text, sync);
  await requestOk(io, { op: 'replace', path, text, sync });
}

async function replaceFileHere(path: string, text: string, sync: boolean): Promise<void> {
  const fh = await open(`${path}.tmp`, 'w', 0o640);
  try {
    await fh.writeFile(text);
    if (sync) await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(`${path}.tmp`, path);
}

/**
 * Creates `path` and its chain sidecar in the worker (and `binPath` with the first binary chunk);
 * resolves with the store, or undefined when no worker is available. Rejects (with the errno in `code`) when a file cannot be created.
 */
export async function openWorkerStore(path: string, binPath?: string): Promise<BatchStore | undefined> {
  const io = ioThread();
  if (!io) return undefined;
  const id = io.newWriterId();
  await requestOk(io, { op: 'open', id, path, chainPath: path + CHAIN_SUFFIX, ...(binPath !== undefined ? { binPath } : {}) });
  return new WorkerBatchStore(io, id);
}

/** Stops the worker thread (tests: a worker that dies); pending requests fail with EIO. */
export async function stopRecordIoWorker(): Promise<void> {
  await ioThread()?.stop();
}
