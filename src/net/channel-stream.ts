/**
 * One SSH channel as a Node Duplex stream, with backpressure that IS the SSH window
 * (RFC 4254 §5.2):
 *  - incoming data is pushed into the readable side; the window is credited back to the peer
 *    only for bytes the consumer has actually taken out of our buffers, so a consumer that
 *    stops reading stops the peer after at most one window of data, on this channel only;
 *  - outgoing data is sent only as far as the peer's window (and our socket) allows; the write
 *    callback is held until it all went out, so Writable's own highWaterMark bounds the rest.
 * Extended data (stderr, type 1) is a second Readable (`stderr`) and a second Writable
 * (`stderrOut`) sharing the same windows.
 */
import { Duplex, Readable, Writable } from 'node:stream';
import type { ChannelOpen } from '../connection/channel-opens.js';
import type { ChannelRequest } from '../connection/channel-requests.js';

/** What a channel stream needs from the connection it lives on (implemented in connection-driver.ts). */
export interface ChannelPort {
  /** Bytes the peer's window allows us to send right now. */
  remoteWindow(): number;
  /** The peer's maximum packet size for data (payload bytes per CHANNEL_DATA). */
  remoteMaxPacket(): number;
  /** False while the socket is backpressured; `wake()` is called when it drains. */
  canSend(): boolean;
  /** Sends CHANNEL_DATA (or EXTENDED_DATA type 1 with stderr); never more than remoteWindow(). */
  sendData(data: Uint8Array, stderr: boolean): void;
  sendEof(): void;
  sendClose(): void;
  /** The consumer took `n` more bytes out of our buffers: the window may be re-credited. */
  consumed(n: number): void;
  /** Sends a channel request; with wantReply resolves with the peer's answer, else true at once. */
  request(request: ChannelRequest, wantReply: boolean): Promise<boolean>;
}

/** How a command ended, as exit-status or exit-signal (RFC 4254 §6.10) tell it. */
export type ChannelExit = { readonly status: number } | { readonly signal: string };

/** Decides an incoming channel request (pty-req, exec, window-change, ...): true = success. */
export type ChannelRequestHandler = (request: ChannelRequest) => boolean | Promise<boolean>;

interface PendingWrite {
  data: Uint8Array;
  stderr: boolean;
  callback: (error?: Error | null) => void;
}

export class SshChannel extends Duplex {
  /** Incoming extended data (stderr). */
  readonly stderr: Readable;
  /** Outgoing extended data (stderr), e.g. for a server-side exec. */
  readonly stderrOut: Writable;
  /** Exit status from the peer's exit-status request, once known. */
  exitStatus: number | null = null;
  /** Signal name from the peer's exit-signal request, once known. */
  exitSignal: string | null = null;
  /**
   * Decides requests the peer sends on this channel. Without one, every request that wants a
   * reply is refused (never left unanswered). exit-status, exit-signal and eow@openssh.com are
   * recorded here first and also emitted as 'exit' / 'request' events.
   */
  requestHandler: ChannelRequestHandler | null = null;
  /** What kind of channel this is (set by the connection when it opens). */
  open: ChannelOpen = { type: 'session' };
  /** Why the channel ended abnormally (the connection died), if it did. */
  closeError: Error | null = null;

  private port: ChannelPort | null;
  private pushedOut = 0;
  private pushedErr = 0;
  private credited = 0;
  private readonly pending: PendingWrite[] = [];
  private eofSent = false;
  private channelClosed = false;
  private remoteEof = false;
  private closing = false;
  private exitOnFinish: ChannelExit | undefined;
  private exitSent = false;

  constructor(
    readonly localId: number,
    port: ChannelPort,
    /** Readable highWaterMark; the real bound on buffered input is our window size. */
    highWaterMark = 64 * 1024,
    /**
     * For channels we opened: do not send CHANNEL_CLOSE merely because both directions ended;
     * wait for the peer's CLOSE. A server (sshd) may send exit-status after its EOF, and an
     * early CLOSE from us would lose it (ssh -J then saw "Exit status -1" now and then).
     */
    private readonly waitForPeerClose = false,
  ) {
    super({ allowHalfOpen: true, autoDestroy: !waitForPeerClose, readableHighWaterMark: highWaterMark, writableHighWaterMark: highWaterMark });
    this.port = port;
    this.stderr = new CreditingReadable(highWaterMark, () => this.credit());
    this.stderrOut = new Writable({
      highWaterMark,
      write: (chunk: Buffer, _enc, cb) => this.enqueue(chunk, true, cb),
      final: (cb) => cb(),
    });
    // The peer decides when a channel ends, so a write can always race its CHANNEL_CLOSE. Such a
    // write fails through its callback; as an 'error' event with no listener it would instead
    // be an uncaught exception that ends the whole process, for every connection on it.
    this.on('error', ignoreError);
    this.stderrOut.on('error', ignoreError);
  }

