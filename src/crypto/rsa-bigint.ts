/**
 * RSASSA-PKCS1-v1_5 (RFC 8017 §8.2, EMSA-PKCS1-v1_5 §9.2) and RSA key generation on BigInt:
 * noble has no RSA, and the noble backend must stay independent of node:crypto.
 * Not constant time; the node backend is the one used in production (crypto/index.ts).
 */
import type { HashAlgorithm, RsaPrivateComponents, RsaPublicComponents } from './backend.js';
import { bigIntToBytes, bigIntToFixed, bytesToBigInt, modPow, stripLeadingZeros } from './bigint-bytes.js';

/** DER DigestInfo prefixes, RFC 8017 §9.2 note 1. */
const DIGEST_INFO: Record<HashAlgorithm, Uint8Array> = {
  sha1: Uint8Array.from([0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14]),
  sha256: Uint8Array.from([
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
  ]),
  sha384: Uint8Array.from([
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30,
  ]),
  sha512: Uint8Array.from([
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40,
  ]),
};

/** EMSA-PKCS1-v1_5 encoding of a digest into k bytes: 00 01 FF..FF 00 || DigestInfo || H. */
export function emsaPkcs1v15(hash: HashAlgorithm, digest: Uint8Array, k: number): Uint8Array {
  const prefix = DIGEST_INFO[hash];
  const tLen = prefix.length + digest.length;
  if (k < tLen + 11) throw new RangeError('RSA modulus too short for this hash');
  const em = new Uint8Array(k).fill(0xff);
  em[0] = 0;
  em[1] = 1;
  em[k - tLen - 1] = 0;
  em.set(prefix, k - tLen);
  em.set(digest, k - digest.length);
  return em;
}

export function rsaSignDigest(key: RsaPrivateComponents, hash: HashAlgorithm, digest: Uint8Array): Uint8Array {
  const nBytes = stripLeadingZeros(key.n);
  const k = nBytes.length;
  const n = bytesToBigInt(nBytes);
  const m = bytesToBigInt(emsaPkcs1v15(hash, digest, k));
  const p = bytesToBigInt(key.p);
  const q = bytesToBigInt(key.q);
  const d = bytesToBigInt(key.d);
  // CRT (RFC 8017 §5.1.2 2.b)
  const m1 = modPow(m, d % (p - 1n), p);
  const m2 = modPow(m, d % (q - 1n), q);
  const h = (((m1 - m2) % p) + p) % p;
  const s = m2 + ((bytesToBigInt(key.iqmp) * h) % p) * q;
  // a fault in the CRT would leak a factor of n: check before releasing the signature
  if (modPow(s, bytesToBigInt(key.e), n) !== m) throw new Error('RSA signature self-check failed');
  return bigIntToFixed(s, k);
}

export function rsaVerifyDigest(key: RsaPublicComponents, hash: HashAlgorithm, digest: Uint8Array, signature: Uint8Array): boolean {
  const nBytes = stripLeadingZeros(key.n);
  const k = nBytes.length;
  if (k < 64 || stripLeadingZeros(signature).length > k) return false;
  const n = bytesToBigInt(nBytes);
  const e = bytesToBigInt(key.e);
  const s = bytesToBigInt(signature);
  if (s >= n || e < 3n) return false;
  let expected: Uint8Array;
  try {
    expected = emsaPkcs1v15(hash, digest, k);
  } catch {
    return false;
  }
  const em = bigIntToFixed(modPow(s, e, n), k);
  let diff = 0;
  for (let i = 0; i < k; i++) diff |= (em[i] ?? 0) ^ (expected[i] ?? 0);
  return diff === 0;
}

const SMALL_PRIMES: bigint[] = (() => {
  const out: bigint[] = [];
  for (let c = 3; out.length < 300; c += 2) {
    let prime = true;
    for (let d = 3; d * d <= c; d += 2) {
      if (c % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) out.push(BigInt(c));
  }
  return out;
})();

function randomBelow(bits: number, random: (n: number) => Uint8Array): bigint {
  return bytesToBigInt(random(Math.ceil(bits / 8))) & ((1n << BigInt(bits)) - 1n);
}

/** Miller-Rabin with random bases (FIPS 186-5 B.3.1 style; 2^-80 error needs far fewer rounds at these sizes). */
function isProbablePrime(n: bigint, rounds: number, random: (n: number) => Uint8Array): boolean {
  for (const sp of SMALL_PRIMES) if (n % sp === 0n) return n === sp;
  let d = n - 1n;
  let r = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    r++;
  }
  const bits = n.toString(2).length;
  for (let i = 0; i < rounds; i++) {
    const a = 2n + (randomBelow(bits, random) % (n - 3n));
    let x = modPow(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    let composite = true;
    for (let j = 1; j < r; j++) {
      x = (x * x) % n;
      if (x === n - 1n) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

function randomPrime(bits: number, e: bigint, random: (n: number) => Uint8Array): bigint {
  for (;;) {
    // top two bits set so that p*q has exactly 2*bits bits; odd
    let c = randomBelow(bits, random) | (3n << BigInt(bits - 2)) | 1n;
    for (let step = 0; step < 2000; step++, c += 2n) {
      if ((c - 1n) % e === 0n) continue;
      if (isProbablePrime(c, 8, random)) return c;
    }
  }
}

function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [((a % m) + m) % m, m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new RangeError('not invertible');
  return ((s0 % m) + m) % m;
}

export function rsaGenerateBigInt(bits: number, random: (n: number) => Uint8Array): RsaPrivateComponents {
  if (bits < 1024 || bits % 2 !== 0) throw new RangeError('RSA modulus must be an even number of bits >= 1024');
  const e = 65537n;
  for (;;) {
    let p = randomPrime(bits / 2, e, random);
    let q = randomPrime(bits / 2, e, random);
    if (p === q) continue;
    if (p < q) [p, q] = [q, p];
    const n = p * q;
    if (n.toString(2).length !== bits) continue;
    const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
    const d = modInverse(e, lambda);
    return {
      n: bigIntToBytes(n),
      e: bigIntToBytes(e),
      d: bigIntToBytes(d),
      p: bigIntToBytes(p),
      q: bigIntToBytes(q),
      iqmp: bigIntToBytes(modInverse(q, p)),
    };
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}
