/**
 * Turns an SFTP v3 conversation (draft-ietf-secsh-filexfer-02) into audit events. The gateway
 * feeds client→server bytes to `fromClient` and server→client bytes to `fromServer` as it
 * relays them; requests are matched to responses by id, file handles to the path they opened.
 * Every map is bounded; nothing here can throw into the relay (parse problems become events).
 */
import { SshReader, WireError } from '../wire/index.js';
import { FXP, type SftpFrame, SftpFramer, SftpFramingError } from './sftp-framer.js';

/** Status codes, draft-ietf-secsh-filexfer-02 section 7. */
const STATUS_NAMES: Readonly<Record<number, string>> = {
  0: 'ok',
  1: 'eof',
  2: 'no-such-file',
  3: 'permission-denied',
  4: 'failure',
  5: 'bad-message',
  6: 'no-connection',
  7: 'connection-lost',
  8: 'op-unsupported',
};

/** SSH_FXF_* open flags, section 6.3. */
const PFLAGS: readonly (readonly [number, string])[] = [
  [0x01, 'read'],
  [0x02, 'write'],
  [0x04, 'append'],
  [0x08, 'creat'],
  [0x10, 'trunc'],
  [0x20, 'excl'],
];

export interface SftpStatus {
  readonly code: number;
  readonly name: string;
  readonly message?: string;
}

export interface FileAttrs {
  readonly size?: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly permissions?: string;
  readonly atime?: number;
  readonly mtime?: number;
}

export type SftpAuditOp =
  | 'version'
  | 'open'
  | 'opendir'
  | 'close'
  | 'remove'
  | 'rename'
  | 'link'
  | 'mkdir'
  | 'rmdir'
  | 'setstat'
  | 'fsetstat'
  | 'symlink'
  | 'read-error'
  | 'write-error'
  | 'malformed'
  | 'desync';

export interface SftpAuditEvent {
  readonly type: 'sftp';
  readonly op: SftpAuditOp;
  readonly path?: string;
  readonly target?: string;
  readonly flags?: readonly string[];
  readonly attrs?: FileAttrs;
  readonly version?: number;
  readonly bytesRead?: number;
  readonly bytesWritten?: number;
  /** 'ok', or the failure; 'no-response' when the session ended first. */
  readonly result: 'ok' | 'no-response' | SftpStatus;
  readonly direction?: 'client' | 'server';
  readonly detail?: string;
}

interface Pending {
  readonly op: SftpAuditOp | 'read' | 'write' | 'other';
  readonly path?: string;
  readonly target?: string;
  readonly flags?: readonly string[];
  readonly attrs?: FileAttrs;
  readonly handle?: string;
  readonly writeLength?: number;
}

interface OpenHandle {
  readonly path: string;
  readonly dir: boolean;
  bytesRead: number;
  bytesWritten: number;
}

