import { getDiffieHellman } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { modpPrime } from '../../src/crypto/modp-groups.js';
import { checkModpPublic, nodeBackend as b } from '../../src/crypto/node-backend.js';
import { SshProtocolError } from '../../src/wire/index.js';

const enc = new TextEncoder();

describe('node backend: key agreement', () => {
  it('x25519 agrees and rejects small-order / wrong-length peers', () => {
    const a = b.x25519();
    const c = b.x25519();
    expect(Buffer.from(a.computeSecret(c.publicKey))).toEqual(Buffer.from(c.computeSecret(a.publicKey)));
    // u = 0 and u = 1 are small-order points: the shared secret would be all zero (RFC 7748 §6.1)
    expect(() => a.computeSecret(new Uint8Array(32))).toThrow(SshProtocolError);
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(() => a.computeSecret(one)).toThrow(SshProtocolError);
    expect(() => a.computeSecret(new Uint8Array(31))).toThrow(SshProtocolError);
  });

  for (const curve of ['p256', 'p384', 'p521'] as const) {
    it(`ECDH ${curve} agrees and rejects bad points`, () => {
      const a = b.ecdh(curve);
      const c = b.ecdh(curve);
      expect(Buffer.from(a.computeSecret(c.publicKey))).toEqual(Buffer.from(c.computeSecret(a.publicKey)));
      const off = c.publicKey.slice();
      off[off.length - 1] = (off[off.length - 1] ?? 0) ^ 1;
      expect(() => a.computeSecret(off)).toThrow(SshProtocolError);
      const compressed = c.publicKey.slice(0, (c.publicKey.length + 1) / 2);
      compressed[0] = 2;
      expect(() => a.computeSecret(compressed)).toThrow(SshProtocolError);
    });
  }

  for (const group of [14, 16, 18] as const) {
    it(`MODP group ${group}: prime matches OpenSSL, agreement, range checks`, () => {
      const p = modpPrime(group);
      expect(p.toString(16)).toBe(getDiffieHellman(`modp${group}`).getPrime('hex').replace(/^0+/, ''));
      const a = b.modp(group);
      const c = b.modp(group);
      expect(Buffer.from(a.computeSecret(c.publicKey))).toEqual(Buffer.from(c.computeSecret(a.publicKey)));
      const pm1 = Buffer.from((p - 1n).toString(16), 'hex');
      for (const bad of [new Uint8Array([0]), new Uint8Array([1]), pm1, Buffer.from(p.toString(16), 'hex')]) {
        expect(() => a.computeSecret(bad)).toThrow(SshProtocolError);
      }
      expect(() => checkModpPublic(group, new Uint8Array([2]))).not.toThrow();
    });
  }

  it('ML-KEM-768 encapsulation agrees', () => {
    const kp = b.mlkem768KeyPair();
    const { cipherText, sharedSecret } = b.mlkem768Encapsulate(kp.publicKey);
    expect(Buffer.from(kp.decapsulate(cipherText))).toEqual(Buffer.from(sharedSecret));
  });
});

describe('node backend: signatures', () => {
  const msg = enc.encode('gatehouse');
  it('ed25519 sign/verify', () => {
    const seed = b.randomBytes(32);
    const pub = b.ed25519PublicKey(seed);
    const sig = b.ed25519Sign(seed, msg);
    expect(b.ed25519Verify(pub, msg, sig)).toBe(true);
    expect(b.ed25519Verify(pub, enc.encode('gatehousf'), sig)).toBe(false);
  });
  for (const curve of ['p256', 'p384', 'p521'] as const) {
    it(`ECDSA ${curve} sign/verify`, () => {
      const d = b.randomBytes(curve === 'p521' ? 65 : curve === 'p384' ? 48 : 32);
      const pub = b.ecdsaPublicKey(curve, d);
      const { r, s } = b.ecdsaSign(curve, d, msg);
      expect(b.ecdsaVerify(curve, pub, msg, r, s)).toBe(true);
      expect(b.ecdsaVerify(curve, pub, enc.encode('x'), r, s)).toBe(false);
    });
  }
  it('RSA generate/sign/verify', () => {
    const k = b.rsaGenerate(2048);
    for (const h of ['sha256', 'sha512', 'sha1'] as const) {
      const sig = b.rsaSign(k, h, msg);
      expect(b.rsaVerify(k, h, msg, sig)).toBe(true);
      expect(b.rsaVerify(k, h, enc.encode('x'), sig)).toBe(false);
    }
  });
});
