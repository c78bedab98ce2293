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

export { CHAIN_LINE_LENGTH, writeChainLine } from './chain-bytes.js';

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
