/**
 * Symmetric primitives on @noble/ciphers and @noble/hashes: the portable reference, measured
 * against node:crypto in bench/crypto.ts.
 */
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { ctr, gcm } from '@noble/ciphers/aes.js';
import { chacha20, chacha20orig } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../wire/index.js';
import type { HashAlgorithm } from './backend.js';
import { type AesCtrStream, type AesGcmKey, type ChaChaKey, type HmacKey, type SymmetricBackend, seqNonce } from './symmetric.js';

export const NOBLE_HASHES = { sha1, sha256, sha384, sha512 } as const;

const ZERO32 = new Uint8Array(32);

function checkAesKey(raw: Uint8Array): void {
  if (raw.length !== 16 && raw.length !== 24 && raw.length !== 32) throw new RangeError(`no AES with a ${raw.length}-byte key`);
}

function nobleChaCha(raw: Uint8Array): ChaChaKey {
  if (raw.length !== 32) throw new RangeError('chacha20 key must be 32 bytes');
  const key = Uint8Array.from(raw);
  return {
    xor(iv16, data) {
      if (iv16.length !== 16) throw new RangeError('chacha20 state IV must be 16 bytes');
      const counter = ((iv16[0] ?? 0) | ((iv16[1] ?? 0) << 8) | ((iv16[2] ?? 0) << 16) | ((iv16[3] ?? 0) << 24)) >>> 0;
      // the IETF form with words 13..15 as the nonce covers DJB's layout too
      return chacha20(key, iv16.slice(4), data, undefined, counter);
    },
    lengthXor: (seq, data) => chacha20orig(key, seqNonce(seq), data),
    packetStream(seq) {
      const nonce = seqNonce(seq);
      return {
        polyKey: chacha20orig(key, nonce, ZERO32),
        xor: (data) => chacha20orig(key, nonce, data, undefined, 1),
      };
    },
  };
}

function nobleGcm(raw: Uint8Array): AesGcmKey {
  checkAesKey(raw);
  const key = Uint8Array.from(raw);
  return {
    sealInto(iv, aad, plaintext, out, offset) {
      out.set(gcm(key, iv, aad).encrypt(plaintext), offset);
    },
    seal(iv, aad, plaintext) {
      const sealed = gcm(key, iv, aad).encrypt(plaintext);
      const n = sealed.length - 16;
      return { ciphertext: sealed.subarray(0, n), tag: sealed.subarray(n) };
    },
    open(iv, aad, ciphertextAndTag) {
      try {
        return gcm(key, iv, aad).decrypt(ciphertextAndTag);
      } catch {
        return null;
      }
    },
  };
}

function nobleCtr(raw: Uint8Array, ivRaw: Uint8Array): AesCtrStream {
  checkAesKey(raw);
  if (ivRaw.length !== 16) throw new RangeError('AES-CTR IV must be 16 bytes');
  const key = Uint8Array.from(raw);
  const counter = Uint8Array.from(ivRaw);
  const zero = new Uint8Array(16);
  return {
    update(data) {
      if (data.length % 16 !== 0) throw new RangeError('AES-CTR updates must be block aligned');
      const out = ctr(key, counter).encrypt(data);
      let carry = data.length / 16;
      for (let i = 15; i >= 0 && carry > 0; i--) {
        const v = (counter[i] ?? 0) + (carry & 0xff);
        counter[i] = v & 0xff;
        carry = Math.floor(carry / 256) + (v >> 8);
      }
      return out;
    },
    peekBlock: () => ctr(key, counter).encrypt(zero),
  };
}

function nobleHmac(alg: HashAlgorithm, raw: Uint8Array): HmacKey {
  const key = Uint8Array.from(raw);
  const hash = NOBLE_HASHES[alg];
  return { mac: (a, b) => hmac.create(hash, key).update(a).update(b).digest() };
}

export const nobleSymmetric: SymmetricBackend = {
  name: 'noble',
  chacha20: nobleChaCha,
  poly1305: (key, message, more) => poly1305(more === undefined ? message : concatBytes(message, more), key),
  aesGcm: nobleGcm,
  aesCtr: nobleCtr,
  hmac: nobleHmac,
};
