/**
 * An append-only file written with O_DIRECT where the file system takes it: a recording's .cast
 * and .bin (binary-ref.ts), which take every byte of a bulk transfer, are written once and read
 * rarely. Through the page cache each of those bytes was copied into a newly allocated page; in a
 * VM whose free memory is handed back to the host that copy faults every page in again, and a
 * recorded 1 GiB download spent 1.6 s of system time in it on the recording thread (issue 7).
 * Direct writes go from one reused, aligned staging buffer to the device (0.2 s per GiB here) and
 * leave the page cache to the files that are read.
 *
 * O_DIRECT wants the offset, the length and the memory aligned to the device's block. Appends of
 * DIRECT_MIN bytes and more have their whole blocks written directly and their last partial block
 * through a second, ordinary descriptor, so the file always holds every byte appended (a live
 * viewer or a crash sees what a buffered write would have left); the next direct append rewrites
 * that block whole, read back from the page cache (the kernel writes back and drops the cached
 * page before the direct write). Smaller appends go through the ordinary descriptor whole:
 * written directly, a few bytes would cost a synchronous device write. fdatasync of either
 * descriptor syncs the file.
 *
 * Where the file system refuses O_DIRECT (some FUSE and network file systems, tmpfs before Linux
 * 6.6, platforms without it), or a direct write is refused for its alignment, the file is written
 * through the page cache as before, and later files in the process go that way at once.
 *
 * Used by the recording I/O worker only: every call blocks, and one staging buffer serves all
 * files of the thread.
 */
import { closeSync, constants, fdatasyncSync, openSync, readSync, writeSync } from 'node:fs';

/** Alignment used for offsets, lengths and memory: covers logical blocks up to 4 KiB. */
export const DIRECT_BLOCK = 4096;
/**
 * Appends shorter than this go through the page cache (an interactive session's batches); the
 * bulk of a transfer comes in batches of half a MiB and more.
 */
export const DIRECT_MIN = 128 * 1024;
/** Staging buffer: 16 wasm pages (1 MiB) for data plus one for a carried partial block. */
const STAGE_PAGES = 17;

/** How appends reach the file. */
export type AppendMode = 'direct' | 'buffered';

let directRefused = false;
let stage: Buffer | undefined;

/**
 * The staging buffer: wasm memory, which V8 maps on a page boundary (an ordinary Buffer's memory
 * comes from malloc and is only 16-byte aligned). Never grown, so the view stays valid.
 */
function stagingBuffer(): Buffer {
  if (stage) return stage;
  // The project compiles without DOM types, and @types/node 20 does not declare WebAssembly.
  const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer } } }).WebAssembly;
  stage = Buffer.from(new wasm.Memory({ initial: STAGE_PAGES, maximum: STAGE_PAGES }).buffer);
  return stage;
}

function isEinval(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'code' in e && e.code === 'EINVAL';
}

/** Reads `length` bytes at `position` into the start of `buf`; the file ending first is EIO. */
function preadAll(fd: number, buf: Buffer, length: number, position: number): void {
  let at = 0;
  while (at < length) {
    const n = readSync(fd, buf, at, length - at, position + at);
    if (n <= 0) throw Object.assign(new Error('short read of the last block'), { code: 'EIO' });
    at += n;
  }
}

