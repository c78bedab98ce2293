/**
 * JSON string encoding straight from UTF-8 bytes to UTF-8 bytes, for the recorder's hot path.
 *
 * For valid UTF-8 input the output is byte-identical to `JSON.stringify` of the decoded text:
 * JSON (RFC 8259 section 7) escapes only characters below U+0020, '"' and '\\', all ASCII, and
 * JSON.stringify writes the two-character forms \b \t \n \f \r \" \\ where they exist and
 * \u00XX (lowercase hex) for the other control characters. Bytes 0x80 and up (the parts of
 * multi-byte characters) and DEL pass through unchanged. One pass over a precomputed table, no
 * intermediate strings, written into the caller's buffer: JSON.stringify of a string with many
 * control characters runs at ~20 MB/s here, this at several hundred.
 */

/** Bytes each input byte takes inside a JSON string: 1, 2 (\n, \" …) or 6 (\u00XX). */
const WIDTH = new Uint8Array(256).fill(1);
/** Second byte of the two-byte escapes, 0 where there is none. */
const SHORT = new Uint8Array(256);
const HEX = new TextEncoder().encode('0123456789abcdef');

for (let b = 0; b < 0x20; b++) WIDTH[b] = 6;
for (const [b, c] of [
  [0x08, 'b'],
  [0x09, 't'],
  [0x0a, 'n'],
  [0x0c, 'f'],
  [0x0d, 'r'],
  [0x22, '"'],
  [0x5c, '\\'],
] as const) {
  WIDTH[b] = 2;
  SHORT[b] = c.charCodeAt(0);
}

/** Length in bytes of `src[start..end)` as the body of a JSON string (without the quotes). */
export function jsonStringBodyLength(src: Uint8Array, start = 0, end = src.length): number {
  let n = 0;
  for (let i = start; i < end; i++) n += WIDTH[src[i] as number] as number;
  return n;
}

/**
 * Writes `src[start..end)` as a JSON string, quotes included, at `out[pos]`; returns the end.
 * `out` needs room for `6 * (end - start) + 2` bytes in the worst case (all control bytes).
 * With `maxGrowth`, gives up and returns -1 as soon as an escape makes the string body longer
 * than `maxGrowth` times the bytes read so far plus 64 (so a chunk of NUL bytes costs a scan of
 * a few bytes, not a 6x encoding that is then thrown away).
 */
export function writeJsonString(src: Uint8Array, start: number, end: number, out: Uint8Array, pos: number, maxGrowth = Number.POSITIVE_INFINITY): number {
  let p = pos;
  out[p++] = 0x22;
  for (let i = start; i < end; i++) {
    const b = src[i] as number;
    const w = WIDTH[b] as number;
    if (w === 1) {
      out[p++] = b;
      continue;
    }
    out[p++] = 0x5c;
    if (w === 2) {
      out[p++] = SHORT[b] as number;
    } else {
      out[p++] = 0x75; // u
      out[p++] = 0x30;
      out[p++] = 0x30;
      out[p++] = HEX[b >> 4] as number;
      out[p++] = HEX[b & 15] as number;
    }
    if (p - pos - 1 > maxGrowth * (i + 1 - start) + 64) return -1;
  }
  out[p++] = 0x22;
  return p;
}
