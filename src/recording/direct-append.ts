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
 * through the ordinary descriptor, so the file always holds every byte appended (a live viewer or
 * a crash sees what a buffered write would have left); the next direct append rewrites that block
 * whole, read back from the page cache (the kernel writes back and drops the cached page before
 * the direct write). Smaller appends go through the ordinary descriptor whole: written directly,
 * a few bytes would cost a synchronous device write. The file is created with the ordinary
 * descriptor only; the direct one is opened (the same file again, through /proc/self/fd) at the
 * first direct append, so the files of a session that stays small (most: an audit log, a short
 * command's cast) cost one descriptor each, not two, and two system calls less to open and close.
 * fdatasync of either descriptor syncs the file.
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

/** Linux's O_DIRECT; undefined where the platform has none. */
function odirectFlag(): number | undefined {
  return (constants as { O_DIRECT?: number }).O_DIRECT;
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
  /** The O_DIRECT descriptor, once a direct append opened it. */
  private directFd: number | undefined;

  private constructor(
    /** The ordinary descriptor, read and write: small appends, partial blocks, fdatasync. */
    private readonly fd: number,
    private readonly path: string,
    /** 'pending': direct appends will be tried; 'off': everything goes through the page cache. */
    private direct: 'pending' | 'off',
  ) {}

  /**
   * Creates `path` (it must not exist) with `perm` permissions. `direct: false` writes through the
   * page cache from the start.
   */
  static create(path: string, perm: number, direct = true): AppendFile {
    const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, perm);
    const takesDirect = direct && !directRefused && odirectFlag() !== undefined;
    return new AppendFile(fd, path, takesDirect ? 'pending' : 'off');
  }

  get appendMode(): AppendMode {
    return this.direct === 'off' ? 'buffered' : 'direct';
  }

  get bytes(): number {
    return this.size;
  }

  /** Descriptors this file holds open (1, or 2 once a direct append opened the direct one). */
  get descriptors(): number {
    return this.directFd === undefined ? 1 : 2;
  }

  append(data: Uint8Array): void {
    const directFd = this.direct === 'off' || data.length < DIRECT_MIN ? undefined : this.openDirect();
    if (directFd === undefined) {
      // Small appends through the page cache: written directly, a few bytes would cost a device
      // write (and the write-back of the cached partial block).
      pwriteAll(this.fd, data, 0, data.length, this.size);
      this.size += data.length;
    } else this.appendDirect(data, directFd);
  }

  /**
   * The direct descriptor, opened on first use; undefined (and appends buffered from then on)
   * when the file system refuses O_DIRECT or the file cannot be opened again.
   */
  private openDirect(): number | undefined {
    if (this.directFd !== undefined) return this.directFd;
    const flags = constants.O_WRONLY | (odirectFlag() ?? 0);
    // /proc/self/fd/N is the very file this descriptor has open, whatever became of its name.
    for (const path of [`/proc/self/fd/${this.fd}`, this.path]) {
      try {
        this.directFd = openSync(path, flags);
        return this.directFd;
      } catch (e) {
        if (isEinval(e)) {
          directRefused = true;
          break;
        }
        // Without /proc (ENOENT) the path is tried next; when neither opens, this file alone goes
        // on through the page cache.
      }
    }
    this.direct = 'off';
    return undefined;
  }

  private appendDirect(data: Uint8Array, directFd: number): void {
    const buf = stagingBuffer();
    // The partial last block goes first, read back from the page cache (it was written through
    // the ordinary descriptor); only a full staging buffer leaves data for another round, and
    // that is whole blocks.
    let carried = this.size % DIRECT_BLOCK;
    let start = this.size - carried;
    if (carried > 0) preadAll(this.fd, buf, carried, start);
    let from = 0;
    for (;;) {
      const n = Math.min(data.length - from, buf.length - carried);
      buf.set(data.subarray(from, from + n), carried);
      from += n;
      const total = carried + n;
      const whole = total - (total % DIRECT_BLOCK);
      const direct = whole === 0 || this.writeDirect(directFd, buf, whole, start, total);
      this.size = start + total;
      if (!direct) {
        // Refused for alignment: everything staged went through the page cache; go on that way.
        if (from < data.length) this.append(data.subarray(from));
        return;
      }
      if (from >= data.length) {
        if (total > whole) pwriteAll(this.fd, buf, whole, total, start + whole);
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
    const fds = this.directFd !== undefined ? [this.directFd, this.fd] : [this.fd];
    this.directFd = undefined;
    this.direct = 'off';
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
  private writeDirect(directFd: number, buf: Buffer, whole: number, start: number, total: number): boolean {
    try {
      pwriteAll(directFd, buf, 0, whole, start);
      return true;
    } catch (e) {
      if (!isEinval(e)) throw e;
      directRefused = true;
      pwriteAll(this.fd, buf, 0, total, start);
      this.directFd = undefined;
      this.direct = 'off';
      closeSync(directFd);
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
