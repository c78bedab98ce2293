/**
 * Policy evaluation: default deny, one decision per (identity, target, login, action), each
 * with the rule that made it and a reason a person can read. An Authorization can only be
 * made here (DESIGN principle 6): it is the gateway's only way to the relay.
 */
import { resolveTarget, selectorMatches } from './targets.js';
import type { Action, Policy, PolicyRule, PolicyTarget, PolicyUser, RecordingPolicy } from './types.js';

/** How the identity was proven. */
export type IdentitySource = 'key' | 'certificate' | 'oidc';

export interface Identity {
  /** The policy user name (key users), certificate principal, or OIDC user claim. */
  readonly user: string;
  /** Groups asserted by the identity provider; only used for OIDC (matched by oidcGroups). */
  readonly groups: readonly string[];
  /** The SSH method that proved it: publickey, keyboard-interactive, ... */
  readonly authMethod: string;
  readonly keyFingerprint?: string;
  readonly source: IdentitySource;
  /**
   * The identity came from an SSO sign-in even though it arrives by certificate (one issued by
   * the gateway after a web login) or a key bound to an OIDC sign-in.
   */
  readonly sso?: boolean;
  /**
   * For certificate identities: the fingerprint of the CA that signed the certificate. When set
   * (and the identity is not SSO-issued by the gateway's own CA), a reload that drops that CA
   * from userCAs ends the session.
   */
  readonly certificateAuthority?: string;
}

export interface AccessRequest {
  readonly identity: Identity;
  /** A target, or the name / alias / address the client asked for. */
  readonly target: string | PolicyTarget;
  /** The port the client asked for, when it asked by name or address. */
  readonly port?: number;
  readonly login: string;
  readonly action: Action;
}

export type DenialCode =
  | 'unknown-user'
  | 'unknown-target'
  | 'no-rule-for-user'
  | 'target-not-allowed'
  | 'login-not-allowed'
  | 'sso-required'
  | 'action-not-allowed';

export interface Denial {
  readonly allowed: false;
  readonly code: DenialCode;
  readonly reason: string;
  /** The rule that came closest to allowing it, or "default-deny". */
  readonly rule: string;
}

export const DEFAULT_DENY = 'default-deny';

const issued = Symbol('gatehouse.policy.Authorization');

/** Proof that the policy allowed one action. Only this module can construct one. */
export class Authorization {
  readonly allowed = true as const;
  readonly #brand = issued;

  /** @internal the token keeps every other module from constructing an Authorization. */
  constructor(
    token: typeof issued,
    readonly identity: Identity,
    readonly target: PolicyTarget,
    readonly login: string,
    readonly action: Action,
    readonly rule: string,
    readonly reason: string,
    readonly recording: RecordingPolicy,
    readonly env: readonly string[],
    readonly policyVersion: number,
  ) {
    if (token !== issued) throw new TypeError('an Authorization comes only from the policy engine');
  }

  /** Whether the client may set this environment variable (exact name or "PREFIX*"). */
  allowsEnv(name: string): boolean {
    return this.env.some((p) => p === '*' || (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : p === name));
  }

  static isAuthorization(x: unknown): x is Authorization {
    return typeof x === 'object' && x !== null && #brand in x;
  }
}

export type Decision = Authorization | Denial;

/** Stages a rule is checked in; a denial names the furthest stage any rule reached. */
const STAGES = ['subject', 'target', 'login', 'sso', 'action'] as const;
type Stage = (typeof STAGES)[number];

interface Subject {
  readonly entry: PolicyUser | undefined;
  readonly groups: readonly string[];
  readonly idpGroups: readonly string[];
  readonly isSso: boolean;
}

/**
 * The policy entry an identity maps to. OIDC identities only map to entries marked oidc, and key
 * or certificate identities only to the others, so an identity provider account cannot take over
 * a key user of the same name.
 */
export function policyUserFor(policy: Policy, identity: Identity): PolicyUser | undefined {
  const wantsOidc = identity.source === 'oidc' || (identity.source === 'certificate' && identity.sso === true);
  return policy.users.find((u) => u.name === identity.user && u.oidc === wantsOidc);
}

function subjectOf(policy: Policy, identity: Identity): Subject | Denial {
  const entry = policyUserFor(policy, identity);
  const isSso = identity.source === 'oidc' || identity.sso === true;
  if (identity.source !== 'oidc' && !entry) {
    return deny('unknown-user', DEFAULT_DENY, `user ${identity.user} is not in the policy`);
  }
  if (identity.source === 'key' && entry && identity.keyFingerprint !== undefined && !identity.sso) {
    if (!entry.keys.some((k) => k.fingerprint === identity.keyFingerprint)) {
      return deny('unknown-user', DEFAULT_DENY, `key ${identity.keyFingerprint} is no longer listed for user ${identity.user}`);
    }
  }
  if (identity.source === 'certificate' && identity.certificateAuthority !== undefined && !identity.sso) {
    if (!policy.userCAs.some((k) => k.fingerprint === identity.certificateAuthority)) {
      return deny('unknown-user', DEFAULT_DENY, `certificate authority ${identity.certificateAuthority} is not trusted by the policy`);
    }
  }
  if (entry?.requireSso && !isSso) {
    return deny('sso-required', DEFAULT_DENY, `user ${identity.user} must sign in with SSO`);
  }
  return {
    entry,
    groups: entry?.groups ?? [],
    idpGroups: identity.source === 'oidc' ? identity.groups : [],
    isSso,
  };
}

