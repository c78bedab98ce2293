/**
 * Spec conformance independent of node:crypto: packets sealed by our sealers are opened by
 * reference code written here straight from the specs on @noble primitives
 * (PROTOCOL.chacha20poly1305, RFC 5647 §7.1, RFC 4344 + RFC 4253 §6.4, PROTOCOL §1.6).
 */
import { ctr, gcm } from '@noble/ciphers/aes.js';
import { chacha20orig } from '@noble/ciphers/chacha.js';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSealer } from '../../../src/transport/ciphers/index.js';
import { allCombos, keysFor } from './helpers.js';

function u32(b: Uint8Array, o = 0): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(o);
}
function be32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}
function nonce64(seq: number): Uint8Array {
  const n = new Uint8Array(8);
  new DataView(n.buffer).setUint32(4, seq);
  return n;
}
function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
function unpad(body: Uint8Array): Uint8Array {
  const pad = body[0] ?? 0;
  return body.subarray(1, body.length - pad);
}

describe('packets open with reference implementations on noble', () => {
  for (const c of allCombos(false)) {
    it(c.label, () => {
      const keys = keysFor(c);
      const sealer = createSealer(c.cipher.name, c.mac?.name ?? null, keys);
      let ctrOffset = 0;
      const ctrStream: Uint8Array[] = [];
      for (let i = 0; i < 6; i++) {
        const seq = 1000 + i;
        const payload = new Uint8Array(randomBytes(randomInt(0, 3000)));
        const p = sealer.seal(seq, payload);
        let got: Uint8Array;
        if (c.cipher.kind === 'chacha') {
          const k2 = keys.encKey.subarray(0, 32);
          const k1 = keys.encKey.subarray(32, 64);
          const len = u32(chacha20orig(k1, nonce64(seq), p.subarray(0, 4)));
          const polyKey = chacha20orig(k2, nonce64(seq), new Uint8Array(32));
          expect(Buffer.from(poly1305(p.subarray(0, 4 + len), polyKey))).toEqual(Buffer.from(p.subarray(4 + len)));
          got = unpad(chacha20orig(k2, nonce64(seq), p.subarray(4, 4 + len), undefined, 1));
        } else if (c.cipher.kind === 'aead') {
          const iv = Uint8Array.from(keys.iv);
          // invocation counter = fixed || (counter + i)
          const view = new DataView(iv.buffer);
          view.setBigUint64(4, view.getBigUint64(4) + BigInt(i));
          const len = u32(p);
          got = unpad(gcm(keys.encKey, iv, p.subarray(0, 4)).decrypt(p.subarray(4)));
          expect(len).toBe(p.length - 20);
        } else {
          const mac = c.mac;
          if (mac === null) throw new Error('stream cipher without MAC');
          const hash = mac.hash === 'sha1' ? sha1 : mac.hash === 'sha256' ? sha256 : sha512;
          const macLen = mac.macLength;
          const ct = p.subarray(0, p.length - macLen);
          // CTR is one stream for the key lifetime: decrypt everything sent so far from the IV
          ctrStream.push(mac.etm ? ct.subarray(4) : ct);
          const all = ctr(keys.encKey, keys.iv).decrypt(cat(...ctrStream));
          const plain = all.subarray(ctrOffset);
          ctrOffset = all.length;
          const macInput = mac.etm ? ct : plain;
          const expected = hmac(hash, keys.macKey, cat(be32(seq), macInput));
          expect(Buffer.from(expected)).toEqual(Buffer.from(p.subarray(p.length - macLen)));
          got = unpad(mac.etm ? plain : plain.subarray(4));
        }
        expect(Buffer.from(got).equals(Buffer.from(payload))).toBe(true);
      }
    });
  }
});
