import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyFormatError, KeyPassphraseError } from '../../src/keys/errors.js';
import { generatePrivateKey, parsePrivateKey, serializeOpenSshPrivateKey } from '../../src/keys/private-key.js';
import { formatPublicKeyLine, parsePublicKeyLine, type PlainKeyType } from '../../src/keys/public-key.js';
import { verifySignature } from '../../src/keys/signature.js';
import { type KeyType, generateKey, makeTempDir, removeTempDir, requireBinaries, run } from '../support/index.js';

const req = requireBinaries('ssh-keygen');
const TYPES: KeyType[] = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-3072'];
const data = new TextEncoder().encode('exchange hash');

function keyLineOnly(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(' ');
}

describe('private keys in memory', () => {
  const types: PlainKeyType[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];
  for (const t of types) {
    it(`${t}: generates, signs, verifies, and survives an openssh-key-v1 round trip`, () => {
      const k = generatePrivateKey(t, t === 'ssh-rsa' ? 2048 : undefined, 'me@here');
      for (const alg of k.algorithms) {
        const sig = k.sign(alg, data);
        expect(verifySignature(alg, k.publicKeyBlob, sig, data)).toBe(true);
        expect(verifySignature(alg, k.publicKeyBlob, sig, new TextEncoder().encode('other'))).toBe(false);
      }
      const text = serializeOpenSshPrivateKey(k);
      const back = parsePrivateKey(text);
      expect(back.publicKeyBlob).toEqual(k.publicKeyBlob);
      expect(back.comment).toBe('me@here');
      expect(back.material).toEqual(k.material);
    });
  }

  it('refuses an algorithm that does not fit the key, and SHA-1 RSA unless legacy', () => {
    const ed = generatePrivateKey('ssh-ed25519');
    expect(() => ed.sign('rsa-sha2-256', data)).toThrow(KeyFormatError);
    const rsa = generatePrivateKey('ssh-rsa', 2048);
    const sha1 = rsa.sign('ssh-rsa', data);
    expect(verifySignature('ssh-rsa', rsa.publicKeyBlob, sha1, data)).toBe(false);
    expect(verifySignature('ssh-rsa', rsa.publicKeyBlob, sha1, data, { allowSha1Rsa: true })).toBe(true);
    // the signature blob names rsa-sha2-512; claiming rsa-sha2-256 fails
    const s512 = rsa.sign('rsa-sha2-512', data);
    expect(verifySignature('rsa-sha2-256', rsa.publicKeyBlob, s512, data)).toBe(false);
    expect(verifySignature('ssh-ed25519', rsa.publicKeyBlob, s512, data)).toBe(false);
  });

  it('encrypts with a passphrase; a wrong or missing passphrase is a KeyPassphraseError', () => {
    const k = generatePrivateKey('ssh-ed25519', undefined, 'enc');
    const text = serializeOpenSshPrivateKey(k, { passphrase: 'correct horse', rounds: 4 });
    expect(parsePrivateKey(text, 'correct horse').publicKeyBlob).toEqual(k.publicKeyBlob);
    expect(() => parsePrivateKey(text, 'wrong')).toThrow(KeyPassphraseError);
    expect(() => parsePrivateKey(text, 'wrong')).toThrow(/wrong passphrase/);
    expect(() => parsePrivateKey(text)).toThrow(/passphrase is needed/);
    expect(() => parsePrivateKey(text, 'correct horse', { maxKdfRounds: 2 })).toThrow(/exceed the limit/);
  });
});

describe.skipIf(req.skip)(`private keys and ssh-keygen${req.reason}`, () => {
  const dir = makeTempDir();
  afterAll(() => removeTempDir(dir));

  for (const t of TYPES) {
    it(`${t}: ssh-keygen keys (plain and -N) load in ours; ours load in ssh-keygen -y (plain and -P)`, async () => {
      const plain = await generateKey(dir, `p-${t}`, t, { comment: `plain ${t}` });
      const k = parsePrivateKey(plain.privatePem);
      expect(formatPublicKeyLine(k.publicKeyBlob, k.comment)).toBe(plain.publicLine);

      const enc = await generateKey(dir, `e-${t}`, t, { passphrase: 'pass phrase', comment: 'enc' });
      const ke = parsePrivateKey(enc.privatePem, 'pass phrase');
      expect(formatPublicKeyLine(ke.publicKeyBlob)).toBe(keyLineOnly(enc.publicLine));
      expect(() => parsePrivateKey(enc.privatePem, 'nope')).toThrow(KeyPassphraseError);

      // ours, written unencrypted and encrypted, read back by ssh-keygen
      const ours = join(dir, `ours-${t}`);
      writeFileSync(ours, serializeOpenSshPrivateKey(k), { mode: 0o600 });
      const y = await run('ssh-keygen', ['-y', '-f', ours]);
      expect(y.stderr).toBe('');
      expect(keyLineOnly(y.stdout)).toBe(keyLineOnly(plain.publicLine));
      const oursEnc = join(dir, `ours-enc-${t}`);
      writeFileSync(oursEnc, serializeOpenSshPrivateKey(k, { passphrase: 'secret 2' }), { mode: 0o600 });
      const ye = await run('ssh-keygen', ['-y', '-P', 'secret 2', '-f', oursEnc]);
      expect(keyLineOnly(ye.stdout)).toBe(keyLineOnly(plain.publicLine));
      const bad = await run('ssh-keygen', ['-y', '-P', 'wrong', '-f', oursEnc]);
      expect(bad.code).not.toBe(0);
    });
  }

  it('ssh-keygen -lf on a key we generated prints our fingerprint', async () => {
    const k = generatePrivateKey('ecdsa-sha2-nistp384', undefined, 'fp');
    const p = join(dir, 'fp.pub');
    writeFileSync(p, `${formatPublicKeyLine(k.publicKeyBlob, 'fp')}\n`);
    const r = await run('ssh-keygen', ['-l', '-f', p]);
    const { fingerprintSha256 } = await import('../../src/keys/public-key.js');
    expect(r.stdout).toContain(fingerprintSha256(k.publicKeyBlob));
    expect(parsePublicKeyLine(readFileSync(p, 'utf8')).comment).toBe('fp');
  });
});

describe.skipIf(req.skip)(`aes256-gcm@openssh.com private keys${req.reason}`, () => {
  const dir = makeTempDir();
  afterAll(() => removeTempDir(dir));
  it('reads a key ssh-keygen -Z aes256-gcm@openssh.com encrypted; a wrong passphrase fails the tag', async () => {
    const p = join(dir, 'gcm');
    const g = await run('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', 'gcm pass', '-Z', 'aes256-gcm@openssh.com', '-f', p]);
    expect(g.code, g.stderr).toBe(0);
    const text = readFileSync(p, 'utf8');
    const k = parsePrivateKey(text, 'gcm pass');
    expect(formatPublicKeyLine(k.publicKeyBlob)).toBe(keyLineOnly(readFileSync(`${p}.pub`, 'utf8')));
    expect(() => parsePrivateKey(text, 'wrong')).toThrow(KeyPassphraseError);
  });
});