  // ---- input side: called by the connection driver ----

  /** CHANNEL_DATA / EXTENDED_DATA(1) arrived (the connection machine has checked the window). */
  onData(data: Uint8Array, stderr: boolean): void {
    if (this.channelClosed) return;
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (stderr) {
      this.pushedErr += data.length;
      this.stderr.push(buf);
    } else {
      this.pushedOut += data.length;
      this.push(buf);
    }
    // In flowing mode the bytes may already have been handed to a 'data' listener.
    this.credit();
  }

  /** CHANNEL_EOF arrived. */
  onEof(): void {
    if (this.remoteEof) return;
    this.remoteEof = true;
    this.push(null);
    this.stderr.push(null);
  }

  /** The peer's window grew, or the socket drained: try to send what is waiting. */
  wake(): void {
    this.flush();
  }

  /**
   * CHANNEL_CLOSE arrived (the connection machine answers it), or the connection ended (with
   * `error`). Readers still get what is buffered, then 'end'; writes still pending fail.
   */
  onClose(error?: Error): void {
    if (this.channelClosed) return;
    this.channelClosed = true;
    this.port = null;
    this.onEof();
    if (error !== undefined) {
      // Connection lost. No 'error' event: it would crash a process for every channel whose
      // owner did not listen for one. The stream is destroyed (readers see a premature close),
      // pending write callbacks fail quietly, and the reason stays in closeError.
      this.closeError = error;
      this.destroy();
      return;
    }
    // The peer closed: what it sent stays readable. Writes still queued can never be delivered;
    // they are dropped, as a socket drops writes after the peer reset.
    for (const p of this.pending.splice(0)) p.callback();
    if (!this.writableEnded) this.end();
    if (!this.stderrOut.writableEnded) this.stderrOut.end();
    if (this.waitForPeerClose) {
      // Without autoDestroy, 'close' comes once the reader has taken everything that arrived:
      // stdout, and stderr too when someone reads it (destroying the channel discards what its
      // buffers still hold; a relay paused on a full client window could lose stderr's tail).
      // ('end' itself, not stream.finished: that counts a stream whose EOF sits in an empty
      // buffer as done, and 'close' would then come before any reader was there to see it.)
      const readers: Readable[] = [this];
      if (this.stderr.readableFlowing !== null) readers.push(this.stderr);
      let left = readers.length;
      const one = (): void => {
        if (--left === 0) this.destroy();
      };
      for (const r of readers) whenSettled(r, r.readableEnded, 'end', one);
    }
  }

  /**
   * A request arrived (called by the connection driver). Emits 'request'; answers through
   * requestHandler. Never throws: a failing handler means failure.
   */
  async onRequest(request: ChannelRequest): Promise<boolean> {
    if (request.type === 'exit-status') {
      this.exitStatus = request.status;
      this.emit('exit', request.status, null);
    } else if (request.type === 'exit-signal') {
      this.exitSignal = request.signal;
      this.emit('exit', null, request.signal);
    }
    this.emit('request', request);
    const handler = this.requestHandler;
    if (handler === null) return false;
    try {
      return await handler(request);
    } catch {
      return false;
    }
  }

  /** Sends a channel request (RFC 4254 §6); with wantReply resolves true/false from the peer. */
  request(request: ChannelRequest, wantReply = false): Promise<boolean> {
    if (this.port === null) return Promise.reject(new Error('channel closed'));
    return this.port.request(request, wantReply);
  }

  /** Server side: sends exit-status (RFC 4254 §6.10). Send it before ending the stream. */
  sendExitStatus(status: number): void {
    this.port?.request({ type: 'exit-status', status }, false).catch(() => {});
  }

  /** Server side: sends exit-signal (signal name without "SIG"). */
  sendExitSignal(signal: string, coreDumped = false, message = ''): void {
    this.port?.request({ type: 'exit-signal', signal, coreDumped, message, language: '' }, false).catch(() => {});
  }

  /**
   * Server side: ends the channel the way sshd does when a command ends: exit-status (or
   * exit-signal), EOF after all queued data, then CHANNEL_CLOSE.
   */
  exit(result: ChannelExit): void {
    this.exitSent = true;
    if ('status' in result) this.sendExitStatus(result.status);
    else this.sendExitSignal(result.signal);
    this.closeWhenFlushed();
  }

