/**
 * One recorder per gateway connection. It owns the session directory
 * (recordings/YYYY/MM/DD/<session-id>/), one asciicast per session channel, the audit log
 * (SFTP operations, forwards, notes), the live broadcaster and the session index, which it
 * rewrites (atomically) as channels come and go and signs at `finish()`.
 *
 * The gateway calls it with channel data; every data method is synchronous and only queues.
 * Failures go to `onFailure`; `open` and `openChannel` reject with RecordingError when a
 * file cannot be created, so the gateway can refuse the session or channel with a message.
 */
import { join } from 'node:path';
import type { AsciicastVersion, CastHeader } from './asciicast.js';
import { BINARY_SIDECAR_SCHEME, binaryFileName } from './binary-ref.js';
import { ChainedLineWriter, type ChainedLineWriterOptions, DEFAULT_FLUSH_INTERVAL_MS, type PushResult, type RecordingFs } from './chained-log.js';
import { ChannelRecorder } from './channel-recorder.js';
import { errnoCode, errorMessage, RecordingError, type RecordingFailure } from './failures.js';
import { AUDIT_FILE, channelFileName, INDEX_FILE, sessionDir } from './layout.js';
import { CHAIN_SUFFIX, chainSeed, toHex } from './line-chain.js';
import { LiveBroadcaster } from './live.js';
import { makeDirectory, recordIoWorkerAvailable, replaceFile } from './record-io.js';
import type { RecordingKey } from './recording-key.js';
import {
  type ChannelEntry,
  type FileSeal,
  type ForwardEntry,
  INDEX_FORMAT,
  type SessionIndex,
  type SessionTarget,
  type SessionWho,
  signIndex,
} from './session-index.js';
import { type SftpAuditEvent, SftpAuditor } from './sftp-audit.js';
import { ESCAPE_SCHEME } from './utf8-escape.js';

export interface SessionRecorderOptions {
  readonly root: string;
  readonly sessionId: string;
  readonly who: SessionWho;
  readonly target: SessionTarget;
  readonly key: RecordingKey;
  readonly onFailure: (f: RecordingFailure) => void;
  readonly asciicastVersion?: AsciicastVersion;
  /** Policy `recording: { input: true }`: keystrokes are recorded (they may contain passwords). */
  readonly recordInput?: boolean;
  readonly idleTimeLimit?: number;
  readonly start?: Date;
  /** Monotonic milliseconds; default performance.now. */
  readonly clock?: () => number;
  readonly fs?: RecordingFs;
  readonly writer?: Pick<ChainedLineWriterOptions, 'maxQueuedBytes' | 'highWaterBytes' | 'flushIntervalMs' | 'flushThresholdBytes'>;
  readonly live?: LiveBroadcaster;
}

export interface ChannelOpenRequest {
  readonly kind: 'shell' | 'exec';
  /** pty-req (RFC 4254 section 6.2), absent for pty-less sessions. */
  readonly pty?: { readonly cols: number; readonly rows: number; readonly term: string };
  readonly command?: string;
  /** Client channel id or any caller tag, kept out of the file name. */
  readonly env?: Readonly<Record<string, string>>;
  /** Per-channel override of the session's recordInput (the rule that allowed this channel decides). */
  readonly recordInput?: boolean;
}

export interface ForwardInfo {
  readonly kind: ForwardEntry['kind'];
  readonly originator?: string;
  readonly destination?: string;
}

export interface ForwardTracker {
  toTarget(bytes: number): void;
  toClient(bytes: number): void;
  close(reason?: string): void;
}