export interface SftpAuditorOptions {
  readonly maxPending?: number;
  readonly maxHandles?: number;
  readonly maxPacket?: number;
  /** Malformed-packet events after which the auditor stops reporting them individually. */
  readonly maxMalformedEvents?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function text(b: Uint8Array): string {
  return utf8.decode(b);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** ATTRS, section 5. */
function readAttrs(r: SshReader): FileAttrs {
  const flags = r.uint32();
  const a: { -readonly [K in keyof FileAttrs]: FileAttrs[K] } = {};
  if (flags & 0x1) a.size = r.uint64().toString();
  if (flags & 0x2) {
    a.uid = r.uint32();
    a.gid = r.uint32();
  }
  if (flags & 0x4) a.permissions = (r.uint32() & 0o7777).toString(8).padStart(4, '0');
  if (flags & 0x8) {
    a.atime = r.uint32();
    a.mtime = r.uint32();
  }
  if (flags & 0x80000000) {
    const n = r.uint32();
    if (n > 1024) throw new WireError('too many extended attributes');
    for (let i = 0; i < n; i++) {
      r.bytes();
      r.bytes();
    }
  }
  return a;
}

function flagNames(pflags: number): string[] {
  return PFLAGS.filter(([bit]) => pflags & bit).map(([, n]) => n);
}

export class SftpAuditor {
  private readonly pending = new Map<number, Pending>();
  private readonly handles = new Map<string, OpenHandle>();
  private readonly client: SftpFramer;
  private readonly server: SftpFramer;
  private malformed = 0;
  private readonly maxPending: number;
  private readonly maxHandles: number;
  private readonly maxMalformed: number;
  /** Totals over the whole subsystem channel. */
  readonly totals = { bytesRead: 0, bytesWritten: 0, requests: 0, unmatchedResponses: 0, evictedRequests: 0 };

  constructor(
    private readonly emit: (e: SftpAuditEvent) => void,
    opts: SftpAuditorOptions = {},
  ) {
    this.maxPending = opts.maxPending ?? 4096;
    this.maxHandles = opts.maxHandles ?? 1024;
    this.maxMalformed = opts.maxMalformedEvents ?? 32;
    const framerOpts = opts.maxPacket !== undefined ? { maxPacket: opts.maxPacket } : {};
    this.client = new SftpFramer((f) => this.guard('client', f, () => this.onRequest(f)), framerOpts);
    this.server = new SftpFramer((f) => this.guard('server', f, () => this.onResponse(f)), framerOpts);
  }

  fromClient(chunk: Uint8Array): void {
    this.feed(this.client, chunk, 'client');
  }

  fromServer(chunk: Uint8Array): void {
    this.feed(this.server, chunk, 'server');
  }

  /** The channel closed: report requests that never got an answer and handles left open. */
  end(): void {
    for (const p of this.pending.values()) {
      if (p.op !== 'read' && p.op !== 'write' && p.op !== 'other') this.emitFor(p, 'no-response');
    }
    this.pending.clear();
    for (const h of this.handles.values()) this.emitClose(h, 'no-response');
    this.handles.clear();
  }

  private feed(framer: SftpFramer, chunk: Uint8Array, direction: 'client' | 'server'): void {
    try {
      framer.push(chunk);
    } catch (e) {
      if (!(e instanceof SftpFramingError)) throw e;
      this.emit({ type: 'sftp', op: 'desync', direction, result: 'ok', detail: `${e.message}; no further SFTP events from this direction` });
    }
  }

  private guard(direction: 'client' | 'server', f: SftpFrame, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.malformed++;
      if (this.malformed <= this.maxMalformed) {
        this.emit({ type: 'sftp', op: 'malformed', direction, result: 'ok', detail: `packet type ${f.type}: ${e.message}` });
      }
    }
  }

  private remember(id: number, p: Pending): void {
    this.totals.requests++;
    if (this.pending.size >= this.maxPending) {
      const oldest = this.pending.keys().next();
      if (!oldest.done) this.pending.delete(oldest.value);
      this.totals.evictedRequests++;
    }
    this.pending.set(id, p);
  }

  private onRequest(f: SftpFrame): void {
    const r = new SshReader(f.prefix);
    if (f.type === FXP.INIT) return;
    const id = r.uint32();
    const path = (): string => text(r.bytes(f.prefix.length));
    const handle = (): string => hex(r.bytes(256));
    switch (f.type) {
      case FXP.OPEN: {
        const p = path();
        const flags = flagNames(r.uint32());
        this.remember(id, { op: 'open', path: p, flags, attrs: readAttrs(r) });
        return;
      }
      case FXP.OPENDIR:
        this.remember(id, { op: 'opendir', path: path() });
        return;
      case FXP.CLOSE:
        this.remember(id, { op: 'close', handle: handle() });
        return;
      case FXP.READ:
        this.remember(id, { op: 'read', handle: handle() });
        return;
      case FXP.WRITE: {
        const h = handle();
        r.uint64();
        this.remember(id, { op: 'write', handle: h, writeLength: r.uint32() });
        return;
      }
      case FXP.REMOVE:
      case FXP.RMDIR:
        this.remember(id, { op: f.type === FXP.REMOVE ? 'remove' : 'rmdir', path: path() });
        return;
      case FXP.MKDIR:
      case FXP.SETSTAT: {
        const p = path();
        this.remember(id, { op: f.type === FXP.MKDIR ? 'mkdir' : 'setstat', path: p, attrs: readAttrs(r) });
        return;
      }
      case FXP.FSETSTAT: {
        const h = handle();
        this.remember(id, { op: 'fsetstat', handle: h, attrs: readAttrs(r) });
        return;
      }
      case FXP.RENAME: {
        const from = path();
        this.remember(id, { op: 'rename', path: from, target: path() });
        return;
      }
      case FXP.SYMLINK: {
        // OpenSSH sends (targetpath, linkpath), the reverse of the draft (OpenSSH PROTOCOL 4.1).
        // We follow OpenSSH: `target` is what the link points to, `path` is the link created.
        const target = path();
        this.remember(id, { op: 'symlink', path: path(), target });
        return;
      }
      case FXP.EXTENDED: {
        const name = text(r.bytes(256));
        if (name === 'posix-rename@openssh.com') {
          const from = path();
          this.remember(id, { op: 'rename', path: from, target: path(), flags: ['posix'] });
        } else if (name === 'hardlink@openssh.com') {
          const target = path();
          this.remember(id, { op: 'link', target, path: path() });
        } else this.remember(id, { op: 'other' });
        return;
      }
      default:
        this.remember(id, { op: 'other' });
    }
  }

  private onResponse(f: SftpFrame): void {
    const r = new SshReader(f.prefix);
    if (f.type === FXP.VERSION) {
      this.emit({ type: 'sftp', op: 'version', version: r.uint32(), result: 'ok' });
      return;
    }
    const id = r.uint32();
    const p = this.pending.get(id);
    if (!p) {
      this.totals.unmatchedResponses++;
      return;
    }
    this.pending.delete(id);
    switch (f.type) {
      case FXP.STATUS: {
        const code = r.uint32();
        const message = r.remaining >= 4 ? text(r.bytes(1024)) : '';
        const status: SftpStatus = { code, name: STATUS_NAMES[code] ?? `status-${code}`, ...(message ? { message } : {}) };
        this.onStatus(p, code === 0 ? 'ok' : status);
        return;
      }
      case FXP.HANDLE: {
        const h = hex(r.bytes(256));
        if ((p.op === 'open' || p.op === 'opendir') && p.path !== undefined) {
          if (this.handles.size < this.maxHandles) this.handles.set(h, { path: p.path, dir: p.op === 'opendir', bytesRead: 0, bytesWritten: 0 });
          this.emitFor(p, 'ok');
        }
        return;
      }
      case FXP.DATA: {
        const n = r.uint32();
        if (p.op === 'read' && p.handle !== undefined) {
          const h = this.handles.get(p.handle);
          if (h) h.bytesRead += n;
          this.totals.bytesRead += n;
        }
        return;
      }
      default:
        return;
    }
  }

  private onStatus(p: Pending, result: 'ok' | SftpStatus): void {
    const h = p.handle !== undefined ? this.handles.get(p.handle) : undefined;
    switch (p.op) {
      case 'write':
        if (result === 'ok') {
          const n = p.writeLength ?? 0;
          if (h) h.bytesWritten += n;
          this.totals.bytesWritten += n;
        } else this.emit({ type: 'sftp', op: 'write-error', ...(h ? { path: h.path } : {}), result });
        return;
      case 'read':
        if (result !== 'ok' && result.code !== 1) this.emit({ type: 'sftp', op: 'read-error', ...(h ? { path: h.path } : {}), result });
        return;
      case 'close':
        if (h && p.handle !== undefined) {
          this.handles.delete(p.handle);
          this.emitClose(h, result);
        }
        return;
      case 'other':
        return;
      case 'fsetstat':
        this.emitFor({ ...p, ...(h ? { path: h.path } : {}) }, result);
        return;
      default:
        this.emitFor(p, result);
    }
  }

  private emitClose(h: OpenHandle, result: SftpAuditEvent['result']): void {
    if (h.dir) return;
    this.emit({ type: 'sftp', op: 'close', path: h.path, bytesRead: h.bytesRead, bytesWritten: h.bytesWritten, result });
  }

  private emitFor(p: Pending, result: SftpAuditEvent['result']): void {
    if (p.op === 'read' || p.op === 'write' || p.op === 'other') return;
    this.emit({
      type: 'sftp',
      op: p.op,
      ...(p.path !== undefined ? { path: p.path } : {}),
      ...(p.target !== undefined ? { target: p.target } : {}),
      ...(p.flags !== undefined ? { flags: p.flags } : {}),
      ...(p.attrs !== undefined && Object.keys(p.attrs).length > 0 ? { attrs: p.attrs } : {}),
      result,
    });
  }
}
