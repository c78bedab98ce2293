import { randomBytes } from 'node:crypto';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { describe, expect, it } from 'vitest';
import {
  MLKEM768_CT_BYTES,
  MLKEM768_DK_BYTES,
  MLKEM768_EK_BYTES,
  mlkem768NodeDecapsulate,
  mlkem768NodeEncapsulate,
  mlkem768NodeKeyGen,
} from '../../src/crypto/mlkem-node.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// @noble/post-quantum is the reference: it is tested against FIPS 203's known-answer vectors.
describe('ML-KEM-768 with node:crypto SHA-3 (mlkem-node.ts) against @noble/post-quantum', () => {
  it('key generation from a seed gives noble\'s keys, byte for byte', () => {
    for (let i = 0; i < 40; i++) {
      const seed = randomBytes(64);
      const ours = mlkem768NodeKeyGen(seed);
      const ref = ml_kem768.keygen(seed);
      expect(ours.publicKey.length).toBe(MLKEM768_EK_BYTES);
      expect(ours.secretKey.length).toBe(MLKEM768_DK_BYTES);
      expect(hex(ours.publicKey)).toBe(hex(ref.publicKey));
      expect(hex(ours.secretKey)).toBe(hex(ref.secretKey));
    }
  });

  it('encapsulation with a given message gives noble\'s ciphertext and shared secret', () => {
    for (let i = 0; i < 40; i++) {
      const { publicKey } = ml_kem768.keygen(randomBytes(64));
      const m = randomBytes(32);
      const ours = mlkem768NodeEncapsulate(publicKey, m);
      const ref = ml_kem768.encapsulate(publicKey, m);
      expect(ours.cipherText.length).toBe(MLKEM768_CT_BYTES);
      expect(hex(ours.cipherText)).toBe(hex(ref.cipherText));
      expect(hex(ours.sharedSecret)).toBe(hex(ref.sharedSecret));
    }
  });

  it('decapsulates noble\'s ciphertexts, and noble decapsulates ours', () => {
    for (let i = 0; i < 40; i++) {
      const ours = mlkem768NodeKeyGen();
      const theirs = ml_kem768.encapsulate(ours.publicKey);
      expect(hex(mlkem768NodeDecapsulate(theirs.cipherText, ours.secretKey))).toBe(hex(theirs.sharedSecret));
      const ref = ml_kem768.keygen();
      const mine = mlkem768NodeEncapsulate(ref.publicKey);
      expect(hex(ml_kem768.decapsulate(mine.cipherText, ref.secretKey))).toBe(hex(mine.sharedSecret));
    }
  });

  it('implicit rejection (FIPS 203 §6.3): a changed ciphertext gives noble\'s rejection key', () => {
    for (let i = 0; i < 20; i++) {
      const seed = randomBytes(64);
      const { publicKey, secretKey } = mlkem768NodeKeyGen(seed);
      const { cipherText, sharedSecret } = mlkem768NodeEncapsulate(publicKey);
      const bad = cipherText.slice();
      const at = i * 53;
      bad[at] = (bad[at] ?? 0) ^ (1 << (i % 8));
      const k = mlkem768NodeDecapsulate(bad, secretKey);
      expect(hex(k)).not.toBe(hex(sharedSecret));
      expect(hex(k)).toBe(hex(ml_kem768.decapsulate(bad, secretKey)));
    }
  });

  it('refuses wrong lengths and an encapsulation key that fails the modulus check (§7.2)', () => {
    const { publicKey, secretKey } = mlkem768NodeKeyGen();
    expect(() => mlkem768NodeEncapsulate(publicKey.subarray(1))).toThrow(RangeError);
    const nonCanonical = publicKey.slice();
    // coefficient 0 = 0xfff ≥ q
    nonCanonical[0] = 0xff;
    nonCanonical[1] = (nonCanonical[1] ?? 0) | 0x0f;
    expect(() => mlkem768NodeEncapsulate(nonCanonical)).toThrow(/modulus/);
    expect(() => ml_kem768.encapsulate(nonCanonical)).toThrow();
    // the last coefficient of the last polynomial, just at q
    const atQ = publicKey.slice();
    const o = 384 * 3 - 3;
    const q = 3329;
    const prev = (atQ[o] ?? 0) | (((atQ[o + 1] ?? 0) & 0x0f) << 8);
    atQ[o + 1] = (prev >> 8) | ((q & 0x0f) << 4);
    atQ[o + 2] = q >> 4;
    expect(() => mlkem768NodeEncapsulate(atQ)).toThrow(/modulus/);
    expect(() => mlkem768NodeDecapsulate(new Uint8Array(MLKEM768_CT_BYTES - 1), secretKey)).toThrow(RangeError);
    expect(() => mlkem768NodeDecapsulate(new Uint8Array(MLKEM768_CT_BYTES), secretKey.subarray(1))).toThrow(RangeError);
    expect(() => mlkem768NodeKeyGen(new Uint8Array(63))).toThrow(RangeError);
  });
});
