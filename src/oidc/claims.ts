// ID token claims → the identity the policy engine sees. Claim names are configurable and may be
// dotted paths (Keycloak puts realm roles in `realm_access.roles`).
import { OidcLoginError } from './errors.js';

export interface OidcIdentity {
  /** The user name policy rules match on (from the configured claim). */
  readonly user: string;
  readonly groups: readonly string[];
  readonly source: 'oidc';
  readonly issuer: string;
  readonly subject: string;
}

export interface ClaimMapping {
  readonly usernameClaim: string;
  readonly groupsClaim: string;
}

const MAX_GROUPS = 1000;
const MAX_NAME = 256;

/** A value at a dotted path; a claim whose literal name contains dots wins over the path. */
export function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let cur: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function isUsableName(v: string): boolean {
  // No control characters or whitespace: the name ends up in logs, recordings and certificates.
  return v.length > 0 && v.length <= MAX_NAME && !/[\s\x00-\x1f\x7f]/.test(v);
}

export function identityFromClaims(claims: Readonly<Record<string, unknown>> & { iss: string; sub: string }, mapping: ClaimMapping): OidcIdentity {
  const rawUser = claimAt(claims, mapping.usernameClaim);
  if (typeof rawUser !== 'string' || !isUsableName(rawUser)) {
    throw new OidcLoginError(
      'claim-missing',
      `Sign-in refused: your identity provider did not send a usable "${mapping.usernameClaim}" claim.`,
      `claim ${mapping.usernameClaim} is ${rawUser === undefined ? 'absent' : 'not a usable name'} for sub ${claims.sub}`,
    );
  }
  const rawGroups = claimAt(claims, mapping.groupsClaim);
  const list = typeof rawGroups === 'string' ? [rawGroups] : Array.isArray(rawGroups) ? rawGroups : [];
  const groups: string[] = [];
  for (const g of list) {
    if (groups.length >= MAX_GROUPS) break;
    // Group names may hold spaces ("Domain Admins") but never control characters.
    if (typeof g === 'string' && g.length > 0 && g.length <= MAX_NAME && !/[\x00-\x1f\x7f]/.test(g) && !groups.includes(g)) groups.push(g);
  }
  return { user: rawUser, groups, source: 'oidc', issuer: claims.iss, subject: claims.sub };
}
