/**
 * Streaming, bounded framing of SFTP v3 packets (draft-ietf-secsh-filexfer-02, section 3):
 *   uint32 length, byte type, byte[length-1] payload.
 * Data arrives in arbitrary SSH channel chunks. Only a bounded prefix of each payload is kept:
 * bulk payloads (WRITE data, DATA replies, NAME listings) are counted and skipped, never
 * buffered, so memory per direction stays under `maxKeep` whatever the peer sends. A length
 * above `maxPacket` means the stream is not SFTP (or is desynchronised): the framer stops.
 */

/** Packet types, draft-ietf-secsh-filexfer-02 section 3. */
export const FXP = {
  INIT: 1,
  VERSION: 2,
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  LSTAT: 7,
  FSTAT: 8,
  SETSTAT: 9,
  FSETSTAT: 10,
  OPENDIR: 11,
  READDIR: 12,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  REALPATH: 16,
  STAT: 17,
  RENAME: 18,
  READLINK: 19,
  SYMLINK: 20,
  STATUS: 101,
  HANDLE: 102,
  DATA: 103,
  NAME: 104,
  ATTRS: 105,
  EXTENDED: 200,
  EXTENDED_REPLY: 201,
} as const;

export class SftpFramingError extends Error {
  override readonly name = 'SftpFramingError';
}

export interface SftpFrame {
  readonly type: number;
  /** Payload length after the type byte. */
  readonly length: number;
  /** The kept prefix of the payload (all of it unless `truncated`). */
  readonly prefix: Uint8Array;
  readonly truncated: boolean;
}

/** How much of each payload the auditor needs. WRITE: id, handle (<=256), offset, data length. */
function keepFor(type: number, maxKeep: number): number {
  switch (type) {
    case FXP.WRITE:
      return 4 + 4 + 256 + 8 + 4;
    case FXP.DATA:
      return 8;
    case FXP.NAME:
    case FXP.READDIR:
    case FXP.EXTENDED_REPLY:
      return 4;
    default:
      return maxKeep;
  }
}

export interface SftpFramerOptions {
  /** Largest accepted packet (length field). Default 1 MiB (OpenSSH uses at most 256 KiB). */
  readonly maxPacket?: number;
  /** Largest payload prefix kept for parsing. Default 64 KiB (two PATH_MAX paths and attrs). */
  readonly maxKeep?: number;
}

export class SftpFramer {
  private readonly header = new Uint8Array(5);
  private headerFill = 0;
  private type = 0;
  private length = 0;
  private seen = 0;
  private keep: Uint8Array = new Uint8Array(0);
  private keepFill = 0;
  private failed: SftpFramingError | null = null;
  private readonly maxPacket: number;
  private readonly maxKeep: number;

  constructor(
    private readonly onFrame: (f: SftpFrame) => void,
    opts: SftpFramerOptions = {},
  ) {
    this.maxPacket = opts.maxPacket ?? 1024 * 1024;
    this.maxKeep = opts.maxKeep ?? 64 * 1024;
  }

  get error(): SftpFramingError | null {
    return this.failed;
  }

  /** Feeds bytes; throws SftpFramingError once on a bad length, then ignores everything. */
  push(chunk: Uint8Array): void {
    if (this.failed) return;
    let i = 0;
    while (i < chunk.length) {
      if (this.headerFill < 5) {
        const n = Math.min(5 - this.headerFill, chunk.length - i);
        this.header.set(chunk.subarray(i, i + n), this.headerFill);
        this.headerFill += n;
        i += n;
        if (this.headerFill < 5) return;
        const len = ((this.header[0] ?? 0) * 0x1000000 + ((this.header[1] ?? 0) << 16) + ((this.header[2] ?? 0) << 8) + (this.header[3] ?? 0)) >>> 0;
        if (len < 1 || len > this.maxPacket) {
          this.failed = new SftpFramingError(`SFTP packet length ${len} outside 1..${this.maxPacket}`);
          throw this.failed;
        }
        this.type = this.header[4] ?? 0;
        this.length = len - 1;
        this.seen = 0;
        this.keep = new Uint8Array(Math.min(this.length, keepFor(this.type, this.maxKeep)));
        this.keepFill = 0;
        if (this.length === 0) {
          this.emit();
          continue;
        }
      }
      const want = this.length - this.seen;
      const n = Math.min(want, chunk.length - i);
      if (this.keepFill < this.keep.length) {
        const k = Math.min(n, this.keep.length - this.keepFill);
        this.keep.set(chunk.subarray(i, i + k), this.keepFill);
        this.keepFill += k;
      }
      this.seen += n;
      i += n;
      if (this.seen === this.length) this.emit();
    }
  }

  private emit(): void {
    const frame: SftpFrame = { type: this.type, length: this.length, prefix: this.keep, truncated: this.keep.length < this.length };
    this.headerFill = 0;
    this.keep = new Uint8Array(0);
    this.onFrame(frame);
  }
}
