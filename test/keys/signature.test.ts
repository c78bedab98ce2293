/**
 * Signature interop with OpenSSH through SSHSIG (OpenSSH PROTOCOL.sshsig): ssh-keygen -Y sign
 * output verifies with our verifySignature, and SSHSIG files carrying our signatures pass
 * ssh-keygen -Y check-novalidate. This exercises every key type's signature encoding
 * (ECDSA as mpint r, mpint s; RSA as rsa-sha2-512) in both directions.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultBackend } from '../../src/crypto/index.js';
import { decodePem, encodePem } from '../../src/keys/pem.js';
import { generatePrivateKey, parsePrivateKey, privateKeyFromMaterial } from '../../src/keys/private-key.js';
import { formatPublicKeyLine } from '../../src/keys/public-key.js';
import { parseSignatureBlob, signatureAlgorithmsFor, verifySignature } from '../../src/keys/signature.js';
import { SshReader, SshWriter } from '../../src/wire/index.js';
import { type KeyType, generateKey, makeTempDir, removeTempDir, requireBinaries, run } from '../support/index.js';

const req = requireBinaries('ssh-keygen');
const MAGIC = new TextEncoder().encode('SSHSIG');

function signedData(namespace: string, message: Uint8Array): Uint8Array {
  return new SshWriter().raw(MAGIC).string(namespace).string('').string('sha512').string(defaultBackend.hash('sha512', message)).finish();
}

describe('signature algorithms per key', () => {
  it('lists plain and certificate algorithm names', () => {
    const rsa = generatePrivateKey('ssh-rsa', 2048);
    expect(signatureAlgorithmsFor(rsa.publicKey)).toEqual(['rsa-sha2-512', 'rsa-sha2-256']);
    expect(signatureAlgorithmsFor(rsa.publicKey, { allowSha1Rsa: true })).toContain('ssh-rsa');
    expect(signatureAlgorithmsFor(generatePrivateKey('ecdsa-sha2-nistp521').publicKey)).toEqual(['ecdsa-sha2-nistp521']);
  });
  it('refuses RSA keys under 2048 bits unless allowSmallRsa', () => {
    const small = privateKeyFromMaterial({ type: 'ssh-rsa', rsa: defaultBackend.rsaGenerate(1024) });
    const data = new Uint8Array([7]);
    const sig = small.sign('rsa-sha2-256', data);
    expect(verifySignature('rsa-sha2-256', small.publicKeyBlob, sig, data)).toBe(false);
    expect(verifySignature('rsa-sha2-256', small.publicKeyBlob, sig, data, { allowSmallRsa: true })).toBe(true);
    expect(() => generatePrivateKey('ssh-rsa', 1024)).toThrow(/outside 2048/);
  });
  it('never throws on garbage', () => {
    expect(verifySignature('ssh-ed25519', new Uint8Array(3), new Uint8Array(5), new Uint8Array(0))).toBe(false);
    expect(verifySignature('x', new Uint8Array(0), new Uint8Array(0), new Uint8Array(0))).toBe(false);
  });
});

describe.skipIf(req.skip)(`SSHSIG signatures with ssh-keygen -Y${req.reason}`, () => {
  const dir = makeTempDir();
  afterAll(() => removeTempDir(dir));
  const message = new TextEncoder().encode('the message\n');

  for (const t of ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-3072'] as KeyType[]) {
    it(`${t}: ssh-keygen's signature verifies in ours, ours in ssh-keygen`, async () => {
      const k = await generateKey(dir, `s-${t}`, t);
      const msgPath = join(dir, `msg-${t}`);
      writeFileSync(msgPath, message);
      const s = await run('ssh-keygen', ['-Y', 'sign', '-f', k.privatePath, '-n', 'file', msgPath]);
      expect(s.code, s.stderr).toBe(0);
      const sig = decodePem(readFileSync(`${msgPath}.sig`, 'utf8'));
      expect(sig.label).toBe('SSH SIGNATURE');
      const r = new SshReader(sig.data, MAGIC.length);
      expect(r.uint32()).toBe(1);
      const pub = r.bytes();
      expect(r.string()).toBe('file');
      r.bytes();
      expect(r.string()).toBe('sha512');
      const signature = r.bytes();
      const alg = parseSignatureBlob(signature).algorithm;
      expect(verifySignature(alg, pub, signature, signedData('file', message))).toBe(true);
      expect(verifySignature(alg, pub, signature, signedData('other', message))).toBe(false);

      // ours, wrapped the same way, checked by ssh-keygen
      const ours = parsePrivateKey(k.privatePem);
      const alg2 = ours.algorithms[0] ?? ours.type;
      const ourSig = ours.sign(alg2, signedData('file', message));
      const blob = new SshWriter().raw(MAGIC).uint32(1).string(ours.publicKeyBlob).string('file').string('').string('sha512').string(ourSig).finish();
      const ourSigPath = join(dir, `ours-${t}.sig`);
      writeFileSync(ourSigPath, encodePem('SSH SIGNATURE', blob, 70));
      const c = await run('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'file', '-s', ourSigPath], { input: message });
      expect(c.code, c.stderr + c.stdout).toBe(0);
      expect(c.stdout).toContain('Good');
      const bad = await run('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'file', '-s', ourSigPath], { input: 'tampered' });
      expect(bad.code).not.toBe(0);
    });
  }

  const ossl = requireBinaries('openssl');
  it.skipIf(ossl.skip)(`an Ed25519 PKCS#8 key from openssl loads with the public key openssl derives${ossl.reason}`, async () => {
    const p = join(dir, 'ed.pem');
    const g = await run('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', p]);
    expect(g.code, g.stderr).toBe(0);
    const der = await run('openssl', ['pkey', '-in', p, '-pubout', '-outform', 'DER']);
    const raw = new Uint8Array(der.stdoutBytes).subarray(-32);
    const k = parsePrivateKey(readFileSync(p, 'utf8'));
    expect(k.publicKey.type).toBe('ssh-ed25519');
    if (k.publicKey.type === 'ssh-ed25519') expect(k.publicKey.key).toEqual(raw);
    expect(formatPublicKeyLine(k.publicKeyBlob)).toMatch(/^ssh-ed25519 /);
  });
});
