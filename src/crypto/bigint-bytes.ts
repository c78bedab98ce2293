/** Big-endian magnitude <-> bigint helpers shared by both backends (RFC 4251 §5 mpint bodies). */

export function bytesToBigInt(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  return BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`);
}

/** Minimal big-endian magnitude (no leading zero bytes; 0 -> empty). */
export function bigIntToBytes(v: bigint): Uint8Array {
  if (v < 0n) throw new RangeError('negative value');
  if (v === 0n) return new Uint8Array(0);
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Big-endian, left-padded with zeros to exactly `len` bytes; throws if it does not fit. */
export function bigIntToFixed(v: bigint, len: number): Uint8Array {
  const m = bigIntToBytes(v);
  if (m.length > len) throw new RangeError('value does not fit');
  if (m.length === len) return m;
  const out = new Uint8Array(len);
  out.set(m, len - m.length);
  return out;
}

/** Drops leading zero bytes (a view, not a copy). */
export function stripLeadingZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return b.subarray(i);
}

/** Left-pads a magnitude to `len` bytes; returns null when it is longer than `len` after stripping zeros. */
export function padMagnitude(b: Uint8Array, len: number): Uint8Array | null {
  const m = stripLeadingZeros(b);
  if (m.length > len) return null;
  const out = new Uint8Array(len);
  out.set(m, len - m.length);
  return out;
}

export function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < b.length; i++) acc |= b[i] ?? 0;
  return acc === 0;
}

/** Modular exponentiation by square-and-multiply (used where node:crypto is not available). */
export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}
