/**
 * Loads every *.yaml / *.yml file in the policies directory into one Policy, checks what spans
 * files (duplicate names, aliases that collide, rules naming users or targets that do not
 * exist) and reports every problem at once with file:line:col.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type PolicyIssue, PolicyLoadError } from './errors.js';
import { sameKey } from './key-line.js';
import { clip } from './yaml-nodes.js';
import { type PolicyFragment, parsePolicyText } from './schema.js';
import type { Policy, PolicyKey, PolicyRule, PolicyTarget, PolicyUser, SourceLocation } from './types.js';

/** Bounds on what one policy directory may hold, so a stray file cannot exhaust memory. */
export const MAX_POLICY_FILE_BYTES = 4 * 1024 * 1024;
export const MAX_POLICY_FILES = 1000;

export interface PolicyCheck {
  /** Present only when there were no issues. */
  readonly policy: Policy | undefined;
  readonly issues: readonly PolicyIssue[];
}

export function isPolicyFileName(name: string): boolean {
  return /\.ya?ml$/i.test(name) && !name.startsWith('.');
}

/** Reads and checks a directory (or a single file); never throws for content problems. */
export function checkPolicyPath(path: string, version = 0): PolicyCheck {
  const sources: { file: string; text: string }[] = [];
  const issues: PolicyIssue[] = [];
  const ioIssue = (file: string, message: string): void => {
    issues.push({ kind: 'io', file, line: 0, col: 0, message });
  };
  let names: string[];
  try {
    if (statSync(path).isFile()) {
      names = [''];
    } else {
      names = readdirSync(path).filter(isPolicyFileName).sort();
    }
  } catch (e) {
    ioIssue(path, `cannot read the policy directory: ${errorText(e)}`);
    return { policy: undefined, issues };
  }
  if (names.length > MAX_POLICY_FILES) {
    ioIssue(path, `more than ${MAX_POLICY_FILES} policy files`);
    return { policy: undefined, issues };
  }
  for (const name of names) {
    const file = name === '' ? path : join(path, name);
    try {
      const st = statSync(file);
      if (!st.isFile()) continue;
      if (st.size > MAX_POLICY_FILE_BYTES) {
        ioIssue(file, `larger than ${MAX_POLICY_FILE_BYTES} bytes`);
        continue;
      }
      sources.push({ file, text: readFileSync(file, 'utf8') });
    } catch (e) {
      ioIssue(file, `cannot read: ${errorText(e)}`);
    }
  }
  const result = checkPolicySources(sources, version);
  return { policy: issues.length === 0 ? result.policy : undefined, issues: [...issues, ...result.issues] };
}

/** Loads a directory or file, throwing PolicyLoadError with every issue. */
export function loadPolicyPath(path: string, version = 0): Policy {
  const { policy, issues } = checkPolicyPath(path, version);
  if (!policy || issues.length > 0) throw new PolicyLoadError(issues);
  return policy;
}

/** Checks policy texts held in memory (used by the loader and by tests). */
export function checkPolicySources(sources: readonly { file: string; text: string }[], version = 0): PolicyCheck {
  const fragments = sources.map((s) => parsePolicyText(s.file, s.text));
  const issues: PolicyIssue[] = fragments.flatMap((f) => f.issues);
  const users: PolicyUser[] = [];
  const targets: PolicyTarget[] = [];
  const rules: PolicyRule[] = [];
  const userCAs: PolicyKey[] = [];
  const dup = (at: SourceLocation, what: string, first: SourceLocation): void => {
    issues.push({ ...at, kind: 'duplicate', message: `${what} is already defined at ${first.file}:${first.line}:${first.col}` });
  };

  const userNames = new Map<string, PolicyUser>();
  const keyOwners: { key: PolicyKey; user: PolicyUser }[] = [];
  for (const u of fragments.flatMap((f) => f.users)) {
    const prev = userNames.get(u.name);
    if (prev) {
      dup(u.at, `user "${clip(u.name)}"`, prev.at);
      continue;
    }
    for (const key of u.keys) {
      const owner = keyOwners.find((o) => sameKey(o.key.blob, key.blob));
      if (owner && owner.user !== u) {
        issues.push({
          ...u.at,
          kind: 'duplicate',
          message: `user "${clip(u.name)}": key ${key.fingerprint} also belongs to user "${clip(owner.user.name)}" (a key identifies one user)`,
        });
      }
      keyOwners.push({ key, user: u });
    }
    userNames.set(u.name, u);
    users.push(u);
  }

  // Target names and aliases share one case-insensitive namespace: a name selects one target.
  const targetNames = new Map<string, PolicyTarget>();
  for (const t of fragments.flatMap((f) => f.targets)) {
    let clash = false;
    for (const n of [t.name, ...t.aliases]) {
      const prev = targetNames.get(n.toLowerCase());
      if (prev && prev !== t) {
        dup(t.at, n === t.name ? `target "${clip(n)}"` : `alias "${clip(n)}" of target "${clip(t.name)}"`, prev.at);
        clash = true;
      }
    }
    if (clash) continue;
    for (const n of [t.name, ...t.aliases]) targetNames.set(n.toLowerCase(), t);
    targets.push(t);
  }

  const ruleNames = new Map<string, PolicyRule>();
  for (const frag of fragments) {
    for (const rule of frag.rules) {
      const prev = ruleNames.get(rule.name);
      if (prev) {
        dup(rule.at, `rule "${clip(rule.name)}"`, prev.at);
        continue;
      }
      checkReferences(frag, rule, userNames, targetNames, issues);
      ruleNames.set(rule.name, rule);
      rules.push(rule);
    }
    userCAs.push(...frag.userCAs);
  }
  if (issues.length > 0) return { policy: undefined, issues: issues.sort(byPosition) };
  return {
    policy: { users, userCAs, targets, rules, files: sources.map((s) => s.file), version, digest: digestOf(sources) },
    issues,
  };
}

function checkReferences(
  frag: PolicyFragment,
  rule: PolicyRule,
  users: ReadonlyMap<string, PolicyUser>,
  targets: ReadonlyMap<string, PolicyTarget>,
  issues: PolicyIssue[],
): void {
  const refs = frag.references.get(rule);
  if (!refs) return;
  for (const u of refs.users) {
    if (!users.has(u.value)) {
      issues.push({ ...u.at, kind: 'unknown-reference', message: `rule "${clip(rule.name)}": unknown user "${clip(u.value)}"` });
    }
  }
  for (const t of refs.targets) {
    if (!targets.has(t.value.toLowerCase())) {
      issues.push({ ...t.at, kind: 'unknown-reference', message: `rule "${clip(rule.name)}": unknown target "${clip(t.value)}"` });
    }
  }
}

function digestOf(sources: readonly { file: string; text: string }[]): string {
  const h = createHash('sha256');
  for (const s of sources) h.update(`${s.file.length}:${s.file}${s.text.length}:`).update(s.text);
  return h.digest('hex');
}

function byPosition(a: PolicyIssue, b: PolicyIssue): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col;
}

function errorText(e: unknown): string {
  if (e instanceof Error && 'code' in e && typeof e.code === 'string') return e.code;
  return e instanceof Error ? e.message : String(e);
}
