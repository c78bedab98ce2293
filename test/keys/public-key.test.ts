import { afterAll, describe, expect, it } from 'vitest';
import { SshWriter } from '../../src/wire/index.js';
import {
  encodePublicKeyBlob,
  fingerprintSha256,
  formatPublicKeyLine,
  isCertificateKey,
  keyBits,
  parsePublicKeyBlob,
  parsePublicKeyLine,
} from '../../src/keys/public-key.js';
import { KeyFormatError } from '../../src/keys/errors.js';
import { decodeBase64, encodeBase64 } from '../../src/keys/base64.js';
import { type KeyType, fingerprint, generateKey, makeTempDir, removeTempDir, requireBinaries, signCertificate } from '../support/index.js';

const req = requireBinaries('ssh-keygen');
const TYPES: KeyType[] = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-3072'];

describe('base64', () => {
  it('round-trips every length and rejects junk', () => {
    for (let n = 0; n < 40; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      const s = encodeBase64(b);
      expect(s).toBe(Buffer.from(b).toString('base64'));
      expect(decodeBase64(s)).toEqual(b);
      expect(decodeBase64(encodeBase64(b, false))).toEqual(b);
    }
    expect(() => decodeBase64('AA*A')).toThrow(KeyFormatError);
    expect(() => decodeBase64('A')).toThrow(KeyFormatError);
    expect(() => decodeBase64('A=AA')).toThrow(KeyFormatError);
  });
});

describe('public key blobs', () => {
  it('rejects an RSA modulus below 1024 bits and an off-curve ECDSA point', () => {
    const small = new SshWriter().string('ssh-rsa').mpint(65537n).mpint((1n << 1000n) + 1n).finish();
    expect(() => parsePublicKeyBlob(small)).toThrow(/outside 1024/);
    const pt = new Uint8Array(65);
    pt[0] = 4;
    pt[64] = 1;
    const bad = new SshWriter().string('ecdsa-sha2-nistp256').string('nistp256').string(pt).finish();
    expect(() => parsePublicKeyBlob(bad)).toThrow(/not on the curve/);
    const wrongCurve = new SshWriter().string('ecdsa-sha2-nistp256').string('nistp384').string(pt).finish();
    expect(() => parsePublicKeyBlob(wrongCurve)).toThrow(/names curve/);
  });
  it('rejects trailing bytes and unknown types', () => {
    const ed = new SshWriter().string('ssh-ed25519').string(new Uint8Array(32)).finish();
    expect(parsePublicKeyBlob(ed).type).toBe('ssh-ed25519');
    const trailing = new Uint8Array([...ed, 0]);
    expect(() => parsePublicKeyBlob(trailing)).toThrow(KeyFormatError);
    expect(() => parsePublicKeyBlob(new SshWriter().string('ssh-dss').finish())).toThrow(/unsupported/);
  });
  it('refuses a line whose type disagrees with its blob', () => {
    const ed = new SshWriter().string('ssh-ed25519').string(new Uint8Array(32)).finish();
    expect(() => parsePublicKeyLine(`ssh-rsa ${encodeBase64(ed)} x`)).toThrow(/says ssh-rsa/);
    const l = parsePublicKeyLine(`ssh-ed25519 ${encodeBase64(ed)}  two words \n`);
    expect(l.comment).toBe('two words');
  });
});

describe.skipIf(req.skip)(`public keys made by ssh-keygen${req.reason}`, () => {
  const dir = makeTempDir();
  afterAll(() => removeTempDir(dir));

  for (const t of TYPES) {
    it(`parses ${t}, round-trips it and prints the same fingerprint as ssh-keygen -lf`, async () => {
      const k = await generateKey(dir, `k-${t}`, t, { comment: `c ${t}` });
      const line = parsePublicKeyLine(k.publicLine);
      expect(line.comment).toBe(`c ${t}`);
      expect(encodePublicKeyBlob(line.key)).toEqual(line.blob);
      expect(formatPublicKeyLine(line.key, line.comment)).toBe(k.publicLine);
      expect(fingerprintSha256(line.blob)).toBe(await fingerprint(k.publicPath));
      if (!isCertificateKey(line.key)) expect(keyBits(line.key)).toBe(Number(t.split('-')[1] ?? 256));
    });
  }

  it('parses a certificate made by ssh-keygen -s and re-encodes it byte for byte', async () => {
    const ca = await generateKey(dir, 'ca', 'ed25519');
    const user = await generateKey(dir, 'user', 'ecdsa-256');
    const certLine = await signCertificate(ca.privatePath, user.publicPath, {
      identity: 'alice-id',
      principals: ['alice', 'root'],
      validity: '+5m',
      serial: 42,
      options: ['force-command=/bin/true', 'source-address=127.0.0.1/32,::1'],
    });
    const parsed = parsePublicKeyLine(certLine);
    expect(parsed.key.type).toBe('ecdsa-sha2-nistp256-cert-v01@openssh.com');
    if (!isCertificateKey(parsed.key)) throw new Error('not a certificate');
    const c = parsed.key.certificate;
    expect(c.keyId).toBe('alice-id');
    expect(c.principals).toEqual(['alice', 'root']);
    expect(c.serial).toBe(42n);
    expect(c.certType).toBe('user');
    expect(c.criticalOptions.map((o) => o.name)).toEqual(['force-command', 'source-address']);
    expect(c.extensions.map((o) => o.name)).toContain('permit-pty');
    expect(encodePublicKeyBlob(parsed.key)).toEqual(parsed.blob);
    expect(fingerprintSha256(c.signatureKeyBlob)).toBe(await fingerprint(ca.publicPath));
  });
});
