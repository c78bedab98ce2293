/**
 * Reads asciicast v2/v3 text (ours or asciinema's). Total and bounded: every malformed input
 * gives a CastFormatError naming the line; a final line without a newline (a writer killed
 * mid-line) is reported as `truncatedTail` and ignored, which is what "valid up to the last
 * complete line" means.
 */
import { type AsciicastVersion, BINARY_SCHEME, type CastEvent, type CastEventCode, type GatehouseHeaderInfo } from './asciicast.js';
import { BINARY_SIDECAR_SCHEME, isSafeBinaryFileName, parseBinaryRef } from './binary-ref.js';

export class CastFormatError extends Error {
  override readonly name = 'CastFormatError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/** How a cast's `b` events carry their bytes: base64 inline (older recordings) or a reference into a .bin file. */
export type BinaryOutputScheme = typeof BINARY_SCHEME | typeof BINARY_SIDECAR_SCHEME;

/** The `gatehouse` header object as read: either binary scheme, and the .bin's name with "b-sidecar". */
export interface ParsedGatehouseHeader extends Omit<GatehouseHeaderInfo, 'binary_output' | 'binary_file'> {
  readonly binary_output?: BinaryOutputScheme;
  readonly binary_file?: string;
}

export interface ParsedCastHeader {
  readonly version: AsciicastVersion;
  readonly width: number;
  readonly height: number;
  readonly timestamp?: number;
  readonly title?: string;
  readonly command?: string;
  readonly term?: string;
  readonly idleTimeLimit?: number;
  readonly gatehouse?: ParsedGatehouseHeader;
  /**
   * Set when the header says `binary_output: "b-sidecar"`: the file (a bare name, checked with
   * isSafeBinaryFileName, in the cast's directory) holding the bytes every `b` event refers to.
   * Unset: `b` events hold base64.
   */
  readonly binaryFile?: string;
}

export interface ParsedCast {
  readonly header: ParsedCastHeader;
  readonly events: CastEvent[];
  /** Bytes after the last newline (an interrupted write), ignored. */
  readonly truncatedTail: number;
}

export interface CastReadLimits {
  /** Longest accepted line in characters (default 16 MiB). */
  readonly maxLineLength?: number;
  /** Most events accepted (default 10 million). */
  readonly maxEvents?: number;
}

const CODES: ReadonlySet<string> = new Set(['o', 'i', 'r', 'm', 'x', 'b']);
/** RFC 4648 section 4, padded, as Buffer writes it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(text: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CastFormatError(line, `invalid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

function dimension(v: unknown, line: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100_000) {
    throw new CastFormatError(line, `header ${what} must be a small non-negative integer`);
  }
  return v;
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * The .bin named by a "b-sidecar" header, or undefined for any other header. A "b-sidecar" header
 * without a safe bare file name is an error: its `b` events could not be read, and a name with a
 * path in it must never be opened.
 */
function sidecarFile(v: unknown): string | undefined {
  if (!isRecord(v) || v['binary_output'] !== BINARY_SIDECAR_SCHEME) return undefined;
  const file = v['binary_file'];
  if (typeof file !== 'string' || !isSafeBinaryFileName(file)) {
    throw new CastFormatError(1, `header gatehouse.binary_file must be a bare file name (binary_output "${BINARY_SIDECAR_SCHEME}")`);
  }
  return file;
}

function parseGatehouse(v: unknown, binaryFile: string | undefined): ParsedGatehouseHeader | undefined {
  if (!isRecord(v)) return undefined;
  const { session, channel, invalid_bytes, chain, binary_output } = v;
  if (typeof session !== 'string' || typeof channel !== 'number' || typeof chain !== 'string') return undefined;
  if (invalid_bytes !== 'pua-u10fe00') return undefined;
  const binary: Pick<ParsedGatehouseHeader, 'binary_output' | 'binary_file'> =
    binaryFile !== undefined ? { binary_output: BINARY_SIDECAR_SCHEME, binary_file: binaryFile } : binary_output === BINARY_SCHEME ? { binary_output: BINARY_SCHEME } : {};
  return { session, channel, invalid_bytes, chain, ...binary };
}

export function parseHeader(text: string): ParsedCastHeader {
  const h = parseJson(text, 1);
  if (!isRecord(h)) throw new CastFormatError(1, 'header is not a JSON object');
  const base = {
    ...(typeof h['timestamp'] === 'number' ? { timestamp: h['timestamp'] } : {}),
    ...(optionalString(h['title']) !== undefined ? { title: h['title'] as string } : {}),
    ...(optionalString(h['command']) !== undefined ? { command: h['command'] as string } : {}),
    ...(typeof h['idle_time_limit'] === 'number' && h['idle_time_limit'] > 0 ? { idleTimeLimit: h['idle_time_limit'] } : {}),
  };
  const binaryFile = sidecarFile(h['gatehouse']);
  const gh = parseGatehouse(h['gatehouse'], binaryFile);
  const withGh = { ...base, ...(gh ? { gatehouse: gh } : {}), ...(binaryFile !== undefined ? { binaryFile } : {}) };
  if (h['version'] === 2) {
    const env = isRecord(h['env']) ? h['env'] : {};
    const term = optionalString(env['TERM']);
    return {
      version: 2,
      width: dimension(h['width'], 1, 'width'),
      height: dimension(h['height'], 1, 'height'),
      ...withGh,
      ...(term !== undefined ? { term } : {}),
    };
  }
  if (h['version'] === 3) {
    const t = h['term'];
    if (!isRecord(t)) throw new CastFormatError(1, 'v3 header without term object');
    const type = optionalString(t['type']);
    return {
      version: 3,
      width: dimension(t['cols'], 1, 'term.cols'),
      height: dimension(t['rows'], 1, 'term.rows'),
      ...withGh,
      ...(type !== undefined ? { term: type } : {}),
    };
  }
  throw new CastFormatError(1, 'unsupported asciicast version (need 2 or 3)');
}

/**
 * Parses one event line; `prevUs` is the previous event's absolute time (for v3 intervals).
 * `binary` is the cast's scheme for `b` data: base64, or with "b-sidecar" a reference
 * `"<offset>+<length>:<sha256>"` (binary-ref.ts) into the header's binary_file.
 */
export function parseEventLine(text: string, line: number, version: AsciicastVersion, prevUs: number, binary: BinaryOutputScheme = BINARY_SCHEME): CastEvent {
  const v = parseJson(text, line);
  if (!Array.isArray(v) || v.length !== 3) throw new CastFormatError(line, 'event is not a 3-element array');
  const [time, code, data] = v as [unknown, unknown, unknown];
  if (typeof time !== 'number' || !Number.isFinite(time) || time < 0 || time > 1e10) {
    throw new CastFormatError(line, 'event time must be a non-negative number');
  }
  if (typeof code !== 'string' || !CODES.has(code)) throw new CastFormatError(line, 'unknown event code');
  if (typeof data !== 'string') throw new CastFormatError(line, 'event data must be a string');
  if (code === 'b') {
    if (binary === BINARY_SIDECAR_SCHEME) {
      if (parseBinaryRef(data) === undefined) throw new CastFormatError(line, 'binary (b) event data must be "<offset>+<length>:<sha256>" (b-sidecar)');
    } else if (!BASE64.test(data)) throw new CastFormatError(line, 'binary (b) event data must be base64');
  }
  const us = Math.round(time * 1_000_000);
  const timeUs = version === 2 ? us : prevUs + us;
  return { timeUs, code: code as CastEventCode, data };
}

const B_CODE = Buffer.from('"b"');
const B_CODE_ESCAPED = Buffer.from('\\u0062');

/**
 * False only for a line that cannot be a `b` event: its code would have to be the JSON string
 * "b", written `"b"` or with the escape `\u0062`. Lets verify and recovery skip parsing the text
 * lines of a "b-sidecar" cast (most of a long exec log) without missing a binary event.
 */
export function mayBeBinaryEventLine(line: Uint8Array): boolean {
  const b = Buffer.isBuffer(line) ? line : Buffer.from(line.buffer, line.byteOffset, line.byteLength);
  return b.includes(B_CODE) || b.includes(B_CODE_ESCAPED);
}

/** Splits text into complete lines; returns the lines and the length of an unterminated tail. */
export function splitCompleteLines(text: string): { lines: string[]; tail: number } {
  const last = text.lastIndexOf('\n');
  const complete = last === -1 ? '' : text.slice(0, last);
  return { lines: last === -1 ? [] : complete.split('\n'), tail: text.length - (last + 1) };
}

export function parseCast(text: string, limits: CastReadLimits = {}): ParsedCast {
  const maxLine = limits.maxLineLength ?? 16 * 1024 * 1024;
  const maxEvents = limits.maxEvents ?? 10_000_000;
  const { lines, tail } = splitCompleteLines(text);
  const first = lines[0];
  if (first === undefined) throw new CastFormatError(1, 'no complete header line');
  if (first.length > maxLine) throw new CastFormatError(1, 'line too long');
  const header = parseHeader(first);
  const binary = header.binaryFile !== undefined ? BINARY_SIDECAR_SCHEME : BINARY_SCHEME;
  const events: CastEvent[] = [];
  let prev = 0;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i] ?? '';
    const lineNo = i + 1;
    if (l.length > maxLine) throw new CastFormatError(lineNo, 'line too long');
    if (l.trim() === '' || (header.version === 3 && l.startsWith('#'))) continue;
    if (events.length >= maxEvents) throw new CastFormatError(lineNo, 'too many events');
    const e = parseEventLine(l, lineNo, header.version, prev, binary);
    prev = e.timeUs;
    events.push(e);
  }
  return { header, events, truncatedTail: tail };
}
