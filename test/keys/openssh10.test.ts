/** The same key and certificate interop against OpenSSH 10.0's ssh-keygen (bookworm-backports). */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signCertificate, verifyCertificate } from '../../src/keys/certificate.js';
import { generatePrivateKey, parsePrivateKey, serializeOpenSshPrivateKey } from '../../src/keys/private-key.js';
import { fingerprintSha256, formatPublicKeyLine, parsePublicKeyLine } from '../../src/keys/public-key.js';
import { generateKey, makeTempDir, openssh10, removeTempDir, requireOpenssh10, run, signCertificate as keygenSign } from '../support/index.js';

const req = requireOpenssh10();

describe.skipIf(req.skip)(`OpenSSH 10.0 ssh-keygen${req.reason}`, () => {
  const dir = makeTempDir();
  afterAll(() => removeTempDir(dir));
  const keygen = openssh10()?.sshKeygen ?? 'ssh-keygen';

  it('reads our encrypted key and our certificate; we read its encrypted key and its certificate', async () => {
    const ca = generatePrivateKey('ssh-ed25519', undefined, 'ca');
    const k = generatePrivateKey('ecdsa-sha2-nistp256', undefined, 'ours');
    const kp = join(dir, 'ours');
    writeFileSync(kp, serializeOpenSshPrivateKey(k, { passphrase: 'pass 10' }), { mode: 0o600 });
    const y = await run(keygen, ['-y', '-P', 'pass 10', '-f', kp]);
    expect(y.stdout.trim().split(' ').slice(0, 2).join(' ')).toBe(formatPublicKeyLine(k.publicKeyBlob));

    const cert = signCertificate(
      { key: k.publicKey, type: 'user', keyId: 'ten', principals: ['alice'], validAfter: 0, validBefore: 2_000_000_000, extensions: { 'permit-pty': '' } },
      ca,
    );
    const cp = join(dir, 'ours-cert.pub');
    writeFileSync(cp, `${formatPublicKeyLine(cert.blob)}\n`);
    const l = await run(keygen, ['-L', '-f', cp]);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toContain(`Signing CA: ED25519 ${fingerprintSha256(ca.publicKeyBlob)}`);
    expect(l.stdout).toContain('Key ID: "ten"');

    const theirs = await generateKey(dir, 'theirs', 'ed25519', { passphrase: 'their pass', keygen });
    const tk = parsePrivateKey(theirs.privatePem, 'their pass');
    expect(formatPublicKeyLine(tk.publicKeyBlob)).toBe(theirs.publicLine.split(' ').slice(0, 2).join(' '));
    const caFile = await generateKey(dir, 'ca10', 'ed25519', { keygen });
    const line = await keygenSign(caFile.privatePath, theirs.publicPath, { identity: 'x', principals: ['bob'], validity: '+5m' });
    const v = verifyCertificate(parsePublicKeyLine(line).blob, {
      type: 'user',
      caKeys: [parsePublicKeyLine(readFileSync(caFile.publicPath, 'utf8')).blob],
      principal: 'bob',
    });
    expect(v.ok).toBe(true);
  });
});
