/**
 * One known-answer table, run against both backends (DESIGN.md principle 4). Sources are named
 * beside each vector in ./vectors.
 */
import { describe, expect, it } from 'vitest';
import type { CryptoBackend, DhKeyPair, EcCurve, ModpGroup } from '../../src/crypto/backend.js';
import { modpPrime } from '../../src/crypto/modp-groups.js';
import { nobleBackend, nobleEcdh, nobleModp, nobleX25519 } from '../../src/crypto/noble-backend.js';
import { nobleSymmetric } from '../../src/crypto/noble-symmetric.js';
import { nodeBackend, nodeEcdh, nodeModp, nodeX25519 } from '../../src/crypto/node-backend.js';
import { nodeSymmetric } from '../../src/crypto/node-symmetric.js';
import type { SymmetricBackend } from '../../src/crypto/symmetric.js';
import { SshProtocolError } from '../../src/wire/index.js';
import { ED25519_VECTORS, GCM_VECTORS, HMAC_VECTORS, X25519_DH, X25519_SCALAR_VECTORS } from './vectors/other-rfcs.js';
import { AEAD_VECTORS, CHACHA_BLOCK_VECTORS, hex, POLY1305_VECTORS, toHex } from './vectors/rfc8439.js';

interface Impl {
  backend: CryptoBackend;
  symmetric: SymmetricBackend;
  x25519(secret: Uint8Array): DhKeyPair;
  ecdh(curve: EcCurve, scalar: Uint8Array): DhKeyPair;
  modp(group: ModpGroup, exponent: Uint8Array): DhKeyPair;
}

const IMPLS: Impl[] = [
  { backend: nodeBackend, symmetric: nodeSymmetric, x25519: nodeX25519, ecdh: nodeEcdh, modp: nodeModp },
  { backend: nobleBackend, symmetric: nobleSymmetric, x25519: nobleX25519, ecdh: nobleEcdh, modp: nobleModp },
];
const CURVES: EcCurve[] = ['p256', 'p384', 'p521'];
const enc = new TextEncoder();

function le64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}
function pad16(n: number): Uint8Array {
  return new Uint8Array((16 - (n % 16)) % 16);
}
function cat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

