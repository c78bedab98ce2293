import { describe, expect, it } from 'vitest';
import { KeyFormatError } from '../../src/keys/errors.js';
import { bcryptPbkdf, blowfishInitialWords } from '../../src/keys/bcrypt-pbkdf.js';

describe('Blowfish constants computed from pi', () => {
  it('match the published first and last P-array and S-box words (Schneier, Blowfish 1993)', () => {
    const w = blowfishInitialWords();
    expect(w.length).toBe(1042);
    expect(w[0]).toBe(0x243f6a88); // P[0]
    expect(w[1]).toBe(0x85a308d3);
    expect(w[17]).toBe(0x8979fb1b); // P[17]
    expect(w[18]).toBe(0xd1310ba6); // S0[0]
    expect(w[18 + 255]).toBe(0x6e85076a); // S0[255]
    expect(w[18 + 256]).toBe(0x4b7a70e9); // S1[0]
    expect(w[1041]).toBe(0x3ac372e6); // S3[255]
  });
});

describe('bcrypt_pbkdf', () => {
  it('is deterministic, depends on every input and spreads output over the key', () => {
    const pass = new TextEncoder().encode('password');
    const salt = new TextEncoder().encode('salt');
    const a = bcryptPbkdf(pass, salt, 2, 48);
    expect(a.length).toBe(48);
    expect(bcryptPbkdf(pass, salt, 2, 48)).toEqual(a);
    expect(bcryptPbkdf(pass, salt, 3, 48)).not.toEqual(a);
    expect(bcryptPbkdf(new TextEncoder().encode('passwore'), salt, 2, 48)).not.toEqual(a);
    // a shorter key is not a prefix of the longer one: the output is strided across blocks
    expect(bcryptPbkdf(pass, salt, 2, 32)).not.toEqual(a.subarray(0, 32));
  });
  it('refuses round counts past the limit with a clear error', () => {
    expect(() => bcryptPbkdf(new Uint8Array(1), new Uint8Array(16), 5000, 48)).toThrow(KeyFormatError);
    expect(() => bcryptPbkdf(new Uint8Array(1), new Uint8Array(16), 5000, 48)).toThrow(/exceed the limit/);
    expect(() => bcryptPbkdf(new Uint8Array(1), new Uint8Array(16), 0, 48)).toThrow(KeyFormatError);
  });
});
