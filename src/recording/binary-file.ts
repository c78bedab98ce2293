/**
 * Reads byte ranges of a channel's binary sidecar (channel-N.bin, `binary_output: "b-sidecar"`,
 * FORMAT.md) for replay and verify. A .bin can be far larger than memory, so it is read through
 * one fixed window with a file handle, never whole; the `b` events of a cast refer to
 * consecutive ranges, so a window read ahead serves many small events with one read.
 */
import { type FileHandle, open } from 'node:fs/promises';

/** A .bin that is missing or shorter than the events referring to it; the message names the file. */
export class BinaryFileError extends Error {
  override readonly name = 'BinaryFileError';
  constructor(
    readonly file: string,
    readonly reason: 'missing' | 'short',
    message: string,
  ) {
    super(message);
  }
}

/** Default read window: large enough for few reads per MiB, small enough to be irrelevant to memory. */
export const BINARY_READ_WINDOW = 1024 * 1024;

export class BinaryFileReader {
  /** The name used in messages: the path unless told otherwise (verify names the bare file). */
  readonly name: string;
  private fh: FileHandle | undefined;
  private closed = false;
  private readonly window: Buffer;
  private windowStart = 0;
  private windowLength = 0;

  constructor(
    readonly path: string,
    opts: { readonly name?: string; readonly windowBytes?: number } = {},
  ) {
    this.name = opts.name ?? path;
    this.window = Buffer.allocUnsafe(Math.max(1, opts.windowBytes ?? BINARY_READ_WINDOW));
  }

  private async handle(): Promise<FileHandle> {
    if (this.closed) throw new Error(`${this.name}: reader is closed`);
    if (!this.fh) {
      try {
        this.fh = await open(this.path, 'r');
      } catch (e) {
        const code = e instanceof Error && 'code' in e ? String(e.code) : '';
        if (code === 'ENOENT') throw new BinaryFileError(this.name, 'missing', `${this.name} is missing (it holds the bytes of the cast's binary (b) events)`);
        throw new BinaryFileError(this.name, 'missing', `${this.name} cannot be opened: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return this.fh;
  }

  /** Size of the file on disk (opens it; BinaryFileError when it is missing). */
  async size(): Promise<number> {
    return (await (await this.handle()).stat()).size;
  }

  /** Fills the window from `pos`; returns how many bytes it now holds (0 at the end of the file). */
  private async fill(pos: number): Promise<number> {
    const fh = await this.handle();
    let got = 0;
    while (got < this.window.length) {
      const { bytesRead } = await fh.read(this.window, got, this.window.length - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.windowStart = pos;
    this.windowLength = got;
    return got;
  }

  /**
   * The bytes offset..offset+length in pieces of at most one window. Each piece is a view of
   * the window, valid only until the next piece is asked for: copy it to keep it. Throws
   * BinaryFileError when the file is missing or ends before offset+length.
   */
  async *range(offset: number, length: number): AsyncGenerator<Uint8Array, void, undefined> {
    const end = offset + length;
    let pos = offset;
    while (pos < end) {
      const inWindow = pos >= this.windowStart && pos < this.windowStart + this.windowLength;
      if (!inWindow && (await this.fill(pos)) === 0) {
        throw new BinaryFileError(this.name, 'short', `${this.name} ends at byte ${pos}, before the end (${end}) of bytes ${offset}..${end} that a binary (b) event refers to`);
      }
      const from = pos - this.windowStart;
      const n = Math.min(end - pos, this.windowLength - from);
      yield this.window.subarray(from, from + n);
      pos += n;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}
