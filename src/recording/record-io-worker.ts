/**
 * The recording I/O worker thread (see record-io.ts): hashes the lines of each batch into the
 * file's chain, appends them to the file and the chain values to its sidecar, syncs and closes.
 * It keeps the open file descriptors and nothing else; the chain head comes with each batch and
 * goes back with the reply. Files are written with blocking calls: this thread does nothing else.
 */
import { closeSync, fdatasyncSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { chainBatch } from './chain-bytes.js';
import { AppendFile } from './direct-append.js';
import { ensureDirSync } from './layout.js';
import { type CommitStage, type IoError, type IoReply, type IoRequest, type IoRequestMessage, isBatch, RECORD_IO_THREAD_NAME } from './record-io-protocol.js';

interface OpenFiles {
  /** The .cast or log (written directly where it can be: direct-append.ts). */
  readonly file: AppendFile;
  readonly chainFd: number;
  readonly binPath: string | undefined;
  /** The .bin (written directly where it can be: direct-append.ts), once the first binary chunk came. */
  bin: AppendFile | undefined;
}

const files = new Map<number, OpenFiles>();

// A thread may rename itself through /proc on Linux; elsewhere this fails and nothing changes.
try {
  writeFileSync('/proc/thread-self/comm', RECORD_IO_THREAD_NAME);
} catch {
  // not Linux, or /proc not mounted: the thread keeps its inherited name
}

function ioError(e: unknown): IoError {
  const message = e instanceof Error ? e.message : String(e);
  const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
  return code === undefined ? { message } : { message, code };
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) {
    const n = writeSync(fd, data, off, data.length - off);
    if (n <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
    off += n;
  }
}

function notOpen(id: number): Error {
  return Object.assign(new Error(`recording writer ${id} is not open`), { code: 'EBADF' });
}

function handle(m: IoRequest): { reply: IoReply; transfer: ArrayBuffer[] } {
  switch (m.op) {
    case 'open': {
      try {
        const file = AppendFile.create(m.path, 0o640);
        let chainFd: number;
        try {
          chainFd = openSync(m.chainPath, 'ax', 0o640);
        } catch (e) {
          file.close();
          throw e;
        }
        files.set(m.id, { file, chainFd, binPath: m.binPath, bin: undefined });
        return { reply: { req: m.req, ok: true }, transfer: [] };
      } catch (e) {
        return { reply: { req: m.req, ok: false, stage: 'file', error: ioError(e) }, transfer: [] };
      }
    }
    case 'commit': {
      const data = new Uint8Array(m.buf, 0, m.len);
      const blob = m.blob ? new Uint8Array(m.blob, 0, m.blobLen ?? 0) : undefined;
      const back = m.blob ? [m.buf, m.blob] : [m.buf];
      const { head, sidecar } = chainBatch(data, m.ends, m.head, blob && m.refs ? { bytes: blob, refs: m.refs } : undefined);
      let stage: CommitStage = 'binary';
      const f = files.get(m.id);
      try {
        if (!f) throw notOpen(m.id);
        if (blob && blob.length > 0) {
          if (f.bin === undefined) {
            if (f.binPath === undefined) throw Object.assign(new Error('binary chunks for a recording without a .bin file'), { code: 'EINVAL' });
            f.bin = AppendFile.create(f.binPath, 0o640);
          }
          f.bin.append(blob);
        }
        stage = 'file';
        f.file.append(data);
        stage = 'chain';
        writeAll(f.chainFd, sidecar);
      } catch (e) {
        const binCreated = f?.bin !== undefined;
        return { reply: { req: m.req, ok: false, stage, error: ioError(e), buf: m.buf, binCreated, ...(m.blob ? { blob: m.blob } : {}) }, transfer: back };
      }
      return { reply: { req: m.req, ok: true, head: new Uint8Array(head), buf: m.buf, binCreated: f.bin !== undefined, ...(m.blob ? { blob: m.blob } : {}) }, transfer: back };
    }
    case 'sync':
      return { reply: { req: m.req, ok: true, syncErrors: syncAll(files.get(m.id)) }, transfer: [] };
    case 'close': {
      const f = files.get(m.id);
      const syncErrors = m.sync === true ? syncAll(f) : undefined;
      files.delete(m.id);
      const closers = f ? [() => f.file.close(), () => closeSync(f.chainFd), () => f.bin?.close()] : [];
      for (const close of closers) {
        try {
          close();
        } catch {
          // Nothing is lost by a failed close after the sync; the writer is done either way.
        }
      }
      return { reply: { req: m.req, ok: true, ...(syncErrors ? { syncErrors } : {}) }, transfer: [] };
    }
    case 'mkdir':
      return attempt(m.req, () => ensureDirSync(m.path, m.mode));
    case 'replace':
      return attempt(m.req, () => replaceFile(m.path, m.text, m.sync));
  }
}

/** The reply to a request that is one file-system step: ok, or its error. */
function attempt(req: number, step: () => void): { reply: IoReply; transfer: ArrayBuffer[] } {
  try {
    step();
    return { reply: { req, ok: true }, transfer: [] };
  } catch (e) {
    return { reply: { req, ok: false, stage: 'file', error: ioError(e) }, transfer: [] };
  }
}

/** fdatasync of each open file of a writer, each result reported. */
function syncAll(f: OpenFiles | undefined): { file: 'file' | 'chain' | 'binary'; error: IoError | null }[] {
  const open: ['file' | 'chain' | 'binary', () => void][] = f ? [['file', () => f.file.sync()], ['chain', () => fdatasyncSync(f.chainFd)]] : [];
  const bin = f?.bin;
  if (bin !== undefined) open.push(['binary', () => bin.sync()]);
  return open.map(([file, sync]) => {
    try {
      sync();
      return { file, error: null };
    } catch (e) {
      return { file, error: ioError(e) };
    }
  });
}

function replaceFile(path: string, text: string, sync: boolean): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o640);
  try {
    writeAll(fd, Buffer.from(text, 'utf8'));
    if (sync) fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

parentPort?.on('message', (m: IoRequestMessage) => {
  if (!isBatch(m)) {
    const { reply, transfer } = handle(m);
    parentPort?.postMessage(reply, transfer);
    return;
  }
  // In order: a batch can hold a writer's last commit followed by its close.
  const replies: IoReply[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const r of m) {
    const done = handle(r);
    replies.push(done.reply);
    transfer.push(...done.transfer);
  }
  parentPort?.postMessage(replies, transfer);
});
