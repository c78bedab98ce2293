/**
 * ML-KEM-768 (FIPS 203) for the node backend: the lattice arithmetic in TypeScript, every
 * SHA-3 call (H, G, J, PRF and the SHAKE128 matrix expansion) through node:crypto's OpenSSL.
 *
 * Why not @noble/post-quantum here: its Keccak is JavaScript, and Keccak is most of ML-KEM's
 * work (bench/crypto.ts prints both side by side); the gateway encapsulates once for every
 * inbound connection and runs keygen and decapsulation for every outbound one to an ML-KEM
 * target. The noble backend keeps @noble/post-quantum, and the tests check both against each
 * other on random keys.
 *
 * Algorithm numbers below are FIPS 203's. Polynomials are Int32Array(256) with coefficients
 * kept in [0, q); products of two such stay below 2^24, sums of three below 2^26.
 * Like noble's, this is not constant-time JavaScript; the secrets it handles are ephemeral.
 */
import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

const Q = 3329;
const K = 3;
/** η1 = η2 = 2 for ML-KEM-768: PRF outputs of 64·η = 128 bytes. */
const PRF_BYTES = 128;
const DU = 10;
const DV = 4;

export const MLKEM768_EK_BYTES = 384 * K + 32; // 1184
export const MLKEM768_DK_BYTES = 768 * K + 96; // 2400
export const MLKEM768_CT_BYTES = 32 * (DU * K + DV); // 1088
const C1_BYTES = 32 * DU * K; // 960

type Poly = Int32Array;

function powMod(base: number, exp: number): number {
  let r = 1;
  let b = base % Q;
  let e = exp;
  while (e > 0) {
    if (e & 1) r = (r * b) % Q;
    b = (b * b) % Q;
    e >>= 1;
  }
  return r;
}

function bitRev7(i: number): number {
  let r = 0;
  for (let b = 0; b < 7; b++) r |= ((i >> b) & 1) << (6 - b);
  return r;
}

/** ζ^BitRev7(i) (NTT, §4.3) and ζ^(2·BitRev7(i)+1) (MultiplyNTTs, Algorithm 11), ζ = 17. */
const ZETAS = new Int32Array(128);
const GAMMAS = new Int32Array(128);
for (let i = 0; i < 128; i++) {
  ZETAS[i] = powMod(17, bitRev7(i));
  GAMMAS[i] = powMod(17, 2 * bitRev7(i) + 1);
}
/** 128^-1 mod q, the scale of NTT^-1. */
const INV128 = 3303;

/** Algorithm 9, in place. */
function ntt(f: Poly): void {
  let i = 1;
  for (let len = 128; len >= 2; len >>= 1) {
    for (let start = 0; start < 256; start += 2 * len) {
      const z = ZETAS[i++] ?? 0;
      for (let j = start; j < start + len; j++) {
        const a = f[j] ?? 0;
        const t = (z * (f[j + len] ?? 0)) % Q;
        f[j + len] = (a - t + Q) % Q;
        f[j] = (a + t) % Q;
      }
    }
  }
}

/** Algorithm 10, in place. */
function invNtt(f: Poly): void {
  let i = 127;
  for (let len = 2; len <= 128; len <<= 1) {
    for (let start = 0; start < 256; start += 2 * len) {
      const z = ZETAS[i--] ?? 0;
      for (let j = start; j < start + len; j++) {
        const a = f[j] ?? 0;
        const b = f[j + len] ?? 0;
        f[j] = (a + b) % Q;
        f[j + len] = (z * (b - a + Q)) % Q;
      }
    }
  }
  for (let j = 0; j < 256; j++) f[j] = ((f[j] ?? 0) * INV128) % Q;
}

/** acc += f ◦ g in the NTT domain (Algorithms 11 and 12). */
function mulAcc(acc: Poly, f: Poly, g: Poly): void {
  for (let i = 0; i < 128; i++) {
    const a0 = f[2 * i] ?? 0;
    const a1 = f[2 * i + 1] ?? 0;
    const b0 = g[2 * i] ?? 0;
    const b1 = g[2 * i + 1] ?? 0;
    const c0 = (a0 * b0 + ((a1 * b1) % Q) * (GAMMAS[i] ?? 0)) % Q;
    const c1 = (a0 * b1 + a1 * b0) % Q;
    acc[2 * i] = ((acc[2 * i] ?? 0) + c0) % Q;
    acc[2 * i + 1] = ((acc[2 * i + 1] ?? 0) + c1) % Q;
  }
}

