import { chacha20orig } from '@noble/ciphers/chacha.js';
import { createCipheriv, randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChaChaBlockKey } from '../../src/crypto/chacha20-block.js';
import { nobleSymmetric, nodeSymmetric } from '../../src/crypto/index.js';
import { hex, toHex } from './vectors/rfc8439.js';

describe('ChaCha20 single block in TypeScript', () => {
  it('RFC 8439 §2.3.2 block function test vector', () => {
    const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    // counter 1, nonce 00:00:00:09:00:00:00:4a:00:00:00:00 as little-endian words
    const out = new ChaChaBlockKey(key).block(1, 0x09000000, 0x4a000000, 0, new Uint8Array(64));
    expect(toHex(out)).toBe(
      '10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e' +
        'd2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e',
    );
  });

  it("OpenSSH's block 0 for a sequence number matches node:crypto and noble's DJB ChaCha20", () => {
    for (let i = 0; i < 200; i++) {
      const key = randomBytes(32);
      const seq = i < 4 ? [0, 1, 0xffffffff, 0x80000000][i] ?? 0 : randomInt(0, 2 ** 32);
      const js = new ChaChaBlockKey(key).sshBlock0(seq, new Uint8Array(64));
      const iv = Buffer.alloc(16);
      iv.writeUInt32BE(seq, 12);
      expect(toHex(js)).toBe(toHex(createCipheriv('chacha20', key, iv).update(new Uint8Array(64))));
      const nonce = new Uint8Array(8);
      new DataView(nonce.buffer).setUint32(4, seq);
      expect(toHex(js)).toBe(toHex(chacha20orig(key, nonce, new Uint8Array(64))));
    }
  });

  it('sshXor from block 1 matches node:crypto for every length 0..600', () => {
    const key = randomBytes(32);
    const k = new ChaChaBlockKey(key);
    for (let len = 0; len <= 600; len++) {
      const seq = randomInt(0, 2 ** 32);
      const data = randomBytes(len);
      const iv = Buffer.alloc(16);
      iv[0] = 1;
      iv.writeUInt32BE(seq, 12);
      expect(toHex(k.sshXor(seq, 1, data))).toBe(toHex(createCipheriv('chacha20', key, iv).update(data)));
    }
  });

  it('node and noble packet streams agree on both sides of the short-payload threshold', () => {
    const key = randomBytes(32);
    const a = nodeSymmetric.chacha20(key);
    const b = nobleSymmetric.chacha20(key);
    for (const len of [0, 1, 63, 64, 65, 200, 511, 512, 513, 1000, 5000]) {
      const seq = randomInt(0, 2 ** 32);
      const data = randomBytes(len);
      const sa = a.packetStream(seq);
      const sb = b.packetStream(seq);
      expect(toHex(sa.polyKey)).toBe(toHex(sb.polyKey));
      expect(toHex(sa.xor(data)), `length ${len}`).toBe(toHex(sb.xor(data)));
    }
  });

  it('rejects a key of the wrong length', () => {
    expect(() => new ChaChaBlockKey(new Uint8Array(16))).toThrow(RangeError);
  });
});
