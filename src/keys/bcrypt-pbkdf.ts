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

  constructor() {
    const w = blowfishInitialWords();
    this.p.set(w.subarray(0, 18));
    this.s.set(w.subarray(18));
  }

  /**
   * Blowfish_expandstate (data = salt words) and Blowfish_expand0state (data = null): the
   * EksBlowfish key schedule. bcrypt_pbkdf only ever feeds 64-byte inputs, so key and data are
   * 16 big-endian words that the stream-to-word reader cycles through.
   */
  expand(key: Uint32Array, data: Uint32Array | null): void {
    const p = this.p;
    const s = this.s;
    for (let i = 0; i < 18; i++) p[i] = ((p[i] as number) ^ (key[i & 15] ?? 0)) >>> 0;
    let l = 0;
    let r = 0;
    let d = 0;
    for (let i = 0; i < 18 + 1024; i += 2) {
      if (data !== null) {
        l ^= data[d & 15] as number;
        r ^= data[(d + 1) & 15] as number;
        d += 2;
      }
      // 16 Feistel rounds, inlined: this loop is the whole cost of the KDF
      l ^= p[0] as number;
      for (let k = 1; k <= 16; k += 2) {
        r ^= ((((s[l >>> 24] as number) + (s[256 | ((l >>> 16) & 0xff)] as number)) ^ (s[512 | ((l >>> 8) & 0xff)] as number)) + (s[768 | (l & 0xff)] as number)) ^ (p[k] as number);
        l ^= ((((s[r >>> 24] as number) + (s[256 | ((r >>> 16) & 0xff)] as number)) ^ (s[512 | ((r >>> 8) & 0xff)] as number)) + (s[768 | (r & 0xff)] as number)) ^ (p[k + 1] as number);
      }
      const t = (r ^ (p[17] as number)) >>> 0;
      r = l >>> 0;
      l = t;
      if (i < 18) {
        p[i] = l;
        p[i + 1] = r;
      } else {
        s[i - 18] = l;
        s[i - 17] = r;
      }
    }
  }

  encryptWords(words: Uint32Array): void {
    const p = this.p;
    const s = this.s;
    for (let i = 0; i < words.length; i += 2) {
      let l = words[i] as number;
      let r = words[i + 1] as number;
      l ^= p[0] as number;
      for (let k = 1; k <= 16; k += 2) {
        r ^= ((((s[l >>> 24] as number) + (s[256 | ((l >>> 16) & 0xff)] as number)) ^ (s[512 | ((l >>> 8) & 0xff)] as number)) + (s[768 | (l & 0xff)] as number)) ^ (p[k] as number);
        l ^= ((((s[r >>> 24] as number) + (s[256 | ((r >>> 16) & 0xff)] as number)) ^ (s[512 | ((r >>> 8) & 0xff)] as number)) + (s[768 | (r & 0xff)] as number)) ^ (p[k + 1] as number);
      }
      words[i] = (r ^ (p[17] as number)) >>> 0;
      words[i + 1] = l >>> 0;
    }
  }
}

/** Big-endian words of a 64-byte value (Blowfish_stream2word over it). */
function toWords(b: Uint8Array): Uint32Array {
  const w = new Uint32Array(b.length >>> 2);
  for (let i = 0; i < w.length; i++) {
    w[i] = (((b[4 * i] ?? 0) << 24) | ((b[4 * i + 1] ?? 0) << 16) | ((b[4 * i + 2] ?? 0) << 8) | (b[4 * i + 3] ?? 0)) >>> 0;
  }
  return w;
}

const MAGIC = new TextEncoder().encode('OxychromaticBlowfishSwatDynamite');

function bcryptHash(sha2pass: Uint8Array, sha2salt: Uint8Array): Uint8Array {
  const pass = toWords(sha2pass);
  const salt = toWords(sha2salt);
  const bf = new Blowfish();
  bf.expand(pass, salt);
  for (let i = 0; i < 64; i++) {
    bf.expand(salt, null);
    bf.expand(pass, null);
  }
  const cdata = toWords(MAGIC);
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
