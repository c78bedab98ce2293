/**
 * The recording I/O worker thread (see record-io.ts): hashes the lines of each batch into the
 * file's chain, appends them to the file and the chain values to its sidecar, syncs and closes.
 * It keeps the open file descriptors and nothing else; the chain head comes with each batch and
 * goes back with the reply. Files are written with blocking calls: this thread does nothing else.
 */
import { createHash } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { CHAIN_LINE_LENGTH, writeChainLine } from './chain-bytes.js';
import type { IoError, IoReply, IoRequest } from './record-io-protocol.js';

interface OpenFiles {
  readonly fd: number;
  readonly chainFd: number;
}

const files = new Map<number, OpenFiles>();

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

function filesOf(id: number): OpenFiles {
  const f = files.get(id);
  if (!f) throw Object.assign(new Error(`recording writer ${id} is not open`), { code: 'EBADF' });
  return f;
}

function handle(m: IoRequest): { reply: IoReply; transfer: ArrayBuffer[] } {
  switch (m.op) {
    case 'open': {
      try {
        const fd = openSync(m.path, 'ax', 0o640);
        let chainFd: number;
        try {
          chainFd = openSync(m.chainPath, 'ax', 0o640);
        } catch (e) {
          closeSync(fd);
          throw e;
        }
        files.set(m.id, { fd, chainFd });
        return { reply: { req: m.req, ok: true }, transfer: [] };
      } catch (e) {
        return { reply: { req: m.req, ok: false, stage: 'file', error: ioError(e) }, transfer: [] };
      }
    }
    case 'commit': {
      const data = new Uint8Array(m.buf, 0, m.len);
      const chainBytes = Buffer.allocUnsafe(m.ends.length * CHAIN_LINE_LENGTH);
      let head = m.head;
      let chainLen = 0;
      let start = 0;
      for (const end of m.ends) {
        head = createHash('sha256').update(head).update(data.subarray(start, end)).digest();
        chainLen = writeChainLine(head, chainBytes, chainLen);
        start = end + 1;
      }
      let stage: 'file' | 'chain' = 'file';
      try {
        const f = filesOf(m.id);
        writeAll(f.fd, data);
        stage = 'chain';
        writeAll(f.chainFd, chainBytes.subarray(0, chainLen));
      } catch (e) {
        return { reply: { req: m.req, ok: false, stage, error: ioError(e), buf: m.buf }, transfer: [m.buf] };
      }
      return { reply: { req: m.req, ok: true, head: new Uint8Array(head), buf: m.buf }, transfer: [m.buf] };
    }
    case 'sync': {
      const f = files.get(m.id);
      const syncErrors = (f ? [f.fd, f.chainFd] : []).map((fd) => {
        try {
          fdatasyncSync(fd);
          return null;
        } catch (e) {
          return ioError(e);
        }
      });
      return { reply: { req: m.req, ok: true, syncErrors }, transfer: [] };
    }
    case 'close': {
      const f = files.get(m.id);
      files.delete(m.id);
      for (const fd of f ? [f.fd, f.chainFd] : []) {
        try {
          closeSync(fd);
        } catch {
          // Nothing is lost by a failed close after the sync; the writer is done either way.
        }
      }
      return { reply: { req: m.req, ok: true }, transfer: [] };
    }
  }
}

parentPort?.on('message', (m: IoRequest) => {
  const { reply, transfer } = handle(m);
  parentPort?.postMessage(reply, transfer);
});
