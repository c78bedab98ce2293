import { describe, expect, it } from 'vitest';
import { type AuthorizedKeyOptions, authorizeKey, parseAuthorizedKeyLine, parseAuthorizedKeys, parseExpiryTime } from '../../src/keys/authorized-keys.js';
import { signCertificate } from '../../src/keys/certificate.js';
import { KeyFormatError } from '../../src/keys/errors.js';
import { generatePrivateKey } from '../../src/keys/private-key.js';
import { formatPublicKeyLine } from '../../src/keys/public-key.js';

const alice = generatePrivateKey('ssh-ed25519', undefined, 'alice');
const bob = generatePrivateKey('ecdsa-sha2-nistp256', undefined, 'bob');
const ca = generatePrivateKey('ssh-ed25519', undefined, 'ca');
const KEY = formatPublicKeyLine(alice.publicKeyBlob, 'alice@laptop');
const CA = formatPublicKeyLine(ca.publicKeyBlob, 'corp-ca');
const now = 1_800_000_000;

function opts(line: string): AuthorizedKeyOptions {
  const e = parseAuthorizedKeyLine(line);
  if (e === null) throw new Error('no entry');
  return e.options;
}

describe('authorized_keys option parsing', () => {
  const table: Array<[string, Partial<AuthorizedKeyOptions> & { perms?: Partial<AuthorizedKeyOptions['permissions']> }]> = [
    ['', { restrict: false, certAuthority: false, command: null, from: null }],
    ['no-pty ', { perms: { pty: false, portForwarding: true } }],
    ['restrict ', { restrict: true, perms: { pty: false, portForwarding: false, agentForwarding: false, x11Forwarding: false, userRc: false } }],
    ['restrict,pty,port-forwarding ', { perms: { pty: true, portForwarding: true, agentForwarding: false } }],
    ['pty,restrict ', { perms: { pty: false } }],
    ['NO-PORT-FORWARDING,no-agent-forwarding,no-X11-forwarding,no-user-rc ', { perms: { pty: true, portForwarding: false, agentForwarding: false, x11Forwarding: false, userRc: false } }],
    ['command="echo \\"hi\\", there" ', { command: 'echo "hi", there' }],
    ['from="10.0.0.0/8,!10.1.2.3,*.example.com" ', { from: '10.0.0.0/8,!10.1.2.3,*.example.com' }],
    ['cert-authority,principals="root,postgres" ', { certAuthority: true, principals: ['root', 'postgres'] }],
    ['permitopen="db1:5432",permitopen="[::1]:22",permitlisten="localhost:8080" ', { permitOpen: ['db1:5432', '[::1]:22'], permitListen: ['localhost:8080'] }],
    ['environment="LANG=C",environment="TZ=UTC" ', { environment: ['LANG=C', 'TZ=UTC'] }],
    ['expiry-time="20300101Z" ', { expiryTime: Date.UTC(2030, 0, 1) / 1000 }],
    ['expiry-time="203001021530Z" ', { expiryTime: Date.UTC(2030, 0, 2, 15, 30) / 1000 }],
  ];
  for (const [prefix, want] of table) {
    it(`parses ${JSON.stringify(prefix.trim() || '(no options)')}`, () => {
      const o = opts(`${prefix}${KEY}`);
      const { perms, ...rest } = want;
      expect(o).toMatchObject(rest);
      if (perms !== undefined) expect(o.permissions).toMatchObject(perms);
    });
  }

  const bad: Array<[string, RegExp]> = [
    ['no-such-option ', /unknown option/],
    ['command=echo ', /double-quoted/],
    ['command="unterminated ', /unterminated/],
    ['no-pty="x" ', /takes no value/],
    ['principals="root" ', /only valid with cert-authority/],
    ['environment="1BAD=x" ', /invalid environment/],
    ['expiry-time="2030" ', /invalid expiry-time/],
    ['permitopen="nohost" ', /invalid permitopen/],
    ['no-pty,,no-pty ', /bad option syntax/],
  ];
  for (const [prefix, re] of bad) {
    it(`refuses ${JSON.stringify(prefix.trim())}`, () => {
      expect(() => parseAuthorizedKeyLine(`${prefix}${KEY}`)).toThrow(KeyFormatError);
      expect(() => parseAuthorizedKeyLine(`${prefix}${KEY}`)).toThrow(re);
    });
  }

  it('skips comments and blank lines and reports bad lines with their numbers', () => {
    const f = parseAuthorizedKeys(`# comment\n\n${KEY}\nbogus line here\nrestrict ${CA}\n`);
    expect(f.entries.map((e) => e.line)).toEqual([3, 5]);
    expect(f.errors.map((e) => e.line)).toEqual([4]);
  });

  it('reads local-time expiry without Z', () => {
    expect(parseExpiryTime('20300101')).toBe(new Date(2030, 0, 1).getTime() / 1000);
  });
});