for (const impl of IMPLS) {
  const { backend: b, symmetric: s } = impl;
  describe(`${b.name} backend: known answers`, () => {
    it('X25519: RFC 7748 §5.2 scalar multiplication', () => {
      for (const v of X25519_SCALAR_VECTORS) {
        expect(toHex(impl.x25519(hex(v.scalar)).computeSecret(hex(v.u)))).toBe(v.out);
      }
    });

    it('X25519: RFC 7748 §6.1 Diffie-Hellman', () => {
      const alice = impl.x25519(hex(X25519_DH.alicePrivate));
      const bob = impl.x25519(hex(X25519_DH.bobPrivate));
      expect(toHex(alice.publicKey)).toBe(X25519_DH.alicePublic);
      expect(toHex(bob.publicKey)).toBe(X25519_DH.bobPublic);
      expect(toHex(alice.computeSecret(bob.publicKey))).toBe(X25519_DH.shared);
      expect(toHex(bob.computeSecret(alice.publicKey))).toBe(X25519_DH.shared);
    });

    it('X25519: small-order peer values are refused (RFC 7748 §6.1 all-zero check)', () => {
      const kp = b.x25519();
      const orderOne = new Uint8Array(32);
      orderOne[0] = 1;
      for (const bad of [new Uint8Array(32), orderOne, hex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800')]) {
        expect(() => kp.computeSecret(bad)).toThrow(SshProtocolError);
      }
    });

    it('Ed25519: RFC 8032 §7.1 TEST 1-3', () => {
      for (const v of ED25519_VECTORS) {
        expect(toHex(b.ed25519PublicKey(hex(v.secret))), v.name).toBe(v.public);
        expect(toHex(b.ed25519Sign(hex(v.secret), hex(v.message))), v.name).toBe(v.signature);
        expect(b.ed25519Verify(hex(v.public), hex(v.message), hex(v.signature)), v.name).toBe(true);
        const bad = hex(v.signature);
        bad[5] = (bad[5] ?? 0) ^ 1;
        expect(b.ed25519Verify(hex(v.public), hex(v.message), bad), v.name).toBe(false);
        expect(b.ed25519Verify(hex(v.public), cat(hex(v.message), new Uint8Array(1)), hex(v.signature))).toBe(false);
      }
      expect(b.ed25519Verify(new Uint8Array(31), new Uint8Array(0), new Uint8Array(64))).toBe(false);
    });

    it('HMAC-SHA2: RFC 4231 test cases 1 and 2 (port and packet MAC)', () => {
      for (const v of HMAC_VECTORS) {
        for (const alg of ['sha256', 'sha384', 'sha512'] as const) {
          expect(toHex(b.hmac(alg, hex(v.key), hex(v.data))), `${v.name} ${alg}`).toBe(v[alg]);
          const data = hex(v.data);
          const mac = s.hmac(alg, hex(v.key)).mac(data.subarray(0, 3), data.subarray(3));
          expect(toHex(mac), `${v.name} ${alg} (split)`).toBe(v[alg]);
        }
      }
    });

    it('SHA-1/SHA-2 of "abc" (FIPS 180-4 examples), one-shot and incremental', () => {
      const abc = enc.encode('abc');
      const want = {
        sha1: 'a9993e364706816aba3e25717850c26c9cd0d89d',
        sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
        sha384: 'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
        sha512:
          'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
      } as const;
      for (const alg of ['sha1', 'sha256', 'sha384', 'sha512'] as const) {
        expect(toHex(b.hash(alg, abc))).toBe(want[alg]);
        expect(toHex(b.createHash(alg).update(abc.subarray(0, 1)).update(abc.subarray(1)).digest())).toBe(want[alg]);
      }
    });

    it('Poly1305: RFC 8439 §2.5.2 and A.3', () => {
      for (const v of POLY1305_VECTORS) expect(toHex(s.poly1305(hex(v.key), v.msg)), v.name).toBe(v.tag);
    });

    it('ChaCha20: RFC 8439 A.1 key streams and A.4 Poly1305 key generation', () => {
      for (const v of CHACHA_BLOCK_VECTORS) {
        const iv = new Uint8Array(16);
        new DataView(iv.buffer).setUint32(0, v.counter, true);
        iv.set(hex(v.nonce), 4);
        const out = s.chacha20(hex(v.key)).xor(iv, new Uint8Array(v.out.length / 2));
        expect(toHex(out), v.name).toBe(v.out);
      }
      // the OpenSSH-shaped calls: nonce = seq as uint64 BE, so A.4 #2/#3 (nonce ...02) are seq 2
      const a4 = CHACHA_BLOCK_VECTORS.filter((v) => v.name.startsWith('A.4') && v.nonce.endsWith('02'));
      for (const v of a4) expect(toHex(s.chacha20(hex(v.key)).packetStream(2).polyKey), v.name).toBe(v.out);
      const z = s.chacha20(new Uint8Array(32));
      expect(toHex(z.lengthXor(0, new Uint8Array(64)))).toBe(CHACHA_BLOCK_VECTORS[0]?.out);
      expect(toHex(z.packetStream(0).xor(new Uint8Array(64)))).toBe(CHACHA_BLOCK_VECTORS[1]?.out);
    });

    it('AEAD_CHACHA20_POLY1305 built from the primitives: RFC 8439 §2.8.2 and A.5', () => {
      for (const v of AEAD_VECTORS) {
        const key = s.chacha20(hex(v.key));
        const iv0 = cat(new Uint8Array(4), hex(v.nonce));
        const iv1 = iv0.slice();
        iv1[0] = 1;
        const otk = key.xor(iv0, new Uint8Array(32));
        const ct = key.xor(iv1, hex(v.plaintext));
        const aad = hex(v.aad);
        const macData = cat(aad, pad16(aad.length), ct, pad16(ct.length), le64(aad.length), le64(ct.length));
        expect(toHex(ct), v.name).toBe(v.ciphertext);
        expect(toHex(s.poly1305(otk, macData)), v.name).toBe(v.tag);
      }
    });

    it('AES-GCM: McGrew-Viega / NIST GCM specification test cases 1-4 and 13-16', () => {
      for (const v of GCM_VECTORS) {
        const k = s.aesGcm(hex(v.key));
        const out = new Uint8Array(v.pt.length / 2 + 16);
        k.sealInto(hex(v.iv), hex(v.aad), hex(v.pt), out, 0);
        expect(toHex(out), v.name).toBe(v.ct + v.tag);
        expect(toHex(k.open(hex(v.iv), hex(v.aad), out) ?? new Uint8Array([1])), v.name).toBe(v.pt);
        out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0x80;
        expect(k.open(hex(v.iv), hex(v.aad), out), v.name).toBeNull();
        // seal(): the same ciphertext and tag, as two fresh buffers
        const sealed = k.seal(hex(v.iv), hex(v.aad), hex(v.pt));
        expect(toHex(sealed.ciphertext), v.name).toBe(v.ct);
        expect(toHex(sealed.tag), v.name).toBe(v.tag);
      }
    });

    it('AES-CTR: NIST SP 800-38A F.5.1 (CTR-AES128.Encrypt), in pieces, with peekBlock', () => {
      const key = hex('2b7e151628aed2a6abf7158809cf4f3c');
      const iv = hex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff');
      const pt = hex(
        '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710',
      );
      const ct =
        '874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee';
      const stream = s.aesCtr(key, iv);
      const parts: Uint8Array[] = [];
      for (const [from, to] of [
        [0, 16],
        [16, 48],
        [48, 64],
      ] as const) {
        const peek = stream.peekBlock();
        const piece = stream.update(pt.subarray(from, to));
        // the peeked key stream is what the next update uses
        expect(toHex(peek.map((x, i) => x ^ (pt[from + i] ?? 0)))).toBe(toHex(piece.subarray(0, 16)));
        parts.push(piece);
      }
      expect(toHex(cat(...parts))).toBe(ct);
      expect(() => stream.update(new Uint8Array(5))).toThrow(RangeError);
    });

    it('ML-KEM-768 (FIPS 203): sizes, agreement and implicit rejection', () => {
      const kp = b.mlkem768KeyPair();
      expect(kp.publicKey.length).toBe(1184);
      const { cipherText, sharedSecret } = b.mlkem768Encapsulate(kp.publicKey);
      expect(cipherText.length).toBe(1088);
      expect(sharedSecret.length).toBe(32);
      expect(toHex(kp.decapsulate(cipherText))).toBe(toHex(sharedSecret));
      // FIPS 203 §6.3: a modified ciphertext decapsulates to an unrelated key rather than failing
      const bad = cipherText.slice();
      bad[100] = (bad[100] ?? 0) ^ 1;
      expect(toHex(kp.decapsulate(bad))).not.toBe(toHex(sharedSecret));
      expect(() => kp.decapsulate(cipherText.subarray(1))).toThrow(SshProtocolError);
      expect(() => b.mlkem768Encapsulate(kp.publicKey.subarray(1))).toThrow(SshProtocolError);
      const nonCanonical = kp.publicKey.slice();
      nonCanonical[0] = 0xff;
      nonCanonical[1] = 0xff;
      expect(() => b.mlkem768Encapsulate(nonCanonical)).toThrow(SshProtocolError);
    });
  });
}

describe('cross-backend agreement', () => {
  const [node, noble] = IMPLS as [Impl, Impl];
  const pairs: [Impl, Impl][] = [
    [node, noble],
    [noble, node],
  ];

  it('ML-KEM-768: one backend keypair, the other encapsulates', () => {
    for (const [a, c] of pairs) {
      const kp = a.backend.mlkem768KeyPair();
      const { cipherText, sharedSecret } = c.backend.mlkem768Encapsulate(kp.publicKey);
      expect(toHex(kp.decapsulate(cipherText))).toBe(toHex(sharedSecret));
    }
  });

  it('Ed25519 generated keys: the public half is the seed\'s (RFC 8032 §5.1.5), signatures verify on the other backend', () => {
    const msg = enc.encode('per-session certificate key');
    for (const [a, c] of pairs) {
      const k = a.backend.ed25519Generate();
      expect(k.seed.length).toBe(32);
      expect(toHex(k.publicKey)).toBe(toHex(c.backend.ed25519PublicKey(k.seed)));
      expect(toHex(a.backend.ed25519PublicKey(k.seed))).toBe(toHex(k.publicKey));
      const sig = a.backend.ed25519Sign(k.seed, msg);
      expect(c.backend.ed25519Verify(k.publicKey, msg, sig)).toBe(true);
      expect(toHex(a.backend.ed25519Generate().seed)).not.toBe(toHex(k.seed));
    }
  });

  it('X25519 and ECDH: same public values from the same scalar, agreement across backends, bad points refused', () => {
    for (const [a, c] of pairs) {
      const x = a.backend.x25519();
      const y = c.backend.x25519();
      expect(toHex(x.computeSecret(y.publicKey))).toBe(toHex(y.computeSecret(x.publicKey)));
    }
    for (const curve of CURVES) {
      const d = node.backend.randomBytes(32);
      expect(toHex(node.ecdh(curve, d).publicKey)).toBe(toHex(noble.ecdh(curve, d).publicKey));
      for (const [a, c] of pairs) {
        const x = a.backend.ecdh(curve);
        const y = c.backend.ecdh(curve);
        expect(toHex(x.computeSecret(y.publicKey))).toBe(toHex(y.computeSecret(x.publicKey)));
        const off = y.publicKey.slice();
        off[off.length - 1] = (off[off.length - 1] ?? 0) ^ 1;
        expect(() => x.computeSecret(off), `${curve} off-curve`).toThrow(SshProtocolError);
        expect(() => x.computeSecret(y.publicKey.subarray(0, 33)), `${curve} short`).toThrow(SshProtocolError);
      }
    }
  });

  it('MODP groups 14/16/18: same public value from the same exponent, agreement, RFC 4253 §8 range checks', () => {
    for (const group of [14, 16, 18] as const) {
      const x = node.backend.randomBytes(32);
      expect(toHex(node.modp(group, x).publicKey)).toBe(toHex(noble.modp(group, x).publicKey));
      for (const [a, c] of pairs) {
        const p = a.backend.modp(group);
        const q = c.backend.modp(group);
        expect(toHex(p.computeSecret(q.publicKey))).toBe(toHex(q.computeSecret(p.publicKey)));
        const pm1 = Uint8Array.from(Buffer.from((modpPrime(group) - 1n).toString(16), 'hex'));
        const pp = Uint8Array.from(Buffer.from(modpPrime(group).toString(16), 'hex'));
        for (const bad of [new Uint8Array(0), new Uint8Array([1]), pm1, pp, new Uint8Array(1025).fill(0xff)]) {
          expect(() => p.computeSecret(bad)).toThrow(SshProtocolError);
        }
      }
    }
  });

  it('ECDSA: each backend verifies the other; tampering fails', () => {
    const msg = enc.encode('session identifier');
    for (const curve of CURVES) {
      const d = node.backend.randomBytes(curve === 'p256' ? 32 : 48);
      expect(toHex(node.backend.ecdsaPublicKey(curve, d))).toBe(toHex(noble.backend.ecdsaPublicKey(curve, d)));
      const pub = node.backend.ecdsaPublicKey(curve, d);
      for (const [a, c] of pairs) {
        const { r, s } = a.backend.ecdsaSign(curve, d, msg);
        expect(c.backend.ecdsaVerify(curve, pub, msg, r, s), `${curve} ${a.backend.name}->${c.backend.name}`).toBe(true);
        expect(c.backend.ecdsaVerify(curve, pub, enc.encode('other'), r, s)).toBe(false);
        expect(c.backend.ecdsaVerify(curve, pub, msg, s, r)).toBe(false);
      }
    }
  });

  it('RSA PKCS#1 v1.5: identical deterministic signatures, cross-verification', () => {
    const key = node.backend.rsaGenerate(2048);
    const msg = enc.encode('exchange hash');
    for (const hash of ['sha256', 'sha512', 'sha1'] as const) {
      const s1 = node.backend.rsaSign(key, hash, msg);
      const s2 = noble.backend.rsaSign(key, hash, msg);
      expect(toHex(s1)).toBe(toHex(s2));
      expect(noble.backend.rsaVerify(key, hash, msg, s1)).toBe(true);
      expect(node.backend.rsaVerify(key, hash, msg, s2)).toBe(true);
      expect(noble.backend.rsaVerify(key, hash === 'sha256' ? 'sha512' : 'sha256', msg, s1)).toBe(false);
      const bad = s1.slice();
      bad[10] = (bad[10] ?? 0) ^ 1;
      expect(noble.backend.rsaVerify(key, hash, msg, bad)).toBe(false);
      expect(node.backend.rsaVerify(key, hash, msg, bad)).toBe(false);
    }
  });

  it('RSA: a noble-generated key signs and node verifies', () => {
    const key = noble.backend.rsaGenerate(1024);
    const msg = enc.encode('x');
    expect(node.backend.rsaVerify(key, 'sha256', msg, noble.backend.rsaSign(key, 'sha256', msg))).toBe(true);
    expect(toHex(node.backend.rsaSign(key, 'sha512', msg))).toBe(toHex(noble.backend.rsaSign(key, 'sha512', msg)));
  });
});