export interface SftpChannelAudit {
  readonly channel: number;
  fromClient(chunk: Uint8Array): void;
  fromServer(chunk: Uint8Array): void;
  setExitStatus(status: number): void;
  close(): void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The audit log's figures before its first line. */
function emptyLogStats(seed: Uint8Array): FileSeal {
  return { file: AUDIT_FILE, lines: 0, bytes: 0, chainHead: toHex(seed), droppedLines: 0, droppedBytes: 0 };
}

/** index.json's text. */
function indexText(index: SessionIndex): string {
  return `${JSON.stringify(index, null, 2)}\n`;
}

/** The index of a session from its parts (sorted channels, copies of the mutable entries). */
function sessionIndex(
  opts: SessionRecorderOptions,
  start: string,
  state: 'open' | 'closed',
  end: string | undefined,
  channels: readonly ChannelEntry[],
  forwards: readonly ForwardEntry[],
  audit: Omit<FileSeal, 'file'>,
  failures: readonly RecordingFailure[],
): SessionIndex {
  return {
    format: INDEX_FORMAT,
    sessionId: opts.sessionId,
    state,
    who: opts.who,
    target: opts.target,
    start,
    ...(end !== undefined ? { end } : {}),
    asciicastVersion: opts.asciicastVersion ?? 2,
    inputRecorded: opts.recordInput ?? false,
    channels: [...channels].sort((x, y) => x.channel - y.channel),
    forwards: forwards.map((f) => ({ ...f })),
    audit: { file: AUDIT_FILE, lines: audit.lines, bytes: audit.bytes, chainHead: audit.chainHead, droppedLines: audit.droppedLines, droppedBytes: audit.droppedBytes },
    failures: failures.map((f) => ({ ...f })),
  };
}

export class SessionRecorder {
  private readonly channels = new Map<number, ChannelRecorder>();
  private readonly finished: ChannelEntry[] = [];
  /** Channels whose channel.close audit line was written. */
  private readonly closeAudited = new WeakSet<ChannelRecorder>();
  private readonly sftp = new Map<number, { entry: Mutable<ChannelEntry>; audit: SftpChannelAudit }>();
  private readonly forwards: Mutable<ForwardEntry>[] = [];
  private readonly openForwards = new Set<ForwardTracker>();
  private readonly failures: RecordingFailure[] = [];
  private nextChannel = 0;
  private endIso: string | undefined;
  private finishing: Promise<SessionIndex> | null = null;
  private indexWrite: Promise<void> = Promise.resolve();
  /** Pending rewrite of the open index (channel list changed), null when none is scheduled. */
  private indexTimer: NodeJS.Timeout | null = null;
  readonly live: LiveBroadcaster;
  readonly dir: string;
  private readonly clock: () => number;
  private readonly startIso: string;

  private constructor(
    private readonly opts: SessionRecorderOptions,
    dir: string,
    private readonly auditLog: ChainedLineWriter,
  ) {
    this.dir = dir;
    this.live = opts.live ?? new LiveBroadcaster();
    this.clock = opts.clock ?? (() => performance.now());
    this.startIso = (opts.start ?? new Date()).toISOString();
  }

  static async open(opts: SessionRecorderOptions): Promise<SessionRecorder> {
    const start = opts.start ?? new Date();
    const dir = sessionDir(opts.root, opts.sessionId, start);
    let self: SessionRecorder | undefined;
    const onFailure = (f: RecordingFailure): void => {
      if (self) self.report(f);
      else opts.onFailure(f);
    };
    // A log written on this thread (injected file system, no worker) needs the directory first.
    const here = opts.fs !== undefined || !recordIoWorkerAvailable();
    try {
      // Through the I/O worker, the directory, the audit log and the first index are asked for
      // in the same tick: the worker takes all three in one message, in order (one round trip
      // of session set-up instead of two, issue 7). When the directory fails, so do the files
      // in it, and the directory's error is the one that explains.
      const made = makeDirectory(dir);
      if (here) await made;
      const seed = chainSeed(opts.sessionId, AUDIT_FILE);
      const opening = ChainedLineWriter.create({
        ...opts.writer,
        path: join(dir, AUDIT_FILE),
        seed,
        onFailure,
        ...(opts.fs ? { fs: opts.fs } : {}),
      });
      const first = here ? undefined : sessionIndex(opts, start.toISOString(), 'open', undefined, [], [], emptyLogStats(seed), []);
      const indexed = first ? replaceFile(join(dir, INDEX_FILE), indexText(first), false) : Promise.resolve();
      const [dirDone, auditDone, indexDone] = await Promise.allSettled([made, opening, indexed]);
      const failed = [dirDone, auditDone, indexDone].find((r) => r.status === 'rejected');
      if (failed) {
        if (auditDone.status === 'fulfilled') await auditDone.value.close();
        throw failed.reason;
      }
      if (auditDone.status === 'rejected') throw auditDone.reason;
      self = new SessionRecorder({ ...opts, start }, dir, auditDone.value);
      if (here) await self.writeIndex(undefined, true);
    } catch (e) {
      throw SessionRecorder.startError(dir, e);
    }
    self.audit({ type: 'session.start', who: opts.who, target: opts.target });
    return self;
  }

  private static startError(file: string, e: unknown): RecordingError {
    if (e instanceof RecordingError) return e;
    const code = errnoCode(e);
    return new RecordingError(
      { kind: 'write-failed', file, message: `cannot create recording ${file}: ${errorMessage(e)}`, lostLines: 0, lostBytes: 0, ...(code ? { code } : {}) },
      { cause: e },
    );
  }

  get sessionId(): string {
    return this.opts.sessionId;
  }

  /** Failures seen so far (also delivered to onFailure). */
  get failureCount(): number {
    return this.failures.length;
  }

  private report(f: RecordingFailure): void {
    if (this.failures.length < 100) this.failures.push(f);
    this.opts.onFailure(f);
  }