/** Writes all of `data[off..end)` at `position`; a write that makes no progress is EIO. */
function pwriteAll(fd: number, data: Uint8Array, off: number, end: number, position: number): void {
  let at = off;
  while (at < end) {
    const n = writeSync(fd, data, at, end - at, position + (at - off));
    if (n <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
    at += n;
  }
}

export class AppendFile {
  /** Bytes in the file. */
  private size = 0;

  private constructor(
    private fd: number,
    /** The ordinary descriptor (small appends, partial blocks); undefined when `fd` is ordinary. */
    private bufferedFd: number | undefined,
  ) {}

  /**
   * Creates `path` (it must not exist) with `perm` permissions. `direct: false` writes through the
   * page cache from the start.
   */
  static create(path: string, perm: number, direct = true): AppendFile {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
    const odirect = (constants as { O_DIRECT?: number }).O_DIRECT;
    if (direct && !directRefused && odirect !== undefined) {
      let fd: number;
      try {
        fd = openSync(path, flags | odirect, perm);
      } catch (e) {
        if (!isEinval(e)) throw e;
        directRefused = true;
        // Linux checks O_DIRECT after O_CREAT made the file (O_EXCL passed, so it is ours): open
        // it the ordinary way, creating it if the check came first.
        return new AppendFile(openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, perm), undefined);
      }
      try {
        // Read and write: the partial last block is read back before a direct append.
        return new AppendFile(fd, openSync(path, constants.O_RDWR));
      } catch (e) {
        closeSync(fd);
        throw e;
      }
    }
    return new AppendFile(openSync(path, flags, perm), undefined);
  }

  get appendMode(): AppendMode {
    return this.bufferedFd === undefined ? 'buffered' : 'direct';
  }

  get bytes(): number {
    return this.size;
  }

  append(data: Uint8Array): void {
    const bufferedFd = this.bufferedFd;
    if (bufferedFd === undefined || data.length < DIRECT_MIN) {
      // Small appends through the page cache: written directly, a few bytes would cost a device
      // write (and the write-back of the cached partial block).
      pwriteAll(bufferedFd ?? this.fd, data, 0, data.length, this.size);
      this.size += data.length;
    } else this.appendDirect(data, bufferedFd);
  }

  private appendDirect(data: Uint8Array, bufferedFd: number): void {
    const buf = stagingBuffer();
    // The partial last block goes first, read back from the page cache (it was written through
    // the ordinary descriptor); only a full staging buffer leaves data for another round, and
    // that is whole blocks.
    let carried = this.size % DIRECT_BLOCK;
    let start = this.size - carried;
    if (carried > 0) preadAll(bufferedFd, buf, carried, start);
    let from = 0;
    for (;;) {
      const n = Math.min(data.length - from, buf.length - carried);
      buf.set(data.subarray(from, from + n), carried);
      from += n;
      const total = carried + n;
      const whole = total - (total % DIRECT_BLOCK);
      const direct = whole === 0 || this.writeDirect(buf, whole, start, total);
      this.size = start + total;
      if (!direct) {
        // Refused for alignment: everything staged went through the page cache; go on that way.
        if (from < data.length) this.append(data.subarray(from));
        return;
      }
      if (from >= data.length) {
        if (total > whole) pwriteAll(bufferedFd, buf, whole, total, start + whole);
        return;
      }
      carried = 0;
      start += whole;
    }
  }

  /** fdatasync: the file's data and size, whichever descriptor wrote them. */
  sync(): void {
    fdatasyncSync(this.fd);
  }

  close(): void {
    const fds = this.bufferedFd !== undefined ? [this.fd, this.bufferedFd] : [this.fd];
    let first: unknown;
    for (const fd of fds) {
      try {
        closeSync(fd);
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== undefined) throw first;
  }

  /**
   * Writes `buf[0..whole)` at `start` directly; false (after writing `buf[0..total)` through the
   * page cache) if the kernel refuses the direct write for its alignment.
   */
  private writeDirect(buf: Buffer, whole: number, start: number, total: number): boolean {
    try {
      pwriteAll(this.fd, buf, 0, whole, start);
      return true;
    } catch (e) {
      if (!isEinval(e) || this.bufferedFd === undefined) throw e;
      directRefused = true;
      pwriteAll(this.bufferedFd, buf, 0, total, start);
      closeSync(this.fd);
      this.fd = this.bufferedFd;
      this.bufferedFd = undefined;
      return false;
    }
  }
}

/**
 * For tests: forget that a file system refused O_DIRECT, and stage through `buffer` (undefined:
 * the aligned one) — a misaligned one makes the kernel refuse direct writes.
 */
export function resetDirectAppend(buffer?: Buffer): void {
  directRefused = false;
  stage = buffer;
}
