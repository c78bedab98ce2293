import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLOCK_SKEW_SECONDS, CaFileError, loadOrCreateCa } from '../../src/ca/index.js';
import { verifyCertificate } from '../../src/keys/certificate.js';
import { generatePrivateKey } from '../../src/keys/private-key.js';
import { formatPublicKeyLine, parsePublicKeyLine } from '../../src/keys/public-key.js';
import { makeTempDir, removeTempDir, requireBinaries, run } from '../support/index.js';

const req = requireBinaries('ssh-keygen');

describe('certificate authorities in the state dir', () => {
  const root = makeTempDir();
  afterAll(() => removeTempDir(root));

  it('creates ed25519 CA keys mode 0600 on first use and loads the same key afterwards', async () => {
    const dir = join(root, 'state');
    const ca = await loadOrCreateCa(dir, 'user');
    expect(statSync(ca.path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readFileSync(ca.path, 'utf8')).toContain('BEGIN OPENSSH PRIVATE KEY');
    expect(ca.publicKeyLine).toMatch(/^ssh-ed25519 \S+ gatehouse-user-ca$/);
    expect(readFileSync(`${ca.path}.pub`, 'utf8').trim()).toBe(ca.publicKeyLine);
    const again = await loadOrCreateCa(dir, 'user');
    expect(again.publicKeyBlob).toEqual(ca.publicKeyBlob);
    const host = await loadOrCreateCa(dir, 'host');
    expect(host.publicKeyBlob).not.toEqual(ca.publicKeyBlob);
  });

  it('refuses a CA key readable by others', async () => {
    const dir = join(root, 'loose');
    const ca = await loadOrCreateCa(dir, 'host');
    chmodSync(ca.path, 0o644);
    await expect(loadOrCreateCa(dir, 'host')).rejects.toThrow(CaFileError);
  });

  it('issues short-lived user certificates, backdated for clock skew', async () => {
    const ca = await loadOrCreateCa(join(root, 'u'), 'user');
    const user = generatePrivateKey('ssh-ed25519');
    const now = 1_800_000_000;
    const s = ca.issueUserCertificate({
      publicKey: user.publicKeyBlob,
      principals: ['root'],
      keyId: 'gatehouse:alice:s1',
      validitySeconds: 120,
      extensions: ['permit-pty'],
      now,
    });
    expect(s.certificate.validAfter).toBe(BigInt(now - CLOCK_SKEW_SECONDS));
    expect(s.certificate.validBefore).toBe(BigInt(now + 120));
    const v = verifyCertificate(s.blob, { type: 'user', caKeys: [ca.publicKeyBlob], principal: 'root', now: now - 30 });
    expect(v).toMatchObject({ ok: true, extensions: ['permit-pty'] });
    expect(verifyCertificate(s.blob, { type: 'user', caKeys: [ca.publicKeyBlob], principal: 'root', now: now + 121 }).ok).toBe(false);
    expect(() => ca.issueHostCertificate({ publicKey: user.publicKeyBlob, names: ['x'] })).toThrow(CaFileError);
  });

  it('caches host certificates per key and names, and re-issues after half their lifetime', async () => {
    const ca = await loadOrCreateCa(join(root, 'h'), 'host');
    const hostKey = generatePrivateKey('ssh-ed25519');
    const now = 1_800_000_000;
    const a = ca.issueHostCertificate({ publicKey: hostKey.publicKey, names: ['db1', '10.0.0.5'], validitySeconds: 3600, now });
    const b = ca.issueHostCertificate({ publicKey: hostKey.publicKey, names: ['10.0.0.5', 'DB1'], validitySeconds: 3600, now: now + 100 });
    expect(b).toBe(a);
    const c = ca.issueHostCertificate({ publicKey: hostKey.publicKey, names: ['db2'], validitySeconds: 3600, now });
    expect(c).not.toBe(a);
    const d = ca.issueHostCertificate({ publicKey: hostKey.publicKey, names: ['db1', '10.0.0.5'], validitySeconds: 3600, now: now + 1801 });
    expect(d).not.toBe(a);
    expect(verifyCertificate(a.blob, { type: 'host', caKeys: [ca.publicKeyBlob], principal: 'db1', now }).ok).toBe(true);
    expect(verifyCertificate(a.blob, { type: 'host', caKeys: [ca.publicKeyBlob], principal: 'db3', now }).ok).toBe(false);
  });

  describe.skipIf(req.skip)(`with ssh-keygen${req.reason}`, () => {
    it('ssh-keygen reads the CA key file and the certificates it issues', async () => {
      const dir = join(root, 'k');
      const ca = await loadOrCreateCa(dir, 'user');
      const y = await run('ssh-keygen', ['-y', '-f', ca.path]);
      expect(y.stdout.trim().split(' ').slice(0, 2)).toEqual(ca.publicKeyLine.split(' ').slice(0, 2));
      const user = generatePrivateKey('ecdsa-sha2-nistp256');
      const s = ca.issueUserCertificate({ publicKey: user.publicKey, principals: ['postgres'], keyId: 'gatehouse:bob:s2', extensions: ['permit-pty'] });
      const p = join(dir, 'u-cert.pub');
      writeFileSync(p, `${formatPublicKeyLine(s.blob)}\n`);
      const l = await run('ssh-keygen', ['-L', '-f', p]);
      expect(l.code, l.stderr).toBe(0);
      expect(l.stdout).toContain('Key ID: "gatehouse:bob:s2"');
      expect(l.stdout).toMatch(/Principals: \n\s+postgres\n/);
      expect(parsePublicKeyLine(readFileSync(p, 'utf8')).key.type).toBe('ecdsa-sha2-nistp256-cert-v01@openssh.com');
    });
  });
});
