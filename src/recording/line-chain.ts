/**
 * Hash chain over the lines of a recording file, for tamper evidence.
 *
 *   c0 = SHA-256("gatehouse-chain-v1\n" || session-id || "/" || file-name)
 *   ci = SHA-256(c(i-1) || line i)            (line i without its newline, UTF-8)
 *
 * The values go to a sidecar `<file>.chain`, one lowercase hex value per line, so the recording
 * itself stays a plain asciicast / JSON-lines file that `asciinema cat` and jq read unchanged.
 * Line i of the sidecar is ci; the final value and line count are copied into the signed
 * session index, so rewriting both files is still detected. Binding the seed to session and
 * file name stops a file being swapped in from elsewhere.
 */
import type { CryptoBackend } from '../crypto/backend.js';
import { defaultBackend } from '../crypto/index.js';

export const CHAIN_SUFFIX = '.chain';
const SEED_LABEL = 'gatehouse-chain-v1\n';

const utf8 = new TextEncoder();

export function chainSeed(sessionId: string, fileName: string, backend: CryptoBackend = defaultBackend): Uint8Array {
  return backend.hash('sha256', utf8.encode(`${SEED_LABEL}${sessionId}/${fileName}`));
}

/** One chain step; a string line is hashed as its UTF-8 bytes. */
export function chainStep(prev: Uint8Array, line: Uint8Array | string, backend: CryptoBackend = defaultBackend): Uint8Array {
  return backend
    .createHash('sha256')
    .update(prev)
    .update(typeof line === 'string' ? utf8.encode(line) : line)
    .digest();
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Bytes one chain value takes in the sidecar: 64 hex digits and a newline. */
export const CHAIN_LINE_LENGTH = 65;

/** The two lowercase hex digits of each byte value, as ASCII codes. */
const HEX_PAIRS = (() => {
  const digits = '0123456789abcdef';
  const t = new Uint8Array(512);
  for (let b = 0; b < 256; b++) {
    t[2 * b] = digits.charCodeAt(b >> 4);
    t[2 * b + 1] = digits.charCodeAt(b & 15);
  }
  return t;
})();

/**
 * Writes the sidecar line of chain value `v` (`toHex(v)` and '\n', CHAIN_LINE_LENGTH bytes for
 * a SHA-256 value) into `out` at `pos`; returns its end. A flush writes one per recorded line,
 * so this skips the hex string and the string concatenation per line.
 */
export function writeChainLine(v: Uint8Array, out: Uint8Array, pos: number): number {
  let p = pos;
  for (let i = 0; i < v.length; i++) {
    const b = (v[i] as number) * 2;
    out[p++] = HEX_PAIRS[b] as number;
    out[p++] = HEX_PAIRS[b + 1] as number;
  }
  out[p++] = 0x0a;
  return p;
}

/** Incremental chain state. */
export class LineChain {
  private head: Uint8Array;
  private count = 0;

  constructor(seed: Uint8Array) {
    this.head = seed;
  }

  /** Adds one line (without newline); returns the new chain value. */
  add(line: Uint8Array | string): Uint8Array {
    this.head = chainStep(this.head, line);
    this.count++;
    return this.head;
  }

  get lines(): number {
    return this.count;
  }

  get headHex(): string {
    return toHex(this.head);
  }
}
