/**
 * Binary output kept beside the cast (`binary_output: "b-sidecar"`, FORMAT.md): a channel
 * without a pty writes the raw bytes of each binary chunk to channel-N.bin, and its `b` event
 * names where they are and their SHA-256: `"<offset>+<length>:<sha256 hex>"`. The hash puts the
 * bytes under the cast's chain and the signed index without a chain file of their own.
 */

/** Header value of `gatehouse.binary_output` for recordings that keep binary output in a .bin file. */
export const BINARY_SIDECAR_SCHEME = 'b-sidecar';

export interface BinaryRef {
  readonly offset: number;
  readonly length: number;
  /** SHA-256 of the bytes, 64 lowercase hex digits. */
  readonly sha256: string;
}

/** Length of the hex SHA-256 in a reference. */
export const BINARY_REF_HASH_LENGTH = 64;

const REF = /^(0|[1-9][0-9]{0,15})\+([1-9][0-9]{0,15}):([0-9a-f]{64})$/;

/** The reference in a `b` event's data, or undefined when the data is not one. */
export function parseBinaryRef(data: string): BinaryRef | undefined {
  const m = REF.exec(data);
  if (!m || m[1] === undefined || m[2] === undefined || m[3] === undefined) return undefined;
  const offset = Number(m[1]);
  const length = Number(m[2]);
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || !Number.isSafeInteger(offset + length)) return undefined;
  return { offset, length, sha256: m[3] };
}

/** The data of a `b` event up to its hash: `"<offset>+<length>:"`. */
export function binaryRefPrefix(offset: number, length: number): string {
  return `${offset}+${length}:`;
}

export function binaryFileName(channel: number): string {
  return `channel-${channel}.bin`;
}

/** A bare file name in the session directory (no path, not hidden). */
export function isSafeBinaryFileName(name: string): boolean {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(name) && !name.includes('..');
}
