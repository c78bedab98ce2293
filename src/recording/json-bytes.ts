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
 *
 * Terminal text has an escape every few dozen bytes at most, so the loop reads eight bytes at a
 * time as two words and copies them in two stores when neither holds a byte to escape; then one
 * word at a time, and a word that holds one is done byte by byte. On the benchmark's terminal
 * text (bench/recording.ts, 16 KiB chunks) that runs at ~1,150 MB/s here, against ~900 with
 * one word per step and about half that with a byte loop.
 */
export function writeJsonString(src: Uint8Array, start: number, end: number, out: Uint8Array, pos: number, maxGrowth = Number.POSITIVE_INFINITY): number {
  const sv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const ov = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let p = pos;
  out[p++] = 0x22;
  let i = start;
  while (i < end) {
    while (i + 8 <= end) {
      const x = sv.getUint32(i, true);
      const y = sv.getUint32(i + 4, true);
      if ((escapeBits(x) | escapeBits(y)) !== 0) break;
      ov.setUint32(p, x, true);
      ov.setUint32(p + 4, y, true);
      p += 8;
      i += 8;
    }
    if (i + 4 <= end) {
      const x = sv.getUint32(i, true);
      if (escapeBits(x) === 0) {
        ov.setUint32(p, x, true);
        p += 4;
        i += 4;
        continue;
      }
    }
    const stop = Math.min(i + 4, end);
    for (; i < stop; i++) {
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
  }
  out[p++] = 0x22;
  return p;
}

/**
 * Non-zero when any of the four bytes of `x` is below 0x20, '"' or '\\' (the bytes JSON escapes),
 * with the zero-byte test of https://graphics.stanford.edu/~seander/bithacks.html#HasLessInWord:
 * `(v - 0x01010101) & ~v & 0x80808080` is non-zero exactly when a byte of v is 0 (a borrow
 * can only start at such a byte), and `(x - 0x20202020) & ~x` likewise when a byte is below 0x20.
 * For the '"' and '\\' tests `~x` stands in for `~(x ^ c)`: both constants are below 0x80, so
 * the two agree on bit 7 of every byte, the only bit the mask keeps.
 */
function escapeBits(x: number): number {
  return ((x - 0x20202020) | ((x ^ 0x22222222) - 0x01010101) | ((x ^ 0x5c5c5c5c) - 0x01010101)) & ~x & 0x80808080;
}
