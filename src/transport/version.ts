/**
 * Protocol version exchange (RFC 4253 §4.2). The identification line is
 * "SSH-protoversion-softwareversion SP comments CR LF", at most 255 bytes including CR LF.
 * A server may send other lines first (a client must accept them); a client must not, so on
 * the server side the first line must be the version. Lines ending in bare LF are accepted
 * (RFC 4253 §4.2 allows it for compatibility with older versions).
 */
import { DisconnectReason, SshProtocolError } from '../wire/index.js';

export const MAX_VERSION_LINE = 255;
/** Bytes the client accepts before the server's version line (bounded memory, OpenSSH allows 1024 lines). */
/** Longest pre-version (banner) line accepted. */
export const MAX_BANNER_LINE = 1024;
export const MAX_BANNER_BYTES = 64 * 1024;

export type VersionResult = { done: false } | { done: true; version: string; rest: Uint8Array };

export class VersionReader {
  private pending = new Uint8Array(0);
  private lines = 0;
  private bytes = 0;

  constructor(
    private readonly acceptBanner: boolean,
    private readonly maxBannerLines: number,
  ) {}

  /** Feeds bytes; returns the peer's version line (without CR LF) once complete. Throws SshProtocolError. */
  push(chunk: Uint8Array): VersionResult {
    let buf = this.pending.length === 0 ? chunk : concat(this.pending, chunk);
    for (;;) {
      const nl = buf.indexOf(0x0a);
      if (nl === -1) {
        // a line with no LF yet: bounded by the longest line we would accept
        if (buf.length > (this.acceptBanner ? MAX_BANNER_LINE : MAX_VERSION_LINE)) throw versionError('identification line too long');
        this.pending = buf.slice();
        return { done: false };
      }
      const lineLen = nl + 1;
      this.bytes += lineLen;
      const end = nl > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl;
      const line = buf.subarray(0, end);
      const rest = buf.subarray(lineLen);
      if (startsWithSsh(line)) {
        if (lineLen > MAX_VERSION_LINE) throw versionError('identification line too long');
        return { done: true, version: checkVersion(line), rest: rest.slice() };
      }
      if (!this.acceptBanner) throw versionError('expected an SSH identification line');
      this.lines++;
      if (this.lines > this.maxBannerLines || this.bytes > MAX_BANNER_BYTES) {
        throw versionError('too many lines before the identification line');
      }
      if (lineLen > MAX_BANNER_LINE) throw versionError('pre-identification line too long');
      buf = rest;
    }
  }
}

function startsWithSsh(line: Uint8Array): boolean {
  return line.length >= 4 && line[0] === 0x53 && line[1] === 0x53 && line[2] === 0x48 && line[3] === 0x2d;
}

function checkVersion(line: Uint8Array): string {
  let s = '';
  for (const c of line) {
    // US-ASCII printable characters and space only (RFC 4253 §4.2); no NUL
    if (c < 0x20 || c > 0x7e) throw versionError('identification line has a non-printable byte');
    s += String.fromCharCode(c);
  }
  if (!s.startsWith('SSH-2.0-') && !s.startsWith('SSH-1.99-')) {
    throw new SshProtocolError(DisconnectReason.PROTOCOL_VERSION_NOT_SUPPORTED, `unsupported protocol version: ${s.slice(0, 40)}`);
  }
  const software = s.slice(s.indexOf('-', 4) + 1).split(' ')[0] ?? '';
  if (software === '') throw versionError('identification line has no software version');
  return s;
}

function versionError(msg: string): SshProtocolError {
  return new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, msg);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Our identification line, with CR LF. */
export function versionLine(softwareVersion: string): { version: string; bytes: Uint8Array } {
  if (!/^[\x21-\x2c\x2e-\x7e]+$/.test(softwareVersion)) throw new Error('softwareVersion must be printable ASCII without spaces or dashes');
  const version = `SSH-2.0-${softwareVersion}`;
  if (version.length + 2 > MAX_VERSION_LINE) throw new Error('softwareVersion too long');
  return { version, bytes: new TextEncoder().encode(`${version}\r\n`) };
}