function stageReached(rule: PolicyRule, s: Subject, target: PolicyTarget, login: string, action: Action): Stage | 'all' {
  const bySubject =
    (s.entry !== undefined && rule.users.includes(s.entry.name)) ||
    rule.groups.some((g) => s.groups.includes(g)) ||
    rule.oidcGroups.some((g) => s.idpGroups.includes(g));
  if (!bySubject) return 'subject';
  if (!selectorMatches(rule.targets, target)) return 'target';
  if (!rule.logins.includes(login)) return 'login';
  if (rule.requireSso && !s.isSso) return 'sso';
  if (!rule.allow.includes(action)) return 'action';
  return 'all';
}

export function evaluate(policy: Policy, req: AccessRequest): Decision {
  const { identity, login, action } = req;
  const subject = subjectOf(policy, identity);
  if ('allowed' in subject) return subject;
  let target: PolicyTarget;
  if (typeof req.target === 'string') {
    const found = resolveTarget(policy, req.target, req.port);
    if (found.kind !== 'found') return deny('unknown-target', DEFAULT_DENY, found.reason);
    target = found.target;
  } else {
    // A target object from an older policy: look it up again so a removed target denies.
    const current = policy.targets.find((t) => t.name === (req.target as PolicyTarget).name);
    if (!current) return deny('unknown-target', DEFAULT_DENY, `target ${req.target.name} is no longer in the inventory`);
    target = current;
  }

  let nearest: { rule: PolicyRule; stage: Stage } | undefined;
  for (const rule of policy.rules) {
    const stage = stageReached(rule, subject, target, login, action);
    if (stage === 'all') {
      return new Authorization(
        issued,
        identity,
        target,
        login,
        action,
        rule.name,
        printable(`rule ${rule.name} allows ${identity.user} ${action} on ${target.name} as ${login}`),
        rule.recording,
        rule.env,
        policy.version,
      );
    }
    if (stage !== 'subject' && (!nearest || STAGES.indexOf(stage) > STAGES.indexOf(nearest.stage))) {
      nearest = { rule, stage };
    }
  }
  const what = `${identity.user} ${action} on ${target.name} as ${login}`;
  if (!nearest) return deny('no-rule-for-user', DEFAULT_DENY, `no rule applies to ${identity.user}; default deny for ${what}`);
  const r = nearest.rule.name;
  switch (nearest.stage) {
    case 'target':
      return deny('target-not-allowed', r, `no rule lets ${identity.user} reach ${target.name} (default deny)`);
    case 'login':
      return deny('login-not-allowed', r, `rule ${r} covers ${target.name} for ${identity.user} but not login ${login}`);
    case 'sso':
      return deny('sso-required', r, `rule ${r} requires an SSO sign-in for ${what}`);
    case 'action':
      return deny('action-not-allowed', r, `rule ${r} lets ${identity.user} log in to ${target.name} as ${login} but does not allow ${action}`);
    case 'subject':
      return deny('no-rule-for-user', DEFAULT_DENY, `no rule applies to ${identity.user}`);
    default: {
      const never: never = nearest.stage;
      throw new Error(`unknown stage ${String(never)}`);
    }
  }
}

/**
 * Evaluates an existing authorization against a (reloaded) policy: the same identity, target,
 * login and action. A denial means the live session must end.
 */
export function reevaluate(policy: Policy, auth: Authorization): Decision {
  return evaluate(policy, { identity: auth.identity, target: auth.target, login: auth.login, action: auth.action });
}

/** Every action some rule allows for this identity, target and login (for certificate extensions). */
export function allowedActions(policy: Policy, identity: Identity, target: PolicyTarget, login: string): Action[] {
  const subject = subjectOf(policy, identity);
  if ('allowed' in subject) return [];
  const out = new Set<Action>();
  for (const rule of policy.rules) {
    if (rule.requireSso && !subject.isSso) continue;
    const stage = stageReached(rule, subject, target, login, rule.allow[0] ?? 'shell');
    if (stage === 'all' || stage === 'action') for (const a of rule.allow) out.add(a);
  }
  return [...out];
}

export interface Reachable {
  readonly target: PolicyTarget;
  readonly logins: readonly string[];
}

/** The targets and logins an identity may open a shell on: the target menu's entries. */
export function reachableTargets(policy: Policy, identity: Identity, action: Action = 'shell'): Reachable[] {
  const out: Reachable[] = [];
  for (const target of policy.targets) {
    const logins = new Set<string>();
    for (const rule of policy.rules) {
      for (const login of rule.logins) {
        if (logins.has(login)) continue;
        if (evaluate(policy, { identity, target, login, action }).allowed) logins.add(login);
      }
    }
    if (logins.size > 0) out.push({ target, logins: [...logins] });
  }
  return out;
}

function deny(code: DenialCode, rule: string, reason: string): Denial {
  return { allowed: false, code, reason: printable(reason), rule };
}

/** Reasons reach terminals and logs; names in them come from clients. */
function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, '?').slice(0, 1000);
}
