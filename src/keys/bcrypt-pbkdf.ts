/**
 * bcrypt_pbkdf, the KDF of encrypted openssh-key-v1 files (PROTOCOL.key; OpenBSD's
 * bcrypt_pbkdf(3)), written here from the published algorithm. Blowfish's initial P-array and
 * S-boxes are the fractional hex digits of pi (Schneier 1993); rather than carry 4 KiB of
 * constants we compute them once, exactly, with Machin's formula in BigInt (~20 ms), and the
 * tests pin the well-known first and last words.
 *
 * Why not the `bcrypt-pbkdf` npm package: it drags tweetnacl in, is untyped CommonJS, and the
 * whole algorithm is ~120 lines; owning it keeps the key path on our crypto port (SHA-512 via
 * defaultBackend) with no extra dependency.
 */
import { defaultBackend } from '../crypto/index.js';
import { KeyFormatError } from './errors.js';

const WORDS = 18 + 4 * 256;
let piWords: Uint32Array | null = null;

/** The first 1042 32-bit words of pi's fractional part (P-array then S-boxes). */
export function blowfishInitialWords(): Uint32Array {
  if (piWords !== null) return piWords;
  const hexDigits = WORDS * 8;
  const guard = 16;
  const scale = 1n << BigInt(4 * (hexDigits + guard));
  const arctanInv = (x: bigint): bigint => {
    const x2 = x * x;
    let term = scale / x;
    let sum = 0n;
    for (let k = 1n; term !== 0n; k += 2n) {
      sum += (k & 2n) === 0n ? term / k : -(term / k);
      term /= x2;
    }
    return sum;
  };
  const pi = 4n * (4n * arctanInv(5n) - arctanInv(239n));
  const frac = (pi - 3n * scale) >> BigInt(4 * guard);
  const hex = frac.toString(16).padStart(hexDigits, '0');
  const words = new Uint32Array(WORDS);
  for (let i = 0; i < WORDS; i++) words[i] = Number.parseInt(hex.slice(i * 8, i * 8 + 8), 16);
  piWords = words;
  return words;
}

class Blowfish {
  readonly p = new Uint32Array(18);
  readonly s = new Uint32Array(1024);
  private l = 0;
  private r = 0;

  constructor() {
    const w = blowfishInitialWords();
    this.p.set(w.subarray(0, 18));
    this.s.set(w.subarray(18));
  }

  /** Enciphers (this.l, this.r) in place: 16 Feistel rounds. */
  private encipher(): void {
    const p = this.p;
    const s = this.s;
    let l = this.l;
    let r = this.r;
    l ^= p[0] ?? 0;
    for (let i = 1; i <= 16; i += 2) {
      r ^= ((((s[l >>> 24] ?? 0) + (s[256 | ((l >>> 16) & 0xff)] ?? 0)) ^ (s[512 | ((l >>> 8) & 0xff)] ?? 0)) + (s[768 | (l & 0xff)] ?? 0)) ^ (p[i] ?? 0);
      l ^= ((((s[r >>> 24] ?? 0) + (s[256 | ((r >>> 16) & 0xff)] ?? 0)) ^ (s[512 | ((r >>> 8) & 0xff)] ?? 0)) + (s[768 | (r & 0xff)] ?? 0)) ^ (p[i + 1] ?? 0);
    }
    this.l = (r ^ (p[17] ?? 0)) >>> 0;
    this.r = l >>> 0;
  }

  /** Blowfish_expandstate (data = salt) and Blowfish_expand0state (data = null): the EksBlowfish key schedule. */
  expand(key: Uint8Array, data: Uint8Array | null): void {
    let j = 0;
    for (let i = 0; i < 18; i++) {
      const [w, nj] = streamWord(key, j);
      j = nj;
      this.p[i] = ((this.p[i] ?? 0) ^ w) >>> 0;
    }
    let d = 0;
    this.l = 0;
    this.r = 0;
    const next = (arr: Uint32Array, i: number): void => {
      if (data !== null) {
        const [a, d1] = streamWord(data, d);
        const [b, d2] = streamWord(data, d1);
        d = d2;
        this.l = (this.l ^ a) >>> 0;
        this.r = (this.r ^ b) >>> 0;
      }
      this.encipher();
      arr[i] = this.l;
      arr[i + 1] = this.r;
    };
    for (let i = 0; i < 18; i += 2) next(this.p, i);
    for (let i = 0; i < 1024; i += 2) next(this.s, i);
  }

