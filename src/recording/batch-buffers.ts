/**
 * The batch buffers of a recording file's writer (chained-log.ts): grown by doubling, and one
 * written buffer kept as the spare of the next batch while data flows, so a steady stream stops
 * allocating. Each new buffer has an ArrayBuffer of its own: the recording I/O worker takes
 * batches over (transferred, not copied) and hands them back.
 */

/** A batch with nothing in it yet. */
export const EMPTY = Buffer.alloc(0);
/** First allocation of a batch buffer; it doubles as needed. */
const MIN_BATCH = 4096;
/** A written batch buffer up to this size is kept for the next batch while data flows. */
export const MAX_SPARE = 16 * 1024 * 1024;

/**
 * `cur[0..used)` moved to a buffer with room for `need` bytes: `spare` when it is large enough
 * (`tookSpare`), else a new one of twice `cur` (at least MIN_BATCH and `minSize`), doubled until
 * it fits. New buffers have an ArrayBuffer of their own: the I/O worker takes them over.
 */
export function grown(cur: Buffer, used: number, need: number, spare: Buffer | null, minSize: number): { next: Buffer; tookSpare: boolean } {
  const tookSpare = spare !== null && spare.length >= need;
  let next: Buffer;
  if (spare !== null && tookSpare) next = spare;
  else {
    let size = Math.max(MIN_BATCH, cur.length * 2, minSize);
    while (size < need) size *= 2;
    next = Buffer.allocUnsafeSlow(size);
  }
  cur.copy(next, 0, 0, used);
  return { next, tookSpare };
}

/** `spare` when it holds `capacity` (the next batch starts in it), else nothing: one smaller would be outgrown and copied. */
export function fitting(spare: Buffer | null, capacity: number): Buffer {
  return spare !== null && spare.length >= capacity ? spare : EMPTY;
}

/** The buffer to keep for the next batch: the larger of `spare` and a written `buf` (none over MAX_SPARE). */
export function largerSpare(spare: Buffer | null, buf: Buffer): Buffer | null {
  if (buf.length > MAX_SPARE) return spare;
  return spare === null || spare.length < buf.length ? buf : spare;
}
