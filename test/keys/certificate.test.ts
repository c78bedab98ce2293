import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CERT_FOREVER, DEFAULT_USER_EXTENSIONS, signCertificate, verifyCertificate } from '../../src/keys/certificate.js';
import { createHostKeySigner } from '../../src/keys/host-key-signer.js';
import { type PrivateKey, generatePrivateKey, parsePrivateKey } from '../../src/keys/private-key.js';
import { fingerprintSha256, formatPublicKeyLine, parsePublicKeyLine } from '../../src/keys/public-key.js';
import { verifySignature } from '../../src/keys/signature.js';
import { type GeneratedKey, generateKey, makeTempDir, removeTempDir, requireBinaries, run, signCertificate as keygenSign } from '../support/index.js';

const req = requireBinaries('ssh-keygen');
const now = Math.floor(Date.now() / 1000);

describe('certificates signed by us, verified by us', () => {
  const ca = generatePrivateKey('ssh-ed25519', undefined, 'ca');
  const user = generatePrivateKey('ecdsa-sha2-nistp256');
  const base = {
    key: user.publicKey,
    type: 'user' as const,
    keyId: 'alice@session-1',
    principals: ['alice', 'root'],
    validAfter: now - 60,
    validBefore: now + 300,
  };

  it('accepts a good certificate and reports force-command, source-address and extensions', () => {
    const s = signCertificate(
      { ...base, criticalOptions: { 'force-command': '/bin/date', 'source-address': '10.0.0.0/8,::1' }, extensions: { 'permit-pty': '' } },
      ca,
    );
    const v = verifyCertificate(s.blob, { type: 'user', caKeys: [ca.publicKeyBlob], principal: 'root', sourceAddress: '10.1.2.3', now });
    expect(v).toMatchObject({ ok: true, forceCommand: '/bin/date', sourceAddress: '10.0.0.0/8,::1', extensions: ['permit-pty'] });
    const v6 = verifyCertificate(s.blob, { type: 'user', caKeys: [ca.publicKeyBlob], principal: 'root', sourceAddress: '::1', now });
    expect(v6.ok).toBe(true);
  });

  const cases: Array<[string, Parameters<typeof verifyCertificate>[1], string]> = [
    ['wrong type', { type: 'host', caKeys: [], principal: 'alice', now }, 'wrong-type'],
    ['untrusted CA', { type: 'user', caKeys: [generatePrivateKey('ssh-ed25519').publicKeyBlob], principal: 'alice', now }, 'untrusted-ca'],
    ['not yet valid', { type: 'user', caKeys: [ca.publicKeyBlob], principal: 'alice', now: now - 61 }, 'not-yet-valid'],
    ['expired (valid_before is exclusive)', { type: 'user', caKeys: [ca.publicKeyBlob], principal: 'alice', now: now + 300 }, 'expired'],
    ['principal not listed', { type: 'user', caKeys: [ca.publicKeyBlob], principal: 'bob', now }, 'principal-not-listed'],
  ];
  for (const [name, opts, reason] of cases) {
    it(`refuses: ${name}`, () => {
      const s = signCertificate(base, ca);
      expect(verifyCertificate(s.blob, opts)).toMatchObject({ ok: false, reason });
    });
  }

  it('refuses a tampered certificate, an unknown critical option, a source-address miss and no principals', () => {
    const s = signCertificate(base, ca);
    const tampered = s.blob.slice();
    const idAt = new TextDecoder('latin1').decode(tampered).indexOf('alice@session-1');
    tampered[idAt] = 'A'.charCodeAt(0);
    expect(verifyCertificate(tampered, { type: 'user', caKeys: [ca.publicKeyBlob], now })).toMatchObject({ ok: false, reason: 'bad-signature' });
    const unk = signCertificate({ ...base, criticalOptions: { 'no-such-option': 'x' } }, ca);
    expect(verifyCertificate(unk.blob, { type: 'user', caKeys: [ca.publicKeyBlob], now })).toMatchObject({ ok: false, reason: 'unknown-critical-option' });
    const src = signCertificate({ ...base, criticalOptions: { 'source-address': '192.168.0.0/16' } }, ca);
    const opts = { type: 'user' as const, caKeys: [ca.publicKeyBlob], now };
    expect(verifyCertificate(src.blob, { ...opts, sourceAddress: '10.0.0.1' })).toMatchObject({ ok: false, reason: 'source-address-mismatch' });
    expect(verifyCertificate(src.blob, opts)).toMatchObject({ ok: false, reason: 'source-address-mismatch' });
    expect(verifyCertificate(src.blob, { ...opts, sourceAddress: '::ffff:192.168.3.4' }).ok).toBe(true);
    const none = signCertificate({ ...base, principals: [] }, ca);
    expect(verifyCertificate(none.blob, opts)).toMatchObject({ ok: false, reason: 'no-principals' });
  });

  it('host key signer offers the cert algorithms first and signs verifiably', () => {
    const hostKey = generatePrivateKey('ssh-rsa', 2048);
    const cert = signCertificate({ key: hostKey.publicKey, type: 'host', keyId: 'h', principals: ['db1'], validAfter: 0, validBefore: CERT_FOREVER }, ca);
    const signer = createHostKeySigner(hostKey, cert.blob);
    expect(signer.algorithms).toEqual([
      'rsa-sha2-512-cert-v01@openssh.com',
      'rsa-sha2-256-cert-v01@openssh.com',
      'rsa-sha2-512',
      'rsa-sha2-256',
    ]);
    const h = new TextEncoder().encode('H');
    for (const alg of signer.algorithms) {
      const blob = signer.publicKeyBlob(alg);
      expect(blob).toEqual(alg.includes('cert') ? cert.blob : hostKey.publicKeyBlob);
      expect(verifySignature(alg, blob, signer.sign(alg, h), h)).toBe(true);
    }
    expect(() => signer.sign('ssh-ed25519', h)).toThrow();
    expect(() => createHostKeySigner(generatePrivateKey('ssh-ed25519'), cert.blob)).toThrow(/different key/);
    expect(createHostKeySigner(generatePrivateKey('ssh-ed25519')).algorithms).toEqual(['ssh-ed25519']);
  });
});

