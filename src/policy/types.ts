/**
 * The policy model: what policies/*.yaml says once validated. The YAML shape is the contract of
 * issue 4 ("extend, do not rename"); these types are its checked, normalised form.
 */

/** Every action is checked on its own: a shell is not permission to forward a port. */
export const ACTIONS = ['shell', 'exec', 'sftp', 'port-forward', 'remote-forward', 'agent-forward'] as const;
export type Action = (typeof ACTIONS)[number];

export function isAction(s: string): s is Action {
  return (ACTIONS as readonly string[]).includes(s);
}

/** Where a definition came from, for messages that point at the file. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** A public key from the policy: the OpenSSH line split into its parts; compared by blob. */
export interface PolicyKey {
  readonly type: string;
  readonly blob: Uint8Array;
  readonly comment: string;
  /** "SHA256:..." as printed by ssh-keygen -l. */
  readonly fingerprint: string;
}

export interface PolicyUser {
  readonly name: string;
  readonly keys: readonly PolicyKey[];
  readonly groups: readonly string[];
  /** The name is an OIDC identity (from the configured user claim), not a key user. */
  readonly oidc: boolean;
  /** This user may only be admitted through an SSO sign-in (OIDC). */
  readonly requireSso: boolean;
  readonly at: SourceLocation;
}

/** How the gateway proves who the target is. Exactly one kind per target. */
export type HostVerification =
  | { readonly kind: 'host-keys'; readonly keys: readonly PolicyKey[] }
  | { readonly kind: 'known-hosts'; readonly file: string }
  | { readonly kind: 'host-ca'; readonly key: PolicyKey };

/** The credential the gateway presents to the target. */
export type TargetAuth =
  | { readonly kind: 'certificate' }
  | { readonly kind: 'key'; readonly file: string }
  | { readonly kind: 'agent' };

export interface PolicyTarget {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly aliases: readonly string[];
  readonly hostVerification: HostVerification;
  readonly auth: TargetAuth;
  readonly labels: Readonly<Record<string, string>>;
  readonly description: string;
  readonly at: SourceLocation;
}

export type RecordingFailureAction = 'end' | 'continue';

export interface RecordingPolicy {
  /** Record keystrokes ("i" events). Off by default: input includes passwords. */
  readonly input: boolean;
  /** What happens when the recording cannot be written. Default: end the session. */
  readonly onFailure: RecordingFailureAction;
}

/** Which targets a rule covers: by name (or alias) or by labels (all must match). */
export type TargetSelector =
  | { readonly kind: 'names'; readonly names: readonly string[] }
  | { readonly kind: 'labels'; readonly labels: Readonly<Record<string, string>> }
  | { readonly kind: 'all' };

export interface PolicyRule {
  readonly name: string;
  readonly users: readonly string[];
  readonly groups: readonly string[];
  /** Groups asserted by the identity provider (groups claim), distinct from policy groups. */
  readonly oidcGroups: readonly string[];
  readonly targets: TargetSelector;
  readonly logins: readonly string[];
  readonly allow: readonly Action[];
  readonly recording: RecordingPolicy;
  /** Environment variables the client may pass (exact names, or a prefix ending in "*"). */
  readonly env: readonly string[];
  readonly requireSso: boolean;
  readonly at: SourceLocation;
}

export interface Policy {
  readonly users: readonly PolicyUser[];
  readonly userCAs: readonly PolicyKey[];
  readonly targets: readonly PolicyTarget[];
  readonly rules: readonly PolicyRule[];
  /** The files this policy was read from, in load order. */
  readonly files: readonly string[];
  /** Increases with every successful load by a PolicyStore; 0 for a one-off load. */
  readonly version: number;
  /** SHA-256 over the file names and texts: equal digests mean an unchanged policy. */
  readonly digest: string;
}

export const DEFAULT_RECORDING: RecordingPolicy = { input: false, onFailure: 'end' };
