/**
 * asciicast v2 and v3 line encoding (https://docs.asciinema.org/manual/asciicast/v2/ and /v3/).
 *
 * v2: header `{"version":2,"width","height",...,"env":{"TERM"}}`, events `[time, code, data]`
 * with `time` in seconds since the start. v3: header `{"version":3,"term":{"cols","rows","type"}}`,
 * events carry the *interval* since the previous event, and `x` (exit status) exists.
 * Times are kept in integer microseconds so v3 intervals add up exactly to v2 absolute times.
 */
import { BINARY_REF_HASH_LENGTH, type BINARY_SIDECAR_SCHEME, binaryRefPrefix } from './binary-ref.js';
import { writeJsonString } from './json-bytes.js';
import type { ESCAPE_SCHEME } from './utf8-escape.js';

export type AsciicastVersion = 2 | 3;

/**
 * `b` is Gatehouse's: binary output of a channel without a pty, as base64 (see BINARY_SCHEME and
 * FORMAT.md). asciinema and its player ignore event codes they do not know.
 */
export type CastEventCode = 'o' | 'i' | 'r' | 'm' | 'x' | 'b';

/** Header value of `gatehouse.binary_output`: output chunks written as `b` events hold base64. */
export const BINARY_SCHEME = 'b-base64';

export interface CastEvent {
  /** Microseconds since the start of the recording. */
  readonly timeUs: number;
  readonly code: CastEventCode;
  readonly data: string;
}

/** Gatehouse's own header key; players ignore unknown keys. */
export interface GatehouseHeaderInfo {
  readonly session: string;
  readonly channel: number;
  /** How bytes that are not valid UTF-8 are written (see utf8-escape.ts). */
  readonly invalid_bytes: typeof ESCAPE_SCHEME;
  /** Sidecar with one SHA-256 chain value per line of this file (see line-chain.ts). */
  readonly chain: string;
  /**
   * Present on channels without a pty: binary output chunks are `b` events (FORMAT.md), whose
   * bytes are in `binary_file` ("b-sidecar") or, in recordings before it, base64 in the event.
   */
  readonly binary_output?: typeof BINARY_SCHEME | typeof BINARY_SIDECAR_SCHEME;
  /** The .bin file beside the cast ("b-sidecar"). */
  readonly binary_file?: string;
}

export interface CastHeader {
  readonly version: AsciicastVersion;
  readonly width: number;
  readonly height: number;
  /** Unix time in seconds. */
  readonly timestamp: number;
  readonly title?: string;
  readonly command?: string;
  readonly term?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly idleTimeLimit?: number;
  readonly gatehouse?: GatehouseHeaderInfo;
}

export function encodeHeader(h: CastHeader): string {
  const env: Record<string, string> = { ...(h.env ?? {}) };
  const common = {
    timestamp: h.timestamp,
    ...(h.idleTimeLimit !== undefined ? { idle_time_limit: h.idleTimeLimit } : {}),
    ...(h.command !== undefined ? { command: h.command } : {}),
    ...(h.title !== undefined ? { title: h.title } : {}),
  };
  if (h.version === 2) {
    if (h.term !== undefined) env['TERM'] = h.term;
    return JSON.stringify({
      version: 2,
      width: h.width,
      height: h.height,
      ...common,
      env,
      ...(h.gatehouse ? { gatehouse: h.gatehouse } : {}),
    });
  }
  return JSON.stringify({
    version: 3,
    term: { cols: h.width, rows: h.height, ...(h.term !== undefined ? { type: h.term } : {}) },
    ...common,
    ...(Object.keys(env).length > 0 ? { env } : {}),
    ...(h.gatehouse ? { gatehouse: h.gatehouse } : {}),
  });
}

/** Seconds with microsecond precision, as asciinema writes them. */
export function formatSeconds(us: number): string {
  const whole = Math.floor(us / 1_000_000);
  const frac = us - whole * 1_000_000;
  return `${whole}.${String(frac).padStart(6, '0')}`;
}

/**
 * Encodes one event line. For v3 pass the previous event's time; `x` is v3-only (for v2 the
 * exit status goes into a marker instead; see ChannelRecorder).
 */
