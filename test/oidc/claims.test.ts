import { describe, expect, it } from 'vitest';
import { claimAt, identityFromClaims } from '../../src/oidc/claims.js';
import { OidcLoginError } from '../../src/oidc/errors.js';

const base = { iss: 'https://idp.example', sub: 'u-1', email: 'alice@example.com', preferred_username: 'alice', groups: ['ops', 'dba', 'ops'], realm_access: { roles: ['admin'] } };

describe('identityFromClaims', () => {
  it('maps email and groups by default names', () => {
    expect(identityFromClaims(base, { usernameClaim: 'email', groupsClaim: 'groups' })).toEqual({
      user: 'alice@example.com',
      groups: ['ops', 'dba'],
      source: 'oidc',
      issuer: 'https://idp.example',
      subject: 'u-1',
    });
  });
  it('uses any configured claim, including dotted paths (Keycloak realm roles)', () => {
    const id = identityFromClaims(base, { usernameClaim: 'preferred_username', groupsClaim: 'realm_access.roles' });
    expect(id.user).toBe('alice');
    expect(id.groups).toEqual(['admin']);
    expect(claimAt({ 'a.b': 1, a: { b: 2 } }, 'a.b')).toBe(1);
  });
  it('refuses a missing or unusable user name with a message naming the claim', () => {
    for (const claims of [{ ...base, email: undefined }, { ...base, email: 'a b' }, { ...base, email: 'x\x1b[2J' }, { ...base, email: 42 }]) {
      try {
        identityFromClaims(claims, { usernameClaim: 'email', groupsClaim: 'groups' });
        throw new Error('accepted');
      } catch (err) {
        expect(err).toBeInstanceOf(OidcLoginError);
        expect((err as OidcLoginError).userMessage).toContain('"email"');
      }
    }
  });
  it('tolerates a single-string group claim and drops junk entries', () => {
    expect(identityFromClaims({ ...base, groups: 'ops' }, { usernameClaim: 'email', groupsClaim: 'groups' }).groups).toEqual(['ops']);
    expect(identityFromClaims({ ...base, groups: ['Domain Admins', 7, '', 'x\ny'] }, { usernameClaim: 'email', groupsClaim: 'groups' }).groups).toEqual(['Domain Admins']);
    expect(identityFromClaims({ ...base, groups: undefined }, { usernameClaim: 'email', groupsClaim: 'groups' }).groups).toEqual([]);
  });
});
