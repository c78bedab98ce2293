/**
 * Lookups the authentication layer needs from the policy: which key user a proven public key
 * belongs to, whether a certificate's signing CA is trusted, and whether an OIDC identity can
 * be admitted at all.
 */
import { sameKey } from './key-line.js';
import type { Policy, PolicyKey, PolicyUser } from './types.js';

/** The key user (not OIDC) who lists this public key blob, if any. */
export function userForKey(policy: Policy, blob: Uint8Array): PolicyUser | undefined {
  return policy.users.find((u) => !u.oidc && u.keys.some((k) => sameKey(k.blob, blob)));
}

/** The policy's user CA with this blob, if it is trusted for user certificates. */
export function trustedUserCa(policy: Policy, caBlob: Uint8Array): PolicyKey | undefined {
  return policy.userCAs.find((k) => sameKey(k.blob, caBlob));
}

/** The key user with this name (certificate principals name key users). */
export function keyUserNamed(policy: Policy, name: string): PolicyUser | undefined {
  return policy.users.find((u) => !u.oidc && u.name === name);
}

/**
 * Whether `policy` admits an OIDC identity at all: as an OIDC user entry, or through a rule
 * naming one of its provider groups. The gateway revokes the key bindings of identities it does not.
 */
export function policyAdmitsOidcIdentity(policy: Policy, identity: { readonly user: string; readonly groups: readonly string[] }): boolean {
  return (
    policy.users.some((u) => u.oidc && u.name === identity.user) ||
    policy.rules.some((r) => r.oidcGroups.some((g) => identity.groups.includes(g)))
  );
}