  /** Starts the asciicast of a shell or exec channel. */
  async openChannel(req: ChannelOpenRequest): Promise<ChannelRecorder> {
    const channel = this.nextChannel++;
    const file = channelFileName(channel);
    const version = this.opts.asciicastVersion ?? 2;
    const t = this.opts.target;
    const header: CastHeader = {
      version,
      width: req.pty?.cols ?? 80,
      height: req.pty?.rows ?? 24,
      timestamp: Math.floor(Date.now() / 1000),
      title: `${t.login}@${t.host} by ${this.opts.who.identity} (${this.opts.sessionId})`,
      ...(req.command !== undefined ? { command: req.command } : {}),
      ...(req.pty ? { term: req.pty.term } : {}),
      ...(req.env ? { env: req.env } : {}),
      ...(this.opts.idleTimeLimit !== undefined ? { idleTimeLimit: this.opts.idleTimeLimit } : {}),
      gatehouse: {
        session: this.opts.sessionId,
        channel,
        invalid_bytes: ESCAPE_SCHEME,
        chain: file + CHAIN_SUFFIX,
        ...(req.pty ? {} : { binary_output: BINARY_SIDECAR_SCHEME, binary_file: binaryFileName(channel) }),
      },
    };
    let writer: ChainedLineWriter;
    try {
      writer = await ChainedLineWriter.create({
        ...this.opts.writer,
        path: join(this.dir, file),
        seed: chainSeed(this.opts.sessionId, file),
        onFailure: (f) => this.report(f),
        ...(this.opts.fs ? { fs: this.opts.fs } : {}),
        ...(req.pty ? {} : { binaryPath: join(this.dir, binaryFileName(channel)) }),
      });
    } catch (e) {
      const err = SessionRecorder.startError(join(this.dir, file), e);
      this.report(err.failure);
      throw err;
    }
    const rec = new ChannelRecorder({
      channel,
      kind: req.kind,
      pty: req.pty !== undefined,
      version,
      header,
      recordInput: req.recordInput ?? this.opts.recordInput ?? false,
      writer,
      clock: this.clock,
      live: this.live,
      ...(req.command !== undefined ? { command: req.command } : {}),
    });
    if (req.command !== undefined) rec.marker(`exec: ${req.command}`);
    this.channels.set(channel, rec);
    this.audit({ type: 'channel.open', channel, kind: req.kind, pty: req.pty !== undefined, file, ...(req.command !== undefined ? { command: req.command } : {}) });
    this.scheduleIndex();
    return rec;
  }

  /** Closes a channel's recording (after exit-status and close were relayed). */
  async closeChannel(rec: ChannelRecorder): Promise<ChannelEntry> {
    const closing = rec.close();
    // The audit line goes now, not after the file's close: the channel's exit and byte counts
    // are final, and the line joins the audit log's next batch (at the end of a session, the
    // one that closes the log in the same round trip as the channel's file).
    if (this.channels.has(rec.channel) && !this.closeAudited.has(rec)) {
      this.closeAudited.add(rec);
      const e = rec.entry();
      this.audit({
        type: 'channel.close',
        channel: e.channel,
        ...(e.exitStatus !== undefined ? { exitStatus: e.exitStatus } : {}),
        ...(e.exitSignal !== undefined ? { exitSignal: e.exitSignal } : {}),
        bytesOut: e.bytesOut,
        bytesIn: e.bytesIn,
      });
    }
    const entry = await closing;
    if (this.channels.delete(rec.channel)) {
      this.finished.push(entry);
      this.scheduleIndex();
    }
    return entry;
  }

  /** An SFTP subsystem channel: packets both ways become audit events. */
  openSftp(): SftpChannelAudit {
    const channel = this.nextChannel++;
    const entry: Mutable<ChannelEntry> = { channel, kind: 'subsystem', subsystem: 'sftp', pty: false, start: new Date().toISOString(), bytesOut: 0, bytesIn: 0 };
    const auditor = new SftpAuditor((e: SftpAuditEvent) => this.audit({ channel, ...e }));
    this.audit({ type: 'channel.open', channel, kind: 'subsystem', subsystem: 'sftp' });
    let closed = false;
    const audit: SftpChannelAudit = {
      channel,
      fromClient: (c) => {
        entry.bytesIn += c.length;
        auditor.fromClient(c);
      },
      fromServer: (c) => {
        entry.bytesOut += c.length;
        auditor.fromServer(c);
      },
      setExitStatus: (s) => {
        entry.exitStatus = s;
      },
      close: () => {
        if (closed) return;
        closed = true;
        auditor.end();
        entry.end = new Date().toISOString();
        this.audit({ type: 'channel.close', channel, bytesOut: entry.bytesOut, bytesIn: entry.bytesIn, ...auditor.totals });
      },
    };
    this.sftp.set(channel, { entry, audit });
    return audit;
  }

