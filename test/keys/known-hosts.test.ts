import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signCertificate } from '../../src/keys/certificate.js';
import { KnownHosts, hashKnownHostName, knownHostName } from '../../src/keys/known-hosts.js';
import { generatePrivateKey } from '../../src/keys/private-key.js';
import { formatPublicKeyLine } from '../../src/keys/public-key.js';
import { makeTempDir, removeTempDir, requireBinaries, run } from '../support/index.js';

const req = requireBinaries('ssh-keygen');
const k1 = generatePrivateKey('ssh-ed25519');
const k2 = generatePrivateKey('ecdsa-sha2-nistp256');
const k3 = generatePrivateKey('ssh-ed25519');
const revoked = generatePrivateKey('ssh-ed25519');
const ca = generatePrivateKey('ssh-ed25519');
const stranger = generatePrivateKey('ssh-ed25519');
const line = (k: { publicKeyBlob: Uint8Array }) => formatPublicKeyLine(k.publicKeyBlob);
const now = 1_800_000_000;

const FILE = [
  '# known hosts',
  `db1,10.0.0.5 ${line(k1)}`,
  `[db2]:2222 ${line(k2)}`,
  `*.example.com,!bad.example.com ${line(k3)}`,
  `@cert-authority *.corp ${line(ca)}`,
  `@revoked * ${line(revoked)}`,
  'garbage',
  '',
].join('\n');

function hostCert(principals: string[], key = k1) {
  return signCertificate({ key: key.publicKey, type: 'host', keyId: 'h', principals, validAfter: now - 60, validBefore: now + 600 }, ca).blob;
}

function expectLookups(kh: KnownHosts): void {
  expect(kh.lookup('db1', 22, k1.publicKeyBlob, now)).toBe('match');
  expect(kh.lookup('DB1', 22, k1.publicKeyBlob, now)).toBe('match');
  expect(kh.lookup('10.0.0.5', 22, k1.publicKeyBlob, now)).toBe('match');
  expect(kh.lookup('db1', 22, k2.publicKeyBlob, now)).toBe('mismatch');
  expect(kh.lookup('db1', 2200, k1.publicKeyBlob, now)).toBe('unknown');
  expect(kh.lookup('db2', 2222, k2.publicKeyBlob, now)).toBe('match');
  expect(kh.lookup('db2', 22, k2.publicKeyBlob, now)).toBe('unknown');
  expect(kh.lookup('web.example.com', 22, k3.publicKeyBlob, now)).toBe('match');
  expect(kh.lookup('bad.example.com', 22, k3.publicKeyBlob, now)).toBe('unknown');
  expect(kh.lookup('anything', 22, revoked.publicKeyBlob, now)).toBe('revoked');
  expect(kh.lookup('nowhere', 22, stranger.publicKeyBlob, now)).toBe('unknown');
}

describe('known_hosts', () => {
  it('parses patterns, markers and reports bad lines', () => {
    const kh = KnownHosts.parse(FILE);
    expect(kh.entries.map((e) => e.marker)).toEqual([null, null, null, 'cert-authority', 'revoked']);
    expect(kh.errors.map((e) => e.line)).toEqual([7]);
    expectLookups(kh);
  });

  it('finds hashed names', () => {
    const kh = KnownHosts.parse(`${hashKnownHostName('db1')} ${line(k1)}\n${hashKnownHostName(knownHostName('db2', 2222))} ${line(k2)}\n`);
    expect(kh.lookup('db1', 22, k1.publicKeyBlob)).toBe('match');
    expect(kh.lookup('db2', 2222, k2.publicKeyBlob)).toBe('match');
    expect(kh.lookup('db3', 22, k1.publicKeyBlob)).toBe('unknown');
  });

  it('accepts host certificates signed by an @cert-authority for the name, and checks principals and validity', () => {
    const kh = KnownHosts.parse(FILE);
    expect(kh.lookup('db9.corp', 22, hostCert(['db9.corp']), now)).toBe('match');
    expect(kh.check('db8.corp', 22, hostCert(['db9.corp']), now)).toMatchObject({ status: 'unknown', reason: /not a principal/ });
    expect(kh.lookup('db9.corp', 22, hostCert(['db9.corp']), now + 601)).toBe('unknown');
    // a CA only trusted for *.corp does not vouch for other names; the certified key still counts as a plain key
    expect(kh.lookup('db1', 22, hostCert(['db1']), now)).toBe('match');
    expect(kh.lookup('db1', 22, hostCert(['db1'], k2), now)).toBe('mismatch');
    // a certificate for a revoked key is revoked
    expect(kh.lookup('x.corp', 22, hostCert(['x.corp'], revoked), now)).toBe('revoked');
  });

  it('refuses a CA revoked by @revoked', () => {
    const kh = KnownHosts.parse(`@cert-authority * ${line(ca)}\n@revoked * ${line(ca)}\n`);
    expect(kh.lookup('db9.corp', 22, hostCert(['db9.corp']), now)).toBe('revoked');
  });
});