  encryptWords(words: Uint32Array): void {
    for (let i = 0; i < words.length; i += 2) {
      this.l = words[i] ?? 0;
      this.r = words[i + 1] ?? 0;
      this.encipher();
      words[i] = this.l;
      words[i + 1] = this.r;
    }
  }
}

/** Blowfish_stream2word: the next big-endian word of `data`, wrapping around. */
function streamWord(data: Uint8Array, j: number): [number, number] {
  let w = 0;
  for (let k = 0; k < 4; k++) {
    if (j >= data.length) j = 0;
    w = ((w << 8) | (data[j] ?? 0)) >>> 0;
    j++;
  }
  return [w, j];
}

const MAGIC = new TextEncoder().encode('OxychromaticBlowfishSwatDynamite');

function bcryptHash(sha2pass: Uint8Array, sha2salt: Uint8Array): Uint8Array {
  const bf = new Blowfish();
  bf.expand(sha2pass, sha2salt);
  for (let i = 0; i < 64; i++) {
    bf.expand(sha2salt, null);
    bf.expand(sha2pass, null);
  }
  const cdata = new Uint32Array(8);
  let j = 0;
  for (let i = 0; i < 8; i++) {
    const [w, nj] = streamWord(MAGIC, j);
    cdata[i] = w;
    j = nj;
  }
  for (let i = 0; i < 64; i++) bf.encryptWords(cdata);
  // the output words are stored little-endian (a quirk of the reference implementation)
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const w = cdata[i] ?? 0;
    out[4 * i] = w & 0xff;
    out[4 * i + 1] = (w >>> 8) & 0xff;
    out[4 * i + 2] = (w >>> 16) & 0xff;
    out[4 * i + 3] = w >>> 24;
  }
  return out;
}

/** Upper bound on rounds by default: ssh-keygen uses 16; 1024 already costs seconds. */
export const DEFAULT_MAX_BCRYPT_ROUNDS = 1024;

/** bcrypt_pbkdf(pass, salt, rounds) → keyLength bytes. */
export function bcryptPbkdf(
  passphrase: Uint8Array,
  salt: Uint8Array,
  rounds: number,
  keyLength: number,
  maxRounds = DEFAULT_MAX_BCRYPT_ROUNDS,
): Uint8Array {
  if (!Number.isInteger(rounds) || rounds < 1) throw new KeyFormatError('bcrypt rounds must be at least 1');
  if (rounds > maxRounds) throw new KeyFormatError(`bcrypt rounds ${rounds} exceed the limit of ${maxRounds}`);
  if (keyLength < 1 || keyLength > 1024) throw new KeyFormatError('bcrypt key length out of range');
  if (salt.length < 1 || salt.length > 1024) throw new KeyFormatError('bcrypt salt length out of range');
  const stride = Math.ceil(keyLength / 32);
  const amt = Math.ceil(keyLength / stride);
  const key = new Uint8Array(keyLength);
  const sha2pass = defaultBackend.hash('sha512', passphrase);
  const countSalt = new Uint8Array(salt.length + 4);
  countSalt.set(salt);
  let remaining = keyLength;
  for (let count = 1; remaining > 0; count++) {
    countSalt[salt.length] = (count >>> 24) & 0xff;
    countSalt[salt.length + 1] = (count >>> 16) & 0xff;
    countSalt[salt.length + 2] = (count >>> 8) & 0xff;
    countSalt[salt.length + 3] = count & 0xff;
    let tmp = bcryptHash(sha2pass, defaultBackend.hash('sha512', countSalt));
    const out = tmp.slice();
    for (let i = 1; i < rounds; i++) {
      tmp = bcryptHash(sha2pass, defaultBackend.hash('sha512', tmp));
      for (let k = 0; k < out.length; k++) out[k] = (out[k] ?? 0) ^ (tmp[k] ?? 0);
    }
    // the output is spread across the key with `stride` so every block feeds every part
    const take = Math.min(amt, remaining);
    let i = 0;
    for (; i < take; i++) {
      const dest = i * stride + (count - 1);
      if (dest >= keyLength) break;
      key[dest] = out[i] ?? 0;
    }
    remaining -= i;
  }
  return key;
}