export function encodeEvent(version: AsciicastVersion, e: CastEvent, prevTimeUs: number): string {
  const t = version === 2 ? e.timeUs : Math.max(0, e.timeUs - prevTimeUs);
  return `[${formatSeconds(t)}, ${JSON.stringify(e.code)}, ${JSON.stringify(e.data)}]`;
}

export function formatResize(cols: number, rows: number): string {
  return `${cols}x${rows}`;
}

/** Room `writeTextEvent` needs for `n` bytes of data, at most (every byte a \u00XX escape). */
export function maxTextEventLength(n: number): number {
  return 48 + 6 * n;
}

/** Room `writeBinaryEvent` needs for `n` bytes of data, at most. */
export function maxBinaryEventLength(n: number): number {
  return 48 + base64Length(n);
}

export function base64Length(n: number): number {
  return 4 * Math.ceil(n / 3);
}

/** Writes `[time, "code", ` at `pos`; returns its end. */
export function writeEventHead(version: AsciicastVersion, timeUs: number, code: CastEventCode, prevTimeUs: number, out: Buffer, pos: number): number {
  const t = version === 2 ? timeUs : Math.max(0, timeUs - prevTimeUs);
  return pos + out.write(`[${formatSeconds(t)}, "${code}", `, pos, 'latin1');
}

/**
 * Writes the line of an event whose data is given as valid UTF-8 bytes (see
 * StreamingUtf8Decoder.decodeOrPass) into `out` at `pos`, byte-identical to
 * `encodeEvent(version, {timeUs, code, data: decoded}, prev)`, and returns its end. `out` needs
 * `maxTextEventLength(utf8.length)` bytes of room.
 */
export function writeTextEvent(version: AsciicastVersion, timeUs: number, code: CastEventCode, utf8: Uint8Array, prevTimeUs: number, out: Buffer, pos: number): number {
  const p = writeJsonString(utf8, 0, utf8.length, out, writeEventHead(version, timeUs, code, prevTimeUs, out, pos));
  out[p] = 0x5d;
  return p + 1;
}

/** Writes a `b` event (base64 of `bytes`, RFC 4648 section 4, padded) at `pos`; returns its end. */
export function writeBinaryEvent(version: AsciicastVersion, timeUs: number, bytes: Uint8Array, prevTimeUs: number, out: Buffer, pos: number): number {
  const p = writeBase64String(bytes, out, writeEventHead(version, timeUs, 'b', prevTimeUs, out, pos));
  out[p] = 0x5d;
  return p + 1;
}

/** Writes `bytes` as a quoted base64 JSON string at `pos`; returns its end. */
export function writeBase64String(bytes: Uint8Array, out: Buffer, pos: number): number {
  let p = pos;
  out[p++] = 0x22;
  p += out.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), p, 'latin1');
  out[p++] = 0x22;
  return p;
}

/** Room `writeBinaryRefEvent` needs, at most. */
export const MAX_BINARY_REF_EVENT_LENGTH = 48 + 2 * 17 + 1 + BINARY_REF_HASH_LENGTH + 2;

/**
 * Writes a `b` event of binary_output "b-sidecar" (binary-ref.ts) for `length` bytes at
 * `offset` of the .bin file, with zeros where the SHA-256 of the bytes goes: the batch store
 * fills it in (chainBatch) before the line is chained and written. Returns the line's end
 * and where the hash goes.
 */
export function writeBinaryRefEvent(version: AsciicastVersion, timeUs: number, offset: number, length: number, prevTimeUs: number, out: Buffer, pos: number): { end: number; hashAt: number } {
  let p = writeEventHead(version, timeUs, 'b', prevTimeUs, out, pos);
  p += out.write(`"${binaryRefPrefix(offset, length)}`, p, 'latin1');
  const hashAt = p;
  out.fill(0x30, p, p + BINARY_REF_HASH_LENGTH);
  p += BINARY_REF_HASH_LENGTH;
  out[p++] = 0x22;
  out[p++] = 0x5d;
  return { end: p, hashAt };
}

/** `writeTextEvent` into a buffer of its own. */
export function encodeEventBytes(version: AsciicastVersion, timeUs: number, code: CastEventCode, utf8: Uint8Array, prevTimeUs: number): Uint8Array {
  const out = Buffer.allocUnsafe(maxTextEventLength(utf8.length));
  return out.subarray(0, writeTextEvent(version, timeUs, code, utf8, prevTimeUs, out, 0));
}
