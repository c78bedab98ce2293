/**
 * The sidecar line of one chain value (see line-chain.ts) and the hashes of binary chunks
 * (binary-ref.ts), with no imports of ours: the recording I/O worker (record-io-worker.ts)
 * writes both and loads nothing it does not need.
 */
import { createHash, hash } from 'node:crypto';

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
 * Writes the sidecar line of chain value `v` (its lowercase hex and '\n', CHAIN_LINE_LENGTH
 * bytes for a SHA-256 value) into `out` at `pos`; returns its end. A flush writes one per
 * recorded line, so this skips the hex string and the string concatenation per line.
 */
export function writeChainLine(v: Uint8Array, out: Uint8Array, pos: number): number {
  const p = writeHex(v, out, pos);
  out[p] = 0x0a;
  return p + 1;
}

/** Writes the lowercase hex of `v` into `out` at `pos` (no newline); returns its end. */
function writeHex(v: Uint8Array, out: Uint8Array, pos: number): number {
  let p = pos;
  for (let i = 0; i < v.length; i++) {
    const b = (v[i] as number) * 2;
    out[p++] = HEX_PAIRS[b] as number;
    out[p++] = HEX_PAIRS[b + 1] as number;
  }
  return p;
}

/**
 * Fills in the SHA-256 of each binary chunk where its `b` event left room for it: `refs` holds
 * triples (position of the 64 hex digits in `lines`, start and end of the chunk in `blob`). The
 * lines are hashed into the chain after this, so the chain covers the chunks' bytes.
 */
function fillBinaryHashes(lines: Uint8Array, blob: Uint8Array, refs: readonly number[]): void {
  for (let i = 0; i + 2 < refs.length; i += 3) {
    const at = refs[i] as number;
    writeHex(hash('sha256', blob.subarray(refs[i + 1], refs[i + 2]), 'buffer'), lines, at);
  }
}

/** Room for the previous chain value and a line, for chain steps hashed in one call. */
const STEP = Buffer.allocUnsafe(4096);

/**
 * SHA-256(prev || line). A line that fits next to `prev` in STEP is copied there and hashed with
 * one-shot `hash()`, which skips the Hash object `createHash` builds: for a binary download's
 * ~100-byte `b` lines, 47 against 63 ms per GiB of 32 KiB chunks in a loop of these calls alone.
 */
function chainStepBytes(prev: Uint8Array, line: Uint8Array): Uint8Array {
  const n = prev.length + line.length;
  if (n > STEP.length) return createHash('sha256').update(prev).update(line).digest();
  STEP.set(prev, 0);
  STEP.set(line, prev.length);
  return hash('sha256', STEP.subarray(0, n), 'buffer');
}

/**
 * One batch's chain: fills in its binary chunks' hashes (when it has any), then chains each line
 * of `lines` (line i ends before its '\n' at `ends[i]`) from `head`. Returns the last chain
 * value and the sidecar lines, CHAIN_LINE_LENGTH bytes each. Both batch stores (the I/O worker
 * and the inline one) run exactly this, so the bytes chained are the bytes written.
 */
export function chainBatch(lines: Uint8Array, ends: readonly number[], head: Uint8Array, blob?: { readonly bytes: Uint8Array; readonly refs: readonly number[] }): { head: Uint8Array; sidecar: Buffer } {
  if (blob) fillBinaryHashes(lines, blob.bytes, blob.refs);
  const sidecar = Buffer.allocUnsafe(ends.length * CHAIN_LINE_LENGTH);
  let h = head;
  let pos = 0;
  let start = 0;
  for (const end of ends) {
    h = chainStepBytes(h, lines.subarray(start, end));
    pos = writeChainLine(h, sidecar, pos);
    start = end + 1;
  }
  return { head: h, sidecar };
}
