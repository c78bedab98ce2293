// OIDC identities as the policy engine sees them (src/policy Identity): groups from the groups
// claim are matched by rules' oidcGroups, and `sso` marks an identity proven by a sign-in at the
// provider, which `requireSso` rules ask for.
import type { Identity } from '../policy/index.js';
import type { OidcIdentity } from './claims.js';
import type { KeyBinding } from './key-binding-store.js';

/** After a device-flow sign-in inside keyboard-interactive. */
export function policyIdentityFromDeviceLogin(identity: OidcIdentity): Identity {
  return { user: identity.user, groups: identity.groups, authMethod: 'keyboard-interactive', source: 'oidc', sso: true };
}

/** A proven public key that is bound to an earlier sign-in (no browser this time). */
export function policyIdentityFromKeyBinding(binding: KeyBinding): Identity {
  return { user: binding.identity.user, groups: binding.identity.groups, authMethod: 'publickey', keyFingerprint: binding.fingerprint, source: 'oidc', sso: true };
}
