export { formatIssue, KeyLineError, type PolicyIssue, type PolicyIssueKind, PolicyLoadError } from './errors.js';
export {
  type AccessRequest,
  Authorization,
  allowedActions,
  DEFAULT_DENY,
  type Decision,
  type Denial,
  type DenialCode,
  evaluate,
  type Identity,
  type IdentitySource,
  policyUserFor,
  type Reachable,
  reachableTargets,
  reevaluate,
} from './evaluate.js';
export { fingerprintOf, parseKeyLine, sameKey } from './key-line.js';
export { LiveAuthorizations, type ReloadSource, type RevokeCallback } from './live-sessions.js';
export { checkPolicyPath, checkPolicySources, loadPolicyPath, type PolicyCheck } from './loader.js';
export { keyUserNamed, policyAdmitsOidcIdentity, trustedUserCa, userForKey } from './lookup.js';
export { PolicyStore, type PolicyStoreOptions, type ReloadOutcome, type ReloadTrigger } from './store.js';
export { resolveTarget, selectorMatches, type TargetLookup, targetNames } from './targets.js';
export * from './types.js';
