import { spawnSync } from 'node:child_process';
import { getDiffieHellman } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { modpPrime } from '../../src/crypto/modp-groups.js';
import { checkModpPublic, nodeBackend as b } from '../../src/crypto/node-backend.js';
import { SshProtocolError } from '../../src/wire/index.js';
import { repoRoot } from '../support/binaries.js';

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

describe('fresh X25519 / Ed25519 keys (freshOkpKey)', () => {
  it('are real key pairs: the public value is the private value times the base point', () => {
    for (let i = 0; i < 20; i++) {
      const g = b.ed25519Generate();
      expect(Buffer.from(g.publicKey).equals(Buffer.from(ed25519.getPublicKey(g.seed)))).toBe(true);
      const a = b.x25519();
      const c = b.x25519();
      expect(Buffer.from(a.computeSecret(c.publicKey)).equals(Buffer.from(c.computeSecret(a.publicKey)))).toBe(true);
    }
  });

  it('never deadlock under GC pressure (Node 20 hung generateKeyPairSync + JWK export within a few thousand keys)', () => {
    const url = pathToFileURL(join(repoRoot(), 'dist/src/crypto/node-backend.js')).href;
    const script = `import { nodeBackend as b } from ${JSON.stringify(url)};
      let junk = [];
      for (let i = 0; i < 20000; i++) {
        b.x25519(); b.ed25519Generate();
        junk.push(new Array(20).fill(i)); if (junk.length > 1000) junk = [];
      }
      process.stdout.write('done');`;
    const r = spawnSync(process.execPath, ['--max-semi-space-size=1', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.error, 'the key loop hung (deadlock) or failed to start').toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('done');
  }, 70_000);
});
