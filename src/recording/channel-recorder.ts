/**
 * Records one session channel (pty shell, pty-less shell, exec) as an asciicast file.
 * The gateway calls these methods with the channel data it relays; all of them are
 * synchronous and only queue (see chained-log.ts), so the relay never waits on the disk.
 */
import {
  type AsciicastVersion,
  type CastEvent,
  type CastEventCode,
  type CastHeader,
  encodeEvent,
  encodeHeader,
  formatResize,
  MAX_BINARY_REF_EVENT_LENGTH,
  maxBinaryEventLength,
  maxTextEventLength,
  writeBinaryEvent,
  writeBinaryRefEvent,
  writeEventHead,
  writeTextEvent,
} from './asciicast.js';
import { BENCHMARK_UNRECORDED_MARKER, isChannelDataRecordingDisabled } from './benchmark-switch.js';
import { BINARY_SIDECAR_SCHEME, binaryFileName } from './binary-ref.js';
import type { ChainedLineStats, ChainedLineWriter, PushResult } from './chained-log.js';
import { jsonStringBodyLength, writeJsonString } from './json-bytes.js';
import type { LiveBroadcaster } from './live.js';
import type { ChannelEntry, ChannelKind } from './session-index.js';
import { completeUtf8Length, isPlainUtf8, StreamingUtf8Decoder } from './utf8-escape.js';

export type OutputStream = 'stdout' | 'stderr';

export type ChannelExit =
  | { readonly type: 'status'; readonly status: number }
  | { readonly type: 'signal'; readonly signal: string; readonly coreDumped?: boolean; readonly message?: string };

export interface ChannelRecorderInit {
  readonly channel: number;
  readonly kind: ChannelKind;
  readonly pty: boolean;
  readonly version: AsciicastVersion;
  readonly header: CastHeader;
  readonly recordInput: boolean;
  readonly writer: ChainedLineWriter;
  /** Milliseconds, monotonic. */
  readonly clock: () => number;
  readonly live?: LiveBroadcaster;
  readonly command?: string;
  readonly subsystem?: string;
}

export class ChannelRecorder {
  private readonly startMs: number;
  private readonly startIso: string;
  private endIso: string | undefined;
  private lastUs = 0;
  /** Time of the last event that reached the queue (v3 intervals are relative to it). */
  private lastWrittenUs = 0;
  private readonly decoders = { stdout: new StreamingUtf8Decoder(), stderr: new StreamingUtf8Decoder(), input: new StreamingUtf8Decoder() };
  private bytesOut = 0;
  private bytesIn = 0;
  private exit: ChannelExit | undefined;
  private gapLines = 0;
  private closed: Promise<ChannelEntry> | null = null;
  /** Bench-only unrecorded gateway (benchmark-switch.ts); always false in the product. */
  private readonly skipData = isChannelDataRecordingDisabled();
  /** Binary chunks go to the writer's .bin (binary-ref.ts) rather than base64 into the cast. */
  private readonly sidecar: boolean;

  constructor(private readonly init: ChannelRecorderInit) {
    this.sidecar = init.header.gatehouse?.binary_output === BINARY_SIDECAR_SCHEME;
    this.startMs = init.clock();
    this.startIso = new Date().toISOString();
    init.writer.push(encodeHeader(init.header));
    init.live?.publish({ type: 'channel-open', channel: init.channel, header: init.header });
    if (this.skipData) this.marker(BENCHMARK_UNRECORDED_MARKER);
  }

  get channel(): number {
    return this.init.channel;
  }

  get file(): string {
    return this.init.writer.path;
  }

  get writerStats(): ChainedLineStats {
    return this.init.writer.stats;
  }

  /** Writes what is queued now (normally the periodic flush does this). Never rejects. */
  flush(): Promise<void> {
    return this.init.writer.flush();
  }

  /** Resolves when the recording queue is below its high-water mark (see ChainedLineWriter). */
  whenDrained(): Promise<void> {
    return this.init.writer.whenDrained();
  }

  /**
   * Target output (stdout, or stderr from extended data type 1, RFC 4254 section 5.2). On a pty
   * it is terminal output and always an `o` event; without a pty a chunk that is binary is a `b`
   * event (see emitOutputOrBinary).
   */
  output(data: Uint8Array, stream: OutputStream = 'stdout'): PushResult {
    this.bytesOut += data.length;
    if (this.skipData || data.length === 0) return 'ok';
    if (!this.init.pty) return this.emitOutputOrBinary(this.decoders[stream], data);
    return this.emitDecoded('o', this.decoders[stream].decodeOrPass(data));
  }