describe.skipIf(req.skip)(`known_hosts and ssh-keygen${req.reason}`, () => {
  const dir = makeTempDir();
  afterAll(() => removeTempDir(dir));

  it('looks up names in a file hashed by ssh-keygen -H', async () => {
    const p = join(dir, 'known_hosts');
    // ssh-keygen -H refuses to rewrite a file with an unparseable line; it leaves wildcard lines unhashed
    writeFileSync(p, FILE.replace('garbage\n', ''));
    const r = await run('ssh-keygen', ['-H', '-f', p]);
    expect(r.code, r.stderr).toBe(0);
    const hashedText = readFileSync(p, 'utf8');
    expect(hashedText).toMatch(/^\|1\|/m);
    expect(hashedText).not.toContain('db1');
    const kh = KnownHosts.parse(hashedText);
    expect(kh.entries.filter((e) => e.hashed !== null).length).toBeGreaterThanOrEqual(3);
    expectLookups(kh);
  });

  it('ssh-keygen -F finds the hashed lines we write', async () => {
    const p = join(dir, 'ours');
    writeFileSync(p, `${hashKnownHostName('db7')} ${line(k1)}\n${hashKnownHostName(knownHostName('db7', 2022))} ${line(k2)}\n`);
    const a = await run('ssh-keygen', ['-F', 'db7', '-f', p]);
    expect(a.stdout).toContain(line(k1).split(' ')[1]);
    const b = await run('ssh-keygen', ['-F', '[db7]:2022', '-f', p]);
    expect(b.stdout).toContain(line(k2).split(' ')[1]);
    const c = await run('ssh-keygen', ['-F', 'db8', '-f', p]);
    expect(c.stdout).toBe('');
  });
});

describe('formatting known_hosts lines', () => {
  it('writes plain, port, hashed and @cert-authority lines that look up again', async () => {
    const { formatKnownHostsLine } = await import('../../src/keys/known-hosts.js');
    const text = [
      formatKnownHostsLine(['db1', '10.0.0.5'], k1.publicKeyBlob),
      formatKnownHostsLine(knownHostName('db2', 2222), k2.publicKey, { hash: true }),
      formatKnownHostsLine('*.corp', ca.publicKeyBlob, { marker: 'cert-authority', comment: 'gatehouse-host-ca' }),
    ].join('\n');
    expect(text).toContain('@cert-authority *.corp ssh-ed25519 ');
    const kh = KnownHosts.parse(text);
    expect(kh.errors).toEqual([]);
    expect(kh.lookup('10.0.0.5', 22, k1.publicKeyBlob)).toBe('match');
    expect(kh.lookup('db2', 2222, k2.publicKeyBlob)).toBe('match');
    expect(kh.lookup('a.corp', 22, hostCert(['a.corp']), now)).toBe('match');
    expect(() => formatKnownHostsLine(['a', 'b'], k1.publicKeyBlob, { hash: true })).toThrow();
    expect(() => formatKnownHostsLine('a b', k1.publicKeyBlob)).toThrow();
  });
});