  /**
   * Ends the channel once everything queued on stdout and stderr has gone out: then `exit`
   * (exit-status or exit-signal) when given, EOF, and CHANNEL_CLOSE. A relay uses this to pass a
   * target's exit status on behind the output still waiting for the client's window, where sshd
   * puts it too. Idempotent; the first `exit` given is the one sent.
   */
  closeWhenFlushed(exit?: ChannelExit): void {
    if (exit !== undefined && this.exitOnFinish === undefined && !this.exitSent) this.exitOnFinish = exit;
    if (this.closing) return;
    this.closing = true;
    // stderr first: its bytes may still sit in stderrOut's own buffer, ahead of our pending queue
    whenSettled(this.stderrOut, this.stderrOut.writableFinished, 'finish', () => {
      // (the exit normally goes out in _final, before EOF; after it when EOF was already sent)
      const finish = (): void => {
        this.sendFinalExit();
        this.destroy();
      };
      if (this.writableFinished) finish();
      else {
        this.once('finish', finish);
        if (!this.writableEnded) this.end();
      }
    });
    if (!this.stderrOut.writableEnded) this.stderrOut.end();
  }

  private sendFinalExit(): void {
    const exit = this.exitOnFinish;
    if (exit === undefined || this.exitSent || this.port === null) return;
    this.exitSent = true;
    if ('status' in exit) this.sendExitStatus(exit.status);
    else this.sendExitSignal(exit.signal);
  }

  /** True after CHANNEL_CLOSE was seen or the connection died. */
  get isClosed(): boolean {
    return this.channelClosed;
  }

  // ---- Duplex plumbing ----

  // Consumption is observed where it happens: read() (which flowing mode and pipe() also go
  // through) and push() into an empty flowing stream (handled in onData). _read alone would
  // only fire once the buffer falls below the highWaterMark.
  // biome-ignore lint/suspicious/noExplicitAny: Readable.read's own signature
  override read(size?: number): any {
    const out: unknown = super.read(size);
    this.credit();
    return out;
  }

  override _read(): void {
    this.credit();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.enqueue(chunk, false, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // EOF may only follow all data (RFC 4254 §5.3); queued writes finished before _final runs,
    // but stderrOut may still hold bytes.
    const send = () => {
      if (!this.eofSent && this.port !== null) {
        this.sendFinalExit();
        this.eofSent = true;
        this.port.sendEof();
      }
      callback();
    };
    if (this.pending.length === 0) send();
    else this.pending.push({ data: new Uint8Array(0), stderr: false, callback: () => send() });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    for (const p of this.pending.splice(0)) p.callback(error ?? new Error('channel destroyed'));
    if (this.port !== null && !this.channelClosed) {
      this.channelClosed = true;
      this.port.sendClose();
    }
    this.port = null;
    if (!this.stderr.destroyed) this.stderr.destroy();
    if (!this.stderrOut.destroyed) this.stderrOut.destroy();
    callback(error);
  }

  private credit(): void {
    if (this.port === null) return;
    const taken = this.pushedOut - this.readableLength + (this.pushedErr - this.stderr.readableLength);
    const n = taken - this.credited;
    if (n > 0) {
      this.credited = taken;
      this.port.consumed(n);
    }
  }

  private enqueue(chunk: Uint8Array, stderr: boolean, callback: (error?: Error | null) => void): void {
    if (this.port === null || this.channelClosed) {
      callback(new Error('channel closed'));
      return;
    }
    this.pending.push({ data: chunk, stderr, callback });
    this.flush();
  }

  private flush(): void {
    const port = this.port;
    if (port === null) return;
    while (this.pending.length > 0) {
      const head = this.pending[0];
      if (head === undefined) break;
      while (head.data.length > 0) {
        if (!port.canSend()) return;
        const n = Math.min(head.data.length, port.remoteWindow(), port.remoteMaxPacket());
        if (n <= 0) return;
        port.sendData(head.data.subarray(0, n), head.stderr);
        head.data = head.data.subarray(n);
        if (this.port === null) return; // sending may have failed and torn us down
      }
      this.pending.shift();
      head.callback();
    }
  }
}

function ignoreError(): void {}

/**
 * Calls `done` once: at once when `settled`, else at the stream's first `event` ('end' of a
 * Readable, 'finish' of a Writable) or 'close' (destroyed without it).
 */
function whenSettled(stream: Readable | Writable, settled: boolean, event: 'end' | 'finish', done: () => void): void {
  if (settled || stream.destroyed) {
    done();
    return;
  }
  let called = false;
  const once = (): void => {
    if (called) return;
    called = true;
    done();
  };
  stream.once(event, once);
  stream.once('close', once);
}

/** A Readable that reports each read() (the moment bytes leave its buffer). */
class CreditingReadable extends Readable {
  constructor(
    highWaterMark: number,
    private readonly onRead: () => void,
  ) {
    super({ highWaterMark });
  }

  // biome-ignore lint/suspicious/noExplicitAny: Readable.read's own signature
  override read(size?: number): any {
    const out: unknown = super.read(size);
    this.onRead();
    return out;
  }

  override _read(): void {
    this.onRead();
  }
}