  /** Client input; recorded only when policy enabled input recording (keystrokes hold passwords). */
  input(data: Uint8Array): PushResult {
    this.bytesIn += data.length;
    if (!this.init.recordInput || this.skipData) return 'ok';
    return this.emitDecoded('i', this.decoders.input.decodeOrPass(data));
  }

  /** window-change (RFC 4254 section 6.7). */
  resize(cols: number, rows: number): PushResult {
    return this.emit('r', formatResize(cols, rows));
  }

  /** A marker: exec command, signal sent, policy note. */
  marker(label: string): PushResult {
    return this.emit('m', label);
  }

  /** exit-status / exit-signal (RFC 4254 section 6.10). */
  setExit(exit: ChannelExit): void {
    this.exit = exit;
    if (exit.type === 'status') {
      if (this.init.version === 3) this.emit('x', String(exit.status));
      else this.emit('m', `exit status ${exit.status}`);
    } else {
      this.emit('m', `exit signal ${exit.signal}${exit.coreDumped ? ' (core dumped)' : ''}${exit.message ? `: ${exit.message}` : ''}`);
    }
  }

  /** Flushes decoders, closes the file and returns the index entry. Idempotent. */
  close(): Promise<ChannelEntry> {
    if (!this.closed) this.closed = this.doClose();
    return this.closed;
  }

  private async doClose(): Promise<ChannelEntry> {
    for (const [name, d] of Object.entries(this.decoders)) {
      const rest = d.end();
      if (rest.length > 0) this.emit(name === 'input' ? 'i' : 'o', rest);
    }
    this.endIso = new Date().toISOString();
    await this.init.writer.close();
    this.init.live?.publish({ type: 'channel-close', channel: this.init.channel });
    return this.entry();
  }

  /** The index entry as of now. */
  entry(): ChannelEntry {
    const st = this.init.writer.stats;
    const ex = this.exit;
    return {
      channel: this.init.channel,
      kind: this.init.kind,
      pty: this.init.pty,
      ...(this.init.command !== undefined ? { command: this.init.command } : {}),
      ...(this.init.subsystem !== undefined ? { subsystem: this.init.subsystem } : {}),
      start: this.startIso,
      ...(this.endIso !== undefined ? { end: this.endIso } : {}),
      ...(ex?.type === 'status' ? { exitStatus: ex.status } : {}),
      ...(ex?.type === 'signal' ? { exitSignal: ex.signal } : {}),
      bytesOut: this.bytesOut,
      bytesIn: this.bytesIn,
      recording: {
        file: this.init.writer.path.slice(this.init.writer.path.lastIndexOf('/') + 1),
        lines: st.lines,
        bytes: st.bytes,
        chainHead: st.chainHead,
        droppedLines: st.droppedLines,
        droppedBytes: st.droppedBytes,
        ...(st.binaryFile ? { binary: { file: this.init.header.gatehouse?.binary_file ?? binaryFileName(this.init.channel), chunks: st.binaryChunks, bytes: st.binaryBytes } } : {}),
      },
    };
  }

  /** Valid UTF-8 bytes go straight to JSON bytes (the hot path); anything else as a string. */
  private emitDecoded(code: 'o' | 'i', d: Uint8Array | string): PushResult {
    if (d.length === 0) return 'ok';
    if (typeof d === 'string' || this.gapLines > 0) return this.emit(code, typeof d === 'string' ? d : new TextDecoder().decode(d));
    const us = this.nextTime();
    const { version } = this.init;
    const prev = this.lastWrittenUs;
    const r = this.init.writer.pushEncoded(maxTextEventLength(d.length), (buf, pos) => writeTextEvent(version, us, code, d, prev, buf, pos));
    this.afterPush(r, us);
    this.init.live?.publishBytes(this.init.channel, us, code, d);
    return r;
  }

