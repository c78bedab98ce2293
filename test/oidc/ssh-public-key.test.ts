import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PublicKeyLineError, parseCertificateLine, parsePublicKeyLine, sha256Fingerprint } from '../../src/oidc/ssh-public-key.js';
import { fingerprint, generateKey, requireBinaries, signCertificate } from '../support/index.js';

const need = requireBinaries('ssh-keygen');

describe.skipIf(need.skip)(`ssh public key lines${need.reason}`, () => {
  it('parses ssh-keygen keys, fingerprints like ssh-keygen -l, and checks a certificate is for our key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-pk-'));
    const ca = await generateKey(dir, 'ca', 'ed25519');
    for (const type of ['ed25519', 'ecdsa-256', 'rsa-2048'] as const) {
      const k = await generateKey(dir, `k-${type}`, type);
      const line = parsePublicKeyLine(k.publicLine);
      expect(sha256Fingerprint(line.blob)).toBe(await fingerprint(k.publicPath));
      expect(line.canonical).toBe(k.publicLine.split(' ').slice(0, 2).join(' '));
      const cert = await signCertificate(ca.privatePath, k.publicPath, { identity: 'id', principals: ['alice'], validity: '-5m:+1h' });
      expect(parseCertificateLine(cert, line).principals).toEqual(['alice']);
    }
    const a = parsePublicKeyLine((await generateKey(dir, 'a', 'ed25519')).publicLine);
    const bPath = (await generateKey(dir, 'b', 'ed25519')).publicPath;
    const certForB = await signCertificate(ca.privatePath, bPath, { identity: 'id', principals: ['alice'], validity: '-5m:+1h' });
    expect(() => parseCertificateLine(certForB, a)).toThrow(/different key/);
    const host = await signCertificate(ca.privatePath, bPath, { identity: 'h', principals: ['h'], host: true });
    expect(() => parseCertificateLine(host, parsePublicKeyLine(readFileSync(bPath, 'utf8')))).toThrow(/not a user certificate/);
  });
});

describe('parsePublicKeyLine', () => {
  it('refuses small RSA keys, certificates, junk and multi-line input with PublicKeyLineError', () => {
    for (const bad of ['', 'ssh-ed25519', 'ssh-ed25519 AAAA', 'ssh-dss AAAAB3NzaC1kc3M=', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==\nssh-ed25519 x']) {
      expect(() => parsePublicKeyLine(bad)).toThrow(PublicKeyLineError);
    }
  });

  it('fuzz: random and mutated lines give a key or a PublicKeyLineError', () => {
    const seed = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop';
    const alphabet = 'ABCabc019+/= -\n';
    for (let i = 0; i < 3000; i++) {
      let input: string;
      if (i % 3 === 0) input = randomBytes(i % 150).toString('latin1');
      else {
        const chars = [...seed];
        for (let e = 0; e < 1 + (i % 5); e++) chars[randomBytes(2).readUInt16BE() % chars.length] = alphabet[(randomBytes(1)[0] ?? 0) % alphabet.length] ?? 'A';
        input = chars.join('');
      }
      try {
        parsePublicKeyLine(input);
      } catch (err) {
        expect(err).toBeInstanceOf(PublicKeyLineError);
      }
    }
  });
});