describe('authorized_keys decisions', () => {
  const file = parseAuthorizedKeys(
    [
      `from="127.0.0.1,10.0.0.0/8,!10.9.9.9",no-pty ${KEY}`,
      `restrict,port-forwarding,expiry-time="20200101Z" ${formatPublicKeyLine(bob.publicKeyBlob)}`,
      `cert-authority,principals="root",command="/bin/audit" ${CA}`,
    ].join('\n'),
  );

  it('allows a listed key from an allowed address with its restrictions', () => {
    const d = authorizeKey(file, { keyBlob: alice.publicKeyBlob, user: 'alice', address: '10.2.3.4', now });
    expect(d).toMatchObject({ ok: true, via: 'key', restrictions: { pty: false, portForwarding: true, command: null } });
  });
  it('refuses the key from a negated or unlisted address', () => {
    expect(authorizeKey(file, { keyBlob: alice.publicKeyBlob, user: 'alice', address: '10.9.9.9', now })).toMatchObject({ ok: false });
    expect(authorizeKey(file, { keyBlob: alice.publicKeyBlob, user: 'alice', address: '192.168.1.1', now })).toMatchObject({ ok: false, reason: /from=/ });
  });
  it('refuses a key past its expiry-time and an unlisted key', () => {
    expect(authorizeKey(file, { keyBlob: bob.publicKeyBlob, user: 'bob', address: '127.0.0.1', now })).toMatchObject({ ok: false, reason: /expir/ });
    const other = generatePrivateKey('ssh-ed25519');
    expect(authorizeKey(file, { keyBlob: other.publicKeyBlob, user: 'x', address: '127.0.0.1', now })).toMatchObject({ ok: false, reason: /not listed/ });
  });
  it('allows a certificate through cert-authority when principals= matches, merging extensions', () => {
    const cert = signCertificate(
      { key: bob.publicKey, type: 'user', keyId: 'k', principals: ['root'], validAfter: now - 10, validBefore: now + 10, extensions: { 'permit-pty': '' } },
      ca,
    );
    const d = authorizeKey(file, { keyBlob: cert.blob, user: 'anyone', address: '127.0.0.1', now });
    expect(d).toMatchObject({ ok: true, via: 'cert-authority', restrictions: { command: '/bin/audit', pty: true, portForwarding: false } });
    // a plain-key line never matches a certificate, and a cert-authority line never a plain key
    expect(authorizeKey(file, { keyBlob: ca.publicKeyBlob, user: 'root', address: '127.0.0.1', now })).toMatchObject({ ok: false });
  });
  it('refuses a certificate with the wrong principal, from another CA, expired, or forcing another command', () => {
    const mk = (principals: string[], signer = ca, crit: Record<string, string> = {}, until = now + 10) =>
      signCertificate({ key: bob.publicKey, type: 'user', keyId: 'k', principals, validAfter: now - 10, validBefore: until, criticalOptions: crit }, signer).blob;
    const req = { user: 'root', address: '127.0.0.1', now };
    expect(authorizeKey(file, { ...req, keyBlob: mk(['postgres']) })).toMatchObject({ ok: false, reason: /principals/ });
    expect(authorizeKey(file, { ...req, keyBlob: mk(['root'], generatePrivateKey('ssh-ed25519')) })).toMatchObject({ ok: false });
    expect(authorizeKey(file, { ...req, keyBlob: mk(['root'], ca, {}, now - 1) })).toMatchObject({ ok: false, reason: /expired/ });
    expect(authorizeKey(file, { ...req, keyBlob: mk(['root'], ca, { 'force-command': '/bin/sh' }) })).toMatchObject({ ok: false, reason: /different commands/ });
    expect(authorizeKey(file, { ...req, keyBlob: mk(['root'], ca, { 'source-address': '10.0.0.0/8' }) })).toMatchObject({ ok: false, reason: /source-address/ });
  });
  it('without principals=, the user name must be a certificate principal', () => {
    const f = parseAuthorizedKeys(`cert-authority ${CA}`);
    const cert = signCertificate({ key: bob.publicKey, type: 'user', keyId: 'k', principals: ['alice'], validAfter: now - 10, validBefore: now + 10 }, ca);
    expect(authorizeKey(f, { keyBlob: cert.blob, user: 'alice', address: '::1', now }).ok).toBe(true);
    expect(authorizeKey(f, { keyBlob: cert.blob, user: 'root', address: '::1', now }).ok).toBe(false);
  });
});