function addInto(acc: Poly, f: Poly): void {
  for (let j = 0; j < 256; j++) acc[j] = ((acc[j] ?? 0) + (f[j] ?? 0)) % Q;
}

/** One-shot SHA3 (crypto.hash costs a third of a createHash object per call). */
function sha3(alg: 'sha3-256' | 'sha3-512', first: Uint8Array, second?: Uint8Array): Buffer {
  if (second === undefined) return hash(alg, first, 'buffer');
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first);
  joined.set(second, first.length);
  return hash(alg, joined, 'buffer');
}

function shake(alg: 'shake128' | 'shake256', outputLength: number, ...parts: Uint8Array[]): Buffer {
  const h = createHash(alg, { outputLength });
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Algorithm 8 over PRF_η(s, b) = SHAKE256(s ‖ b, 64·η), η = 2 (Algorithm 8 with 4-bit groups). */
function sampleCbd2(seed: Uint8Array, nonce: number): Poly {
  const bytes = shake('shake256', PRF_BYTES, seed, Uint8Array.of(nonce));
  const f = new Int32Array(256);
  for (let i = 0; i < PRF_BYTES; i++) {
    const byte = bytes[i] ?? 0;
    // two coefficients per byte: (b0 + b1) − (b2 + b3) and (b4 + b5) − (b6 + b7)
    const lo = (byte & 1) + ((byte >> 1) & 1) - ((byte >> 2) & 1) - ((byte >> 3) & 1);
    const hi = ((byte >> 4) & 1) + ((byte >> 5) & 1) - ((byte >> 6) & 1) - ((byte >> 7) & 1);
    f[2 * i] = (lo + Q) % Q;
    f[2 * i + 1] = (hi + Q) % Q;
  }
  return f;
}

/**
 * 4 SHAKE128 blocks: 448 candidates for 256 coefficients accepted with probability q/4096 each.
 * Running short is astronomically unlikely; the stream is then taken again at twice the length,
 * and after that the loop gives up, as FIPS 203 Appendix B allows beyond 280 iterations (840
 * bytes): ρ comes from the peer, and no input may make this loop run without bound.
 */
const XOF_BYTES = 4 * 168;
const XOF_MAX_BYTES = 2 * XOF_BYTES;

/** Algorithm 7: Â[i][j] = SampleNTT(ρ ‖ j ‖ i). */
function sampleNtt(rho: Uint8Array, j: number, i: number): Poly {
  const a = new Int32Array(256);
  for (let len = XOF_BYTES; len <= XOF_MAX_BYTES; len *= 2) {
    const b = shake('shake128', len, rho, Uint8Array.of(j, i));
    let n = 0;
    for (let p = 0; p + 3 <= len && n < 256; p += 3) {
      const c0 = b[p] ?? 0;
      const c1 = b[p + 1] ?? 0;
      const c2 = b[p + 2] ?? 0;
      const d1 = c0 | ((c1 & 0x0f) << 8);
      const d2 = (c1 >> 4) | (c2 << 4);
      if (d1 < Q) a[n++] = d1;
      if (d2 < Q && n < 256) a[n++] = d2;
    }
    if (n === 256) return a;
  }
  throw new RangeError('ML-KEM SampleNTT: too many rejected coefficients');
}

/** The matrix Â (transposed when asked, as K-PKE.Encrypt uses it). */
function expandMatrix(rho: Uint8Array, transpose: boolean): Poly[][] {
  const m: Poly[][] = [];
  for (let i = 0; i < K; i++) {
    const row: Poly[] = [];
    for (let j = 0; j < K; j++) row.push(transpose ? sampleNtt(rho, i, j) : sampleNtt(rho, j, i));
    m.push(row);
  }
  return m;
}

/** ByteEncode_12 (Algorithm 5) of k polynomials. */
function encode12(polys: Poly[], out: Uint8Array, offset: number): void {
  let o = offset;
  for (const f of polys) {
    for (let j = 0; j < 256; j += 2) {
      const a = f[j] ?? 0;
      const b = f[j + 1] ?? 0;
      out[o++] = a & 0xff;
      out[o++] = (a >> 8) | ((b & 0x0f) << 4);
      out[o++] = b >> 4;
    }
  }
}

/** ByteDecode_12 (Algorithm 6); null when a coefficient is not below q (§7.2 modulus check). */
function decode12(bytes: Uint8Array, count: number): Poly[] | null {
  const polys: Poly[] = [];
  let o = 0;
  for (let i = 0; i < count; i++) {
    const f = new Int32Array(256);
    for (let j = 0; j < 256; j += 2) {
      const b0 = bytes[o++] ?? 0;
      const b1 = bytes[o++] ?? 0;
      const b2 = bytes[o++] ?? 0;
      const a = b0 | ((b1 & 0x0f) << 8);
      const b = (b1 >> 4) | (b2 << 4);
      if (a >= Q || b >= Q) return null;
      f[j] = a;
      f[j + 1] = b;
    }
    polys.push(f);
  }
  return polys;
}

/** Compress_d (§4.2.1): round(2^d/q · x) mod 2^d, exactly (q is odd, so no ties). */
function compress(x: number, d: number): number {
  return Math.floor((x * 2 ** (d + 1) + Q) / (2 * Q)) & ((1 << d) - 1);
}

/** Decompress_d: round(q/2^d · y). */
function decompress(y: number, d: number): number {
  return Math.floor((y * Q * 2 + 2 ** d) / 2 ** (d + 1));
}

/** ByteEncode_d ∘ Compress_d of one polynomial, little-endian bit order, at out[offset]. */
function encodeCompressed(f: Poly, d: number, out: Uint8Array, offset: number): void {
  let acc = 0;
  let bits = 0;
  let o = offset;
  for (let j = 0; j < 256; j++) {
    acc |= compress(f[j] ?? 0, d) << bits;
    bits += d;
    while (bits >= 8) {
      out[o++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
}

/** Decompress_d ∘ ByteDecode_d of one polynomial from bytes[offset..]. */
function decodeDecompressed(bytes: Uint8Array, offset: number, d: number): Poly {
  const f = new Int32Array(256);
  const mask = (1 << d) - 1;
  let acc = 0;
  let bits = 0;
  let o = offset;
  for (let j = 0; j < 256; j++) {
    while (bits < d) {
      acc |= (bytes[o++] ?? 0) << bits;
      bits += 8;
    }
    f[j] = decompress(acc & mask, d);
    acc >>>= d;
    bits -= d;
  }
  return f;
}

/** K-PKE.Encrypt (Algorithm 14) with t̂ and Â^T already decoded and expanded. */
function encrypt(tHat: Poly[], aT: Poly[][], m: Uint8Array, r: Uint8Array): Uint8Array {
  const y: Poly[] = [];
  for (let i = 0; i < K; i++) {
    const p = sampleCbd2(r, i);
    ntt(p);
    y.push(p);
  }
  const ct = new Uint8Array(MLKEM768_CT_BYTES);
  for (let i = 0; i < K; i++) {
    const u = new Int32Array(256);
    const row = aT[i] ?? [];
    for (let j = 0; j < K; j++) mulAcc(u, row[j] ?? new Int32Array(256), y[j] ?? new Int32Array(256));
    invNtt(u);
    addInto(u, sampleCbd2(r, K + i));
    encodeCompressed(u, DU, ct, i * 32 * DU);
  }
  const v = new Int32Array(256);
  for (let j = 0; j < K; j++) mulAcc(v, tHat[j] ?? new Int32Array(256), y[j] ?? new Int32Array(256));
  invNtt(v);
  addInto(v, sampleCbd2(r, 2 * K));
  // + Decompress_1(ByteDecode_1(m)): each bit of m adds round(q/2) = 1665
  for (let j = 0; j < 256; j++) {
    if (((m[j >> 3] ?? 0) >> (j & 7)) & 1) v[j] = ((v[j] ?? 0) + 1665) % Q;
  }
  encodeCompressed(v, DV, ct, C1_BYTES);
  return ct;
}

/** K-PKE.Decrypt (Algorithm 15). */
function decrypt(sHat: Poly[], ct: Uint8Array): Uint8Array {
  const w = new Int32Array(256);
  for (let i = 0; i < K; i++) {
    const u = decodeDecompressed(ct, i * 32 * DU, DU);
    ntt(u);
    mulAcc(w, sHat[i] ?? new Int32Array(256), u);
  }
  invNtt(w);
  const v = decodeDecompressed(ct, C1_BYTES, DV);
  const m = new Uint8Array(32);
  for (let j = 0; j < 256; j++) {
    const bit = compress(((v[j] ?? 0) - (w[j] ?? 0) + Q) % Q, 1);
    m[j >> 3] = (m[j >> 3] ?? 0) | (bit << (j & 7));
  }
  return m;
}

/** ML-KEM.KeyGen_internal (Algorithms 16 and 13) from d ‖ z; fresh randomness without a seed. */
export function mlkem768NodeKeyGen(seed?: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } {
  if (seed !== undefined && seed.length !== 64) throw new RangeError('ML-KEM seed must be 64 bytes');
  const s = seed ?? randomBytes(64);
  const d = s.subarray(0, 32);
  const z = s.subarray(32, 64);
  const g = sha3('sha3-512', d, Uint8Array.of(K));
  const rho = g.subarray(0, 32);
  const sigma = g.subarray(32, 64);
  const a = expandMatrix(rho, false);
  const sHat: Poly[] = [];
  for (let i = 0; i < K; i++) {
    const p = sampleCbd2(sigma, i);
    ntt(p);
    sHat.push(p);
  }
  const tHat: Poly[] = [];
  for (let i = 0; i < K; i++) {
    const t = sampleCbd2(sigma, K + i);
    ntt(t);
    const row = a[i] ?? [];
    for (let j = 0; j < K; j++) mulAcc(t, row[j] ?? new Int32Array(256), sHat[j] ?? new Int32Array(256));
    tHat.push(t);
  }
  const ek = new Uint8Array(MLKEM768_EK_BYTES);
  encode12(tHat, ek, 0);
  ek.set(rho, 384 * K);
  const dk = new Uint8Array(MLKEM768_DK_BYTES);
  encode12(sHat, dk, 0);
  dk.set(ek, 384 * K);
  dk.set(sha3('sha3-256', ek), 768 * K + 32);
  dk.set(z, 768 * K + 64);
  return { publicKey: ek, secretKey: dk };
}

/**
 * ML-KEM.Encaps (Algorithms 20 and 17). Throws RangeError for an encapsulation key of the wrong
 * length or one that fails the §7.2 modulus check. `message` (32 bytes) is for known-answer tests.
 */
export function mlkem768NodeEncapsulate(publicKey: Uint8Array, message?: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  if (publicKey.length !== MLKEM768_EK_BYTES) throw new RangeError('ML-KEM-768 encapsulation key must be 1184 bytes');
  const tHat = decode12(publicKey, K);
  if (tHat === null) throw new RangeError('ML-KEM-768 encapsulation key fails the modulus check');
  if (message !== undefined && message.length !== 32) throw new RangeError('ML-KEM message must be 32 bytes');
  const m = message ?? randomBytes(32);
  const rho = publicKey.subarray(384 * K);
  const g = sha3('sha3-512', m, sha3('sha3-256', publicKey));
  const cipherText = encrypt(tHat, expandMatrix(rho, true), m, g.subarray(32, 64));
  return { cipherText, sharedSecret: new Uint8Array(g.subarray(0, 32)) };
}

/** ML-KEM.Decaps (Algorithms 21 and 18), with implicit rejection. */
export function mlkem768NodeDecapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (cipherText.length !== MLKEM768_CT_BYTES) throw new RangeError('ML-KEM-768 ciphertext must be 1088 bytes');
  if (secretKey.length !== MLKEM768_DK_BYTES) throw new RangeError('ML-KEM-768 decapsulation key must be 2400 bytes');
  const sHat = decode12(secretKey.subarray(0, 384 * K), K);
  const ek = secretKey.subarray(384 * K, 768 * K + 32);
  const tHat = decode12(ek, K);
  if (sHat === null || tHat === null) throw new RangeError('ML-KEM-768 decapsulation key is malformed');
  const h = secretKey.subarray(768 * K + 32, 768 * K + 64);
  const z = secretKey.subarray(768 * K + 64);
  const m = decrypt(sHat, cipherText);
  const g = sha3('sha3-512', m, h);
  const again = encrypt(tHat, expandMatrix(ek.subarray(384 * K), true), m, g.subarray(32, 64));
  // both are MLKEM768_CT_BYTES long (checked above, and encrypt's output)
  if (timingSafeEqual(again, cipherText)) return new Uint8Array(g.subarray(0, 32));
  return new Uint8Array(shake('shake256', 32, z, cipherText));
}