  /** A forwarded connection (direct-tcpip from -L/-J, forwarded-tcpip from -R, agent). */
  forward(info: ForwardInfo): ForwardTracker {
    const entry: Mutable<ForwardEntry> = { ...info, start: new Date().toISOString(), bytesToTarget: 0, bytesToClient: 0 };
    if (this.forwards.length < 100_000) this.forwards.push(entry);
    const t0 = this.clock();
    this.audit({ type: 'forward.open', ...info });
    let closed = false;
    const tracker: ForwardTracker = {
      toTarget: (n) => {
        entry.bytesToTarget += n;
      },
      toClient: (n) => {
        entry.bytesToClient += n;
      },
      close: (reason) => {
        if (closed) return;
        closed = true;
        this.openForwards.delete(tracker);
        entry.end = new Date().toISOString();
        this.audit({
          type: 'forward.close',
          ...info,
          durationMs: Math.round(this.clock() - t0),
          bytesToTarget: entry.bytesToTarget,
          bytesToClient: entry.bytesToClient,
          ...(reason !== undefined ? { reason } : {}),
        });
      },
    };
    this.openForwards.add(tracker);
    return tracker;
  }

  /** Appends one event to audit.jsonl (time and session id added). */
  audit(event: { readonly type: string } & Readonly<Record<string, unknown>>): PushResult {
    return this.auditLog.push(JSON.stringify({ time: new Date().toISOString(), session: this.opts.sessionId, ...event }));
  }

  /** Closes everything, writes and signs the index. Idempotent. */
  finish(reason?: string): Promise<SessionIndex> {
    if (!this.finishing) this.finishing = this.doFinish(reason);
    return this.finishing;
  }

  private async doFinish(reason: string | undefined): Promise<SessionIndex> {
    this.cancelIndexRewrite();
    // Every channel's last lines and close, and the audit log's, leave in this tick: the I/O
    // worker takes them as one message (issue 7: a round trip less per channel).
    const closing = [...this.channels.values()].map((rec) => this.closeChannel(rec));
    for (const s of this.sftp.values()) s.audit.close();
    for (const t of [...this.openForwards]) t.close('session ended');
    this.endIso = new Date().toISOString();
    this.audit({ type: 'session.end', ...(reason !== undefined ? { reason } : {}) });
    const auditClosed = this.auditLog.close();
    await Promise.all(closing);
    await auditClosed;
    this.live.publish({ type: 'end' });
    const index = signIndex(this.buildIndex('closed'), this.opts.key);
    await this.writeIndex(index);
    return index;
  }

  private buildIndex(state: 'open' | 'closed'): SessionIndex {
    const channels = [...this.finished, ...[...this.channels.values()].map((c) => c.entry()), ...[...this.sftp.values()].map((s) => ({ ...s.entry }))];
    return sessionIndex(this.opts, this.startIso, state, this.endIso, channels, this.forwards, this.auditLog.stats, this.failures);
  }

  /**
   * Rewrites the open index a little later (the writers' flush interval) instead of at once:
   * the channels that opened and closed meanwhile share one rewrite, and a session that ends
   * before then writes only its signed index. The open index only describes a live session;
   * after a crash, recovery takes the channels from the files on disk (a channel missing
   * from the index is described from its cast header), so the delay loses nothing.
   */
  private scheduleIndex(): void {
    if (this.finishing || this.indexTimer) return;
    this.indexTimer = setTimeout(() => {
      this.indexTimer = null;
      void this.writeIndex(undefined);
    }, this.opts.writer?.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS);
    this.indexTimer.unref();
  }

  private cancelIndexRewrite(): void {
    if (this.indexTimer) clearTimeout(this.indexTimer);
    this.indexTimer = null;
  }

  /** Writes index.json atomically (temp file + rename); serialized so the last write wins. */
  private writeIndex(signed: SessionIndex | undefined, rethrow = false): Promise<void> {
    const next = this.indexWrite.then(async () => {
      // The signed index is on its way: an open one written now would only be overwritten.
      if (!signed && this.finishing && !rethrow) return;
      const index = signed ?? this.buildIndex('open');
      const path = join(this.dir, INDEX_FILE);
      try {
        // temp file, fsync, rename: a reader (or a crash) sees the old or the new index, never half.
        await replaceFile(path, indexText(index), signed !== undefined);
      } catch (e) {
        if (rethrow) throw e;
        const code = errnoCode(e);
        this.report({ kind: 'write-failed', file: path, message: `cannot write ${path}: ${errorMessage(e)}`, lostLines: 0, lostBytes: 0, ...(code ? { code } : {}) });
      }
    });
    this.indexWrite = next.catch(() => undefined);
    return next;
  }
}