describe.skipIf(req.skip)(`certificates and ssh-keygen${req.reason}`, () => {
  const dir = makeTempDir();
  let ca: GeneratedKey;
  let caKey: PrivateKey;
  beforeAll(async () => {
    ca = await generateKey(dir, 'ca', 'ed25519');
    caKey = parsePrivateKey(ca.privatePem);
  });
  afterAll(() => removeTempDir(dir));

  for (const t of ['ed25519', 'ecdsa-384', 'rsa-3072'] as const) {
    it(`a ${t} certificate from ssh-keygen -s -I id -n alice -V +5m verifies in ours`, async () => {
      const user = await generateKey(dir, `u-${t}`, t);
      const line = await keygenSign(ca.privatePath, user.publicPath, {
        identity: 'id',
        principals: ['alice'],
        validity: '+5m',
        options: ['force-command=/bin/true', 'source-address=127.0.0.1/32,10.0.0.0/8'],
      });
      const blob = parsePublicKeyLine(line).blob;
      const v = verifyCertificate(blob, { type: 'user', caKeys: [caKey.publicKeyBlob], principal: 'alice', sourceAddress: '127.0.0.1' });
      expect(v).toMatchObject({ ok: true, forceCommand: '/bin/true' });
      if (v.ok) expect(v.extensions).toEqual(Object.keys(DEFAULT_USER_EXTENSIONS));
      expect(verifyCertificate(blob, { type: 'user', caKeys: [caKey.publicKeyBlob], principal: 'bob', sourceAddress: '127.0.0.1' })).toMatchObject({ ok: false });
    });
  }

  it('an RSA CA from ssh-keygen signing a host certificate verifies (rsa-sha2-512)', async () => {
    const rca = await generateKey(dir, 'rca', 'rsa-3072');
    const host = await generateKey(dir, 'host', 'ed25519');
    const line = await keygenSign(rca.privatePath, host.publicPath, { identity: 'host1', host: true, principals: ['db1', 'db1.internal'] });
    const v = verifyCertificate(parsePublicKeyLine(line).blob, { type: 'host', caKeys: [parsePrivateKey(rca.privatePem).publicKeyBlob], principal: 'DB1.internal' });
    expect(v.ok).toBe(true);
  });

  it('an ECDSA CA and an RSA CA signing with rsa-sha2-256 verify; a SHA-1 ssh-rsa CA signature only with the legacy option', async () => {
    const eca = await generateKey(dir, 'eca', 'ecdsa-521');
    const rca = await generateKey(dir, 'rca2', 'rsa-2048');
    const user = await generateKey(dir, 'u-ca-kinds', 'ed25519');
    const ecaKey = parsePrivateKey(eca.privatePem).publicKeyBlob;
    const rcaKey = parsePrivateKey(rca.privatePem).publicKeyBlob;
    const opts = { type: 'user' as const, principal: 'alice' };
    const l1 = await keygenSign(eca.privatePath, user.publicPath, { identity: 'e', principals: ['alice'] });
    expect(verifyCertificate(parsePublicKeyLine(l1).blob, { ...opts, caKeys: [ecaKey] }).ok).toBe(true);
    const l2 = await keygenSign(rca.privatePath, user.publicPath, { identity: 'r', principals: ['alice'], signatureAlgorithm: 'rsa-sha2-256' });
    expect(verifyCertificate(parsePublicKeyLine(l2).blob, { ...opts, caKeys: [rcaKey] }).ok).toBe(true);
    const l3 = await keygenSign(rca.privatePath, user.publicPath, { identity: 'r', principals: ['alice'], signatureAlgorithm: 'ssh-rsa' });
    expect(verifyCertificate(parsePublicKeyLine(l3).blob, { ...opts, caKeys: [rcaKey] })).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyCertificate(parsePublicKeyLine(l3).blob, { ...opts, caKeys: [rcaKey], signature: { allowSha1Rsa: true } }).ok).toBe(true);
  });

  it('an unknown critical option from ssh-keygen -O critical: is refused', async () => {
    const user = await generateKey(dir, 'u-crit', 'ed25519');
    const line = await keygenSign(ca.privatePath, user.publicPath, { identity: 'id', principals: ['alice'], options: ['critical:foo=bar'] });
    expect(verifyCertificate(parsePublicKeyLine(line).blob, { type: 'user', caKeys: [caKey.publicKeyBlob], principal: 'alice' })).toMatchObject({
      ok: false,
      reason: 'unknown-critical-option',
    });
  });

  for (const caType of ['ssh-ed25519', 'ecdsa-sha2-nistp521', 'ssh-rsa'] as const) {
    it(`ssh-keygen -L accepts a certificate signed by our ${caType} CA and shows its fields`, async () => {
      const ourCa = generatePrivateKey(caType, caType === 'ssh-rsa' ? 3072 : undefined);
      const subject = generatePrivateKey('ssh-ed25519');
      const s = signCertificate(
        {
          key: subject.publicKey,
          type: 'user',
          keyId: 'gatehouse:alice:sess-7',
          principals: ['root', 'postgres'],
          validAfter: 1_700_000_000,
          validBefore: 1_700_000_600,
          serial: 77,
          criticalOptions: { 'source-address': '127.0.0.1/32', 'force-command': 'echo hi' },
          extensions: { 'permit-pty': '', 'permit-port-forwarding': '' },
        },
        ourCa,
      );
      const p = join(dir, `ours-${caType}-cert.pub`);
      writeFileSync(p, `${formatPublicKeyLine(s.blob, 'ours')}\n`);
      const r = await run('ssh-keygen', ['-L', '-f', p], { env: { TZ: 'UTC' } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Type: ssh-ed25519-cert-v01@openssh.com user certificate');
      expect(r.stdout).toContain(`Public key: ED25519-CERT ${fingerprintSha256(subject.publicKeyBlob)}`);
      expect(r.stdout).toContain(`Signing CA: ${caType === 'ssh-rsa' ? 'RSA' : caType === 'ssh-ed25519' ? 'ED25519' : 'ECDSA'} ${fingerprintSha256(ourCa.publicKeyBlob)}`);
      expect(r.stdout).toContain(`using ${caType === 'ssh-rsa' ? 'rsa-sha2-512' : caType}`);
      expect(r.stdout).toContain('Key ID: "gatehouse:alice:sess-7"');
      expect(r.stdout).toContain('Serial: 77');
      expect(r.stdout).toContain('Valid: from 2023-11-14T22:13:20 to 2023-11-14T22:23:20');
      expect(r.stdout).toMatch(/Principals: \n\s+root\n\s+postgres\n/);
      expect(r.stdout).toMatch(/Critical Options: \n\s+force-command echo hi\n\s+source-address 127.0.0.1\/32\n/);
      expect(r.stdout).toMatch(/Extensions: \n\s+permit-port-forwarding\n\s+permit-pty\n/);
    });
  }

  it('ssh-keygen -L refuses our certificate when a signed byte is flipped', async () => {
    const subject = generatePrivateKey('ssh-ed25519');
    const s = signCertificate({ key: subject.publicKey, type: 'host', keyId: 'h', principals: ['db1'], validAfter: 0, validBefore: CERT_FOREVER }, caKey);
    const ok = join(dir, 'flip-ok-cert.pub');
    writeFileSync(ok, `${s.type} ${Buffer.from(s.blob).toString('base64')}\n`);
    const good = await run('ssh-keygen', ['-L', '-f', ok]);
    expect(good.stdout).toContain('host certificate');
    expect(good.stdout).toContain('Valid: forever');
    const bad = s.blob.slice();
    const at = new TextDecoder('latin1').decode(bad).indexOf('db1');
    bad[at] = 'x'.charCodeAt(0);
    const badPath = join(dir, 'flip-bad-cert.pub');
    writeFileSync(badPath, `${s.type} ${Buffer.from(bad).toString('base64')}\n`);
    const r = await run('ssh-keygen', ['-L', '-f', badPath]);
    expect(r.code).not.toBe(0);
  });
});