  /**
   * Output of a channel without a pty, which may be a binary download (`ssh host 'cat x.tgz'`).
   * A chunk is an `o` event when its bytes are valid UTF-8 whose JSON string body is at most
   * textBudget(n) long, else a `b` event with the base64 of every byte not yet written
   * (FORMAT.md). Text, colour sequences included, stays readable in any asciicast player, and
   * binary costs 4/3 of its size instead of up to 6x (a NUL byte is "\u0000" in JSON).
   */
  private emitOutputOrBinary(decoder: StreamingUtf8Decoder, chunk: Uint8Array): PushResult {
    const all = decoder.take(chunk);
    const end = completeUtf8Length(all);
    const text = all.subarray(0, end);
    const isText = isPlainUtf8(text);
    if (isText && end === 0) {
      // Only the start of a character split across packets: wait for the rest.
      decoder.hold(all);
      return 'ok';
    }
    if (this.gapLines > 0) {
      // Rare (after the queue overflowed): the string path writes the gap marker first.
      if (isText && jsonStringBodyLength(text) <= textBudget(end)) {
        decoder.hold(all.subarray(end));
        return this.emit('o', new TextDecoder().decode(text));
      }
      if (!this.sidecar) return this.emit('b', Buffer.from(all.buffer, all.byteOffset, all.byteLength).toString('base64'), all);
    }
    const us = this.nextTime();
    // After a gap, the marker goes first when it fits with the chunk (as in emit).
    if (this.gapLines > 0) this.writeGapMarker(us, MAX_BINARY_REF_EVENT_LENGTH + all.length);
    const { version } = this.init;
    const prev = this.lastWrittenUs;
    let r: PushResult | undefined;
    if (isText) {
      const budget = textBudget(end);
      r = this.init.writer.tryPushEncoded(maxTextEventLength(end), (buf, pos) => {
        const body = writeEventHead(version, us, 'o', prev, buf, pos);
        const q = writeJsonString(text, 0, end, buf, body, TEXT_GROWTH);
        if (q === -1 || q - body - 2 > budget) return -1;
        buf[q] = 0x5d;
        return q + 1;
      });
      if (r !== undefined) {
        decoder.hold(all.subarray(end));
        this.afterPush(r, us);
        this.init.live?.publishBytes(this.init.channel, us, 'o', text);
        return r;
      }
    }
    r = this.sidecar
      ? this.init.writer.pushBinary(all, MAX_BINARY_REF_EVENT_LENGTH, (buf, pos, offset) => writeBinaryRefEvent(version, us, offset, all.length, prev, buf, pos))
      : this.init.writer.pushEncoded(maxBinaryEventLength(all.length), (buf, pos) => writeBinaryEvent(version, us, all, prev, buf, pos));
    this.afterPush(r, us);
    this.init.live?.publishBytes(this.init.channel, us, 'o', all);
    return r;
  }

  /** After dropped events, the marker that says so (if `next` more bytes would fit with it); whether it was written. */
  private writeGapMarker(us: number, next: number): boolean {
    const gap = encodeEvent(this.init.version, { timeUs: us, code: 'm', data: `recording gap: ${this.gapLines} events dropped (queue full)` }, this.lastWrittenUs);
    if (!this.init.writer.hasRoomFor(gap.length + next)) return false;
    this.init.writer.push(gap);
    this.gapLines = 0;
    this.lastWrittenUs = us;
    return true;
  }

  private afterPush(r: PushResult, us: number): void {
    if (r === 'dropped') this.gapLines++;
    else this.lastWrittenUs = us;
  }

  private nextTime(): number {
    let us = Math.round((this.init.clock() - this.startMs) * 1000);
    if (us < this.lastUs) us = this.lastUs;
    this.lastUs = us;
    return us;
  }

  /** An event given as a string (`bytes`: what a live viewer sees of a `b` event, as output). */
  private emit(code: CastEventCode, data: string, bytes?: Uint8Array): PushResult {
    const us = this.nextTime();
    const event: CastEvent = { timeUs: us, code, data };
    const line = encodeEvent(this.init.version, event, this.lastWrittenUs);
    // Say in the recording itself that something is missing here, once there is room for it.
    if (this.gapLines > 0) this.writeGapMarker(us, line.length);
    const r = this.init.writer.push(this.gapLines > 0 ? line : encodeEvent(this.init.version, event, this.lastWrittenUs));
    this.afterPush(r, us);
    if (bytes) this.init.live?.publishBytes(this.init.channel, us, 'o', bytes);
    else this.init.live?.publish({ type: 'event', channel: this.init.channel, event });
    return r;
  }
}

/** Encoding gives up early once the JSON of the bytes read so far is over 2x plus 64 bytes. */
const TEXT_GROWTH = 2;

/**
 * Longest JSON string body for which `n` bytes of valid UTF-8 output are still written as text:
 * twice their size (text with colour sequences is 1.0-1.3x, NUL-padded or control-heavy binary
 * 2.5-6x), or 64 bytes more for short chunks such as a lone "\x1b[0m" (FORMAT.md).
 */
export function textBudget(n: number): number {
  return Math.max(TEXT_GROWTH * n, n + 64);
}

