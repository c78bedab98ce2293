import { randomBytes, randomInt } from 'node:crypto';
import { poly1305 as noblePoly1305 } from '@noble/ciphers/_poly1305.js';
import { describe, expect, it } from 'vitest';
import { nobleSymmetric } from '../../src/crypto/noble-symmetric.js';
import { poly1305Wasm } from '../../src/crypto/poly1305-wasm.js';
import { hex, IETF_TEXT, JABBERWOCKY, POLY1305_VECTORS, toHex } from './vectors/rfc8439.js';

describe('Poly1305 in WebAssembly', () => {
  it('messages have the lengths RFC 8439 gives', () => {
    expect(IETF_TEXT.length).toBe(375);
    expect(JABBERWOCKY.length).toBe(127);
  });

  for (const v of POLY1305_VECTORS) {
    it(`RFC 8439 ${v.name}`, () => {
      expect(toHex(poly1305Wasm(hex(v.key), v.msg))).toBe(v.tag);
      // the reference agrees, so a wrong vector cannot pass unnoticed
      expect(toHex(noblePoly1305(v.msg, hex(v.key)))).toBe(v.tag);
    });
  }

  it('agrees with noble on random keys and messages of every length 0..300 and large ones', () => {
    for (let len = 0; len <= 300; len++) {
      const key = randomBytes(32);
      const msg = randomBytes(len);
      expect(toHex(poly1305Wasm(key, msg))).toBe(toHex(noblePoly1305(msg, key)));
    }
    for (const len of [32768, 65536 + 7, 300_000]) {
      const key = randomBytes(32);
      const msg = randomBytes(len);
      expect(toHex(poly1305Wasm(key, msg))).toBe(toHex(noblePoly1305(msg, key)));
    }
  });

  it('agrees with noble on limb-boundary inputs (all-ones keys and messages)', () => {
    for (let i = 0; i < 200; i++) {
      const key = new Uint8Array(32).fill(i % 2 ? 0xff : 0);
      key.set(randomBytes(randomInt(0, 33)).map((b) => b | 0xf0));
      const msg = new Uint8Array(randomInt(0, 100)).fill(0xff);
      expect(toHex(poly1305Wasm(key, msg))).toBe(toHex(noblePoly1305(msg, key)));
    }
  });

  it('a message in two parts has the tag of their concatenation (the wasm and the noble backend)', () => {
    for (const [a, b] of [
      [0, 0],
      [4, 0],
      [4, 33],
      [5, 70000],
      [0, 17],
    ] as const) {
      const key = randomBytes(32);
      const first = randomBytes(a);
      const second = randomBytes(b);
      const whole = toHex(noblePoly1305(Buffer.concat([first, second]), key));
      expect(toHex(poly1305Wasm(key, first, second))).toBe(whole);
      expect(toHex(nobleSymmetric.poly1305(key, first, second))).toBe(whole);
    }
  });

  it('rejects a key of the wrong length', () => {
    expect(() => poly1305Wasm(new Uint8Array(31), new Uint8Array(1))).toThrow(RangeError);
  });
});
