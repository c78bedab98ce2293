/**
 * Symmetric primitives on node:crypto (OpenSSL's assembly AES-NI/AVX2 paths), with the
 * WebAssembly Poly1305, since node:crypto exposes no raw Poly1305.
 */
import { type Cipher, createCipheriv, createDecipheriv, createHmac, createSecretKey } from 'node:crypto';
import type { HashAlgorithm } from './backend.js';
import { ChaChaBlockKey } from './chacha20-block.js';
import { poly1305Wasm } from './poly1305-wasm.js';
import type { AesCtrStream, AesGcmKey, ChaChaKey, HmacKey, SymmetricBackend } from './symmetric.js';

function aesName(keyLength: number, mode: 'ctr' | 'ecb'): `aes-${128 | 192 | 256}-${typeof mode}` {
  switch (keyLength) {
    case 16:
      return `aes-128-${mode}`;
    case 24:
      return `aes-192-${mode}`;
    case 32:
      return `aes-256-${mode}`;
    default:
      throw new RangeError(`no AES with a ${keyLength}-byte key`);
  }
}

/**
 * Below this many bytes, ChaCha20 in TypeScript (~0.3 µs per 64-byte block) beats creating a
 * node:crypto cipher (~3 µs, then ~2 GB/s); interactive traffic is mostly such packets.
 */
const SMALL_PAYLOAD = 512;

function nodeChaCha(raw: Uint8Array): ChaChaKey {
  if (raw.length !== 32) throw new RangeError('chacha20 key must be 32 bytes');
  const key = createSecretKey(raw);
  // Single blocks (length, Poly1305 key) are computed in TypeScript: cheaper than a cipher context.
  const blockKey = new ChaChaBlockKey(raw);
  const block = new Uint8Array(64);
  // node's 16-byte IV = 64-bit LE block counter || 64-bit nonce, the layout OpenSSH uses
  const iv = Buffer.alloc(16);
  return {
    xor(iv16, data) {
      if (iv16.length !== 16) throw new RangeError('chacha20 state IV must be 16 bytes');
      return createCipheriv('chacha20', key, iv16).update(data);
    },
    lengthXor(seq, data) {
      if (data.length > 64) throw new RangeError('lengthXor covers one block');
      const ks = blockKey.sshBlock0(seq, block);
      const out = new Uint8Array(data.length);
      for (let i = 0; i < data.length; i++) out[i] = (data[i] ?? 0) ^ (ks[i] ?? 0);
      return out;
    },
    packetStream(seq) {
      const polyKey = blockKey.sshBlock0(seq, new Uint8Array(64)).subarray(0, 32);
      return {
        polyKey,
        // the payload starts at block 1; short payloads skip the node:crypto context entirely
        xor(data) {
          if (data.length <= SMALL_PAYLOAD) return blockKey.sshXor(seq, 1, data);
          iv[0] = 1;
          iv.writeUInt32BE(seq >>> 0, 12);
          return createCipheriv('chacha20', key, iv).update(data);
        },
      };
    },
  };
}

function nodeGcm(raw: Uint8Array): AesGcmKey {
  const alg = raw.length === 16 ? 'aes-128-gcm' : raw.length === 32 ? 'aes-256-gcm' : null;
  if (alg === null) throw new RangeError(`no SSH AES-GCM with a ${raw.length}-byte key`);
  const key = createSecretKey(raw);
  return {
    sealInto(iv, aad, plaintext, out, offset) {
      const c = createCipheriv(alg, key, iv, { authTagLength: 16 });
      c.setAAD(aad);
      const ct = c.update(plaintext);
      c.final();
      out.set(ct, offset);
      out.set(c.getAuthTag(), offset + ct.length);
    },
    seal(iv, aad, plaintext) {
      const c = createCipheriv(alg, key, iv, { authTagLength: 16 });
      c.setAAD(aad);
      const ciphertext = c.update(plaintext);
      c.final();
      return { ciphertext, tag: c.getAuthTag() };
    },
    open(iv, aad, ciphertextAndTag) {
      if (ciphertextAndTag.length < 16) return null;
      const n = ciphertextAndTag.length - 16;
      const d = createDecipheriv(alg, key, iv, { authTagLength: 16 });
      d.setAAD(aad);
      d.setAuthTag(ciphertextAndTag.subarray(n));
      const pt = d.update(ciphertextAndTag.subarray(0, n));
      try {
        d.final();
      } catch {
        return null;
      }
      return pt;
    },
  };
}

/**
 * One continuous CTR context per direction. peekBlock encrypts the current counter block with a
 * separate ECB context, so the stream itself is never rewound or recreated.
 */
function nodeCtr(raw: Uint8Array, ivRaw: Uint8Array): AesCtrStream {
  if (ivRaw.length !== 16) throw new RangeError('AES-CTR IV must be 16 bytes');
  const key = createSecretKey(raw);
  const stream: Cipher = createCipheriv(aesName(raw.length, 'ctr'), key, ivRaw);
  let ecb: Cipher | null = null;
  const counter = Buffer.from(ivRaw);
  const advance = (blocks: number): void => {
    let carry = blocks;
    for (let i = 15; i >= 0 && carry > 0; i--) {
      const v = (counter[i] ?? 0) + (carry & 0xff);
      counter[i] = v & 0xff;
      carry = Math.floor(carry / 256) + (v >> 8);
    }
  };
  return {
    update(data) {
      if (data.length % 16 !== 0) throw new RangeError('AES-CTR updates must be block aligned');
      advance(data.length / 16);
      return stream.update(data);
    },
    peekBlock() {
      if (ecb === null) {
        ecb = createCipheriv(aesName(raw.length, 'ecb'), key, null);
        ecb.setAutoPadding(false);
      }
      return ecb.update(counter);
    },
  };
}

function nodeHmac(alg: HashAlgorithm, raw: Uint8Array): HmacKey {
  const key = createSecretKey(raw);
  return { mac: (a, b) => createHmac(alg, key).update(a).update(b).digest() };
}

export const nodeSymmetric: SymmetricBackend = {
  name: 'node',
  chacha20: nodeChaCha,
  poly1305: poly1305Wasm,
  aesGcm: nodeGcm,
  aesCtr: nodeCtr,
  hmac: nodeHmac,
};
