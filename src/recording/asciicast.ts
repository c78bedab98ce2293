/**
 * asciicast v2 and v3 line encoding (https://docs.asciinema.org/manual/asciicast/v2/ and /v3/).
 *
 * v2: header `{"version":2,"width","height",...,"env":{"TERM"}}`, events `[time, code, data]`
 * with `time` in seconds since the start. v3: header `{"version":3,"term":{"cols","rows","type"}}`,
 * events carry the *interval* since the previous event, and `x` (exit status) exists.
 * Times are kept in integer microseconds so v3 intervals add up exactly to v2 absolute times.
 */
import type { ESCAPE_SCHEME } from './utf8-escape.js';

export type AsciicastVersion = 2 | 3;

export type CastEventCode = 'o' | 'i' | 'r' | 'm' | 'x';

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

/**
 * Encodes an event whose data is given as valid UTF-8 bytes (see StreamingUtf8Decoder
 * .decodeOrPass) straight to the bytes of its line, byte-identical to
 * `encodeEvent(version, {timeUs, code, data: decoded}, prev)`.
 *
 * The bytes are viewed as a Latin-1 string (one JS char per byte, a native copy), which
 * JSON.stringify escapes exactly where it would escape the decoded text: only characters below
 * U+0020, '"' and '\\' (RFC 8259 section 7), all ASCII, so UTF-8 sequences (bytes 0x80 and up)
 * pass through untouched. Writing the result back as Latin-1 restores the bytes. Everything
 * stays in native code with one-byte strings, instead of decoding to UTF-16 and re-encoding.
 */
export function encodeEventBytes(version: AsciicastVersion, timeUs: number, code: CastEventCode, utf8: Uint8Array, prevTimeUs: number): Uint8Array {
  const t = version === 2 ? timeUs : Math.max(0, timeUs - prevTimeUs);
  const latin1 = Buffer.from(utf8.buffer, utf8.byteOffset, utf8.byteLength).toString('latin1');
  return Buffer.from(`[${formatSeconds(t)}, "${code}", ${JSON.stringify(latin1)}]`, 'latin1');
}
