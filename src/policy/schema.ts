/**
 * One policy file → a validated fragment. Every mistake becomes a PolicyIssue at the line and
 * column where it was written; checks that span files (duplicates, references) live in
 * loader.ts.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { KeyLineError, type PolicyIssue } from './errors.js';
import { parseKeyLine } from './key-line.js';
import {
  type Action,
  ACTIONS,
  DEFAULT_RECORDING,
  type HostVerification,
  isAction,
  type PolicyKey,
  type PolicyRule,
  type PolicyTarget,
  type PolicyUser,
  type RecordingFailureAction,
  type RecordingPolicy,
  type SourceLocation,
  type TargetAuth,
  type TargetSelector,
} from './types.js';
import { clip, type Located, NodeReader, type YNode } from './yaml-nodes.js';

export interface RuleReferences {
  readonly users: readonly Located<string>[];
  readonly targets: readonly Located<string>[];
}

export interface PolicyFragment {
  readonly file: string;
  readonly users: PolicyUser[];
  readonly userCAs: PolicyKey[];
  readonly targets: PolicyTarget[];
  readonly rules: PolicyRule[];
  readonly references: Map<PolicyRule, RuleReferences>;
  readonly issues: PolicyIssue[];
}

const TOP = ['users', 'userCAs', 'targets', 'rules'];
const USER = ['name', 'keys', 'groups', 'oidc', 'requireSso'];
const TARGET = ['name', 'address', 'port', 'aliases', 'hostKeys', 'knownHosts', 'hostCA', 'auth', 'labels', 'description'];
const RULE = ['name', 'users', 'groups', 'oidcGroups', 'targets', 'logins', 'allow', 'recording', 'env', 'requireSso'];
const NAME = /^[^\s\x00-\x1f\x7f]{1,256}$/;
const LOGIN = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*\*?$|^\*$/;

export function parsePolicyText(file: string, text: string): PolicyFragment {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const r = new NodeReader(file, lines);
  const frag: PolicyFragment = {
    file,
    users: [],
    userCAs: [],
    targets: [],
    rules: [],
    references: new Map(),
    issues: r.issues,
  };
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      // linePos is only filled with prettyErrors; the offset plus our LineCounter is exact.
      const pos = lines.linePos(e.pos[0]);
      r.report('yaml-syntax', { file, line: pos.line, col: pos.col }, `YAML: ${firstLine(e.message)}`);
    }
    return frag;
  }
  const root = doc.contents as YNode;
  // An empty file is an empty policy, which is valid (default deny).
  if (root === null || root === undefined || (r.scalarString(root) === undefined && isEmptyScalar(root))) return frag;
  const top = r.fields(root, 'policy file', TOP, [], { file, line: 1, col: 1 });
  if (!top) return frag;
  const base = dirname(file);

  const users = top.get('users');
  for (const item of (users && r.list(users.node, 'users', users.at)) ?? []) {
    const u = readUser(r, item.node, item.at);
    if (u) frag.users.push(u);
  }
  const cas = top.get('userCAs');
  for (const line of (cas && r.strings(cas.node, 'userCAs', cas.at)) ?? []) {
    const k = readKey(r, line, 'userCAs');
    if (k) frag.userCAs.push(k);
  }
  const targets = top.get('targets');
  for (const item of (targets && r.list(targets.node, 'targets', targets.at)) ?? []) {
    const t = readTarget(r, item.node, item.at, base);
    if (t) frag.targets.push(t);
  }
  const rules = top.get('rules');
  for (const item of (rules && r.list(rules.node, 'rules', rules.at)) ?? []) {
    const rule = readRule(r, item.node, item.at);
    if (rule) {
      frag.rules.push(rule.rule);
      frag.references.set(rule.rule, rule.refs);
    }
  }
  return frag;
}

function readKey(r: NodeReader, line: Located<string>, what: string): PolicyKey | undefined {
  try {
    return parseKeyLine(line.value);
  } catch (e) {
    if (!(e instanceof KeyLineError)) throw e;
    r.report('bad-key', line.at, `${what}: bad public key line: ${e.message}`);
    return undefined;
  }
}

function readUser(r: NodeReader, node: YNode, at: SourceLocation): PolicyUser | undefined {
  const f = r.fields(node, 'user', USER, ['name'], at);
  if (!f) return undefined;
  const nameField = f.get('name');
  const name = nameField && r.string(nameField.node, 'user name', nameField.at);
  const what = name ? `user "${clip(name)}"` : 'user';
  if (name !== undefined && !NAME.test(name)) {
    r.report('invalid-value', nameField?.at ?? at, `${what}: names may not contain spaces or control characters`);
  }
  const keys: PolicyKey[] = [];
  const keysField = f.get('keys');
  for (const line of (keysField && r.strings(keysField.node, `${what} keys`, keysField.at)) ?? []) {
    const k = readKey(r, line, `${what} keys`);
    if (k) keys.push(k);
  }
  const groupsField = f.get('groups');
  const groups = (groupsField && r.strings(groupsField.node, `${what} groups`, groupsField.at)) ?? [];
  const oidc = optionalBool(r, f.get('oidc'), `${what} oidc`) ?? false;
  const requireSso = optionalBool(r, f.get('requireSso'), `${what} requireSso`) ?? false;
  if (oidc && keys.length > 0) {
    r.report('invalid-value', keysField?.at ?? at, `${what}: an OIDC user signs in with SSO and cannot list keys`);
  }
  if (name === undefined) return undefined;
  return { name, keys, groups: groups.map((g) => g.value), oidc, requireSso, at };
}

function readTarget(r: NodeReader, node: YNode, at: SourceLocation, base: string): PolicyTarget | undefined {
  const f = r.fields(node, 'target', TARGET, ['name', 'address'], at);
  if (!f) return undefined;
  const nameField = f.get('name');
  const name = nameField && r.string(nameField.node, 'target name', nameField.at);
  const what = name ? `target "${clip(name)}"` : 'target';
  if (name !== undefined && !NAME.test(name)) {
    r.report('invalid-value', nameField?.at ?? at, `${what}: names may not contain spaces or control characters`);
  }
  const addrField = f.get('address');
  const address = addrField && r.string(addrField.node, `${what} address`, addrField.at);
  if (address !== undefined && !NAME.test(address)) {
    r.report('invalid-value', addrField?.at ?? at, `${what}: address "${clip(address)}" may not contain spaces or control characters`);
  }
  const portField = f.get('port');
  const port = portField ? r.port(portField.node, `${what} port`, portField.at) : 22;
  const aliasField = f.get('aliases');
  const aliases = (aliasField && r.strings(aliasField.node, `${what} aliases`, aliasField.at)) ?? [];
  for (const alias of aliases) {
    if (!NAME.test(alias.value)) r.report('invalid-value', alias.at, `${what}: alias "${clip(alias.value)}" may not contain spaces or control characters`);
  }
  const labelsField = f.get('labels');
  const labels = (labelsField && r.labels(labelsField.node, `${what} labels`, labelsField.at)) ?? {};
  const descField = f.get('description');
  const description = (descField && r.string(descField.node, `${what} description`, descField.at)) ?? '';

  const verifications: HostVerification[] = [];
  const hk = f.get('hostKeys');
  if (hk) {
    const keys = (r.strings(hk.node, `${what} hostKeys`, hk.at) ?? []).map((l) => readKey(r, l, `${what} hostKeys`));
    const good = keys.filter((k): k is PolicyKey => k !== undefined);
    if (keys.length === 0) r.report('invalid-value', hk.at, `${what}: hostKeys is empty`);
    if (good.length === keys.length && good.length > 0) verifications.push({ kind: 'host-keys', keys: good });
  }
  const kh = f.get('knownHosts');
  if (kh) {
    const file = r.string(kh.node, `${what} knownHosts`, kh.at);
    if (file) verifications.push({ kind: 'known-hosts', file: isAbsolute(file) ? file : resolve(base, file) });
  }
  const ca = f.get('hostCA');
  if (ca) {
    const line = r.string(ca.node, `${what} hostCA`, ca.at);
    const key = line === undefined ? undefined : readKey(r, { value: line, at: ca.at }, `${what} hostCA`);
    if (key) verifications.push({ kind: 'host-ca', key });
  }
  const given = [hk, kh, ca].filter((x) => x !== undefined).length;
  if (given === 0) {
    r.report(
      'missing-field',
      at,
      `${what}: one of hostKeys, knownHosts or hostCA is required (the gateway never trusts a host key on first use)`,
    );
  } else if (given > 1) {
    r.report('invalid-value', at, `${what}: give only one of hostKeys, knownHosts or hostCA`);
  }
  const authField = f.get('auth');
  const auth = authField ? readTargetAuth(r, authField.node, authField.at, what, base) : { kind: 'certificate' as const };

  const hostVerification = verifications[0];
  if (name === undefined || address === undefined || port === undefined || !hostVerification || !auth || given !== 1) {
    return undefined;
  }
  return {
    name,
    address,
    port,
    aliases: aliases.map((a) => a.value),
    hostVerification,
    auth,
    labels,
    description,
    at,
  };
}

function readTargetAuth(r: NodeReader, node: YNode, at: SourceLocation, what: string, base: string): TargetAuth | undefined {
  const s = r.scalarString(node);
  if (s === 'certificate') return { kind: 'certificate' };
  if (s === 'agent') return { kind: 'agent' };
  if (s !== undefined) {
    r.report('invalid-value', at, `${what} auth: "${clip(s)}" is not certificate, agent or { key: FILE }`);
    return undefined;
  }
  const f = r.fields(node, `${what} auth`, ['key'], ['key'], at);
  const keyField = f?.get('key');
  const file = keyField && r.string(keyField.node, `${what} auth key`, keyField.at);
  return file === undefined ? undefined : { kind: 'key', file: isAbsolute(file) ? file : resolve(base, file) };
}

function readRule(
  r: NodeReader,
  node: YNode,
  at: SourceLocation,
): { rule: PolicyRule; refs: RuleReferences } | undefined {
  const f = r.fields(node, 'rule', RULE, ['name', 'targets', 'logins', 'allow'], at);
  if (!f) return undefined;
  const nameField = f.get('name');
  const name = nameField && r.string(nameField.node, 'rule name', nameField.at);
  const what = name ? `rule "${clip(name)}"` : 'rule';
  const list = (key: string): Located<string>[] => {
    const field = f.get(key);
    return (field && r.strings(field.node, `${what} ${key}`, field.at)) ?? [];
  };
  const users = list('users');
  const groups = list('groups');
  const oidcGroups = list('oidcGroups');
  for (const n of [...users, ...groups, ...oidcGroups]) {
    if (!NAME.test(n.value)) r.report('invalid-value', n.at, `${what}: "${clip(n.value)}" may not contain spaces or control characters`);
  }
  if (!f.has('users') && !f.has('groups') && !f.has('oidcGroups')) {
    r.report('missing-field', at, `${what}: name the users, groups or oidcGroups it applies to`);
  }
  const logins = list('logins');
  for (const l of logins) {
    if (!LOGIN.test(l.value)) r.report('invalid-value', l.at, `${what}: "${clip(l.value)}" is not a valid login name`);
  }
  const allow: Action[] = [];
  for (const a of list('allow')) {
    if (isAction(a.value)) allow.push(a.value);
    else r.report('unknown-action', a.at, `${what}: unknown action "${clip(a.value)}" (expected one of: ${ACTIONS.join(', ')})`);
  }
  const env = list('env');
  for (const e of env) {
    if (!ENV_NAME.test(e.value)) {
      r.report('invalid-value', e.at, `${what} env: "${clip(e.value)}" is not a variable name (a trailing * allows a prefix)`);
    }
  }
  const targetsField = f.get('targets');
  const selector = targetsField ? readSelector(r, targetsField.node, targetsField.at, what) : undefined;
  const recField = f.get('recording');
  const recording = recField ? readRecording(r, recField.node, recField.at, what) : DEFAULT_RECORDING;
  const requireSso = optionalBool(r, f.get('requireSso'), `${what} requireSso`) ?? false;
  if (name === undefined || selector === undefined || recording === undefined) return undefined;
  const rule: PolicyRule = {
    name,
    users: users.map((u) => u.value),
    groups: groups.map((g) => g.value),
    oidcGroups: oidcGroups.map((g) => g.value),
    targets: selector.selector,
    logins: logins.map((l) => l.value),
    allow,
    recording,
    env: env.map((e) => e.value),
    requireSso,
    at,
  };
  return { rule, refs: { users, targets: selector.names } };
}

function readSelector(
  r: NodeReader,
  node: YNode,
  at: SourceLocation,
  what: string,
): { selector: TargetSelector; names: Located<string>[] } | undefined {
  if (r.scalarString(node) === '*') return { selector: { kind: 'all' }, names: [] };
  const f = r.fields(node, `${what} targets`, ['names', 'labels'], [], at);
  if (!f) return undefined;
  const namesField = f.get('names');
  const labelsField = f.get('labels');
  if ((namesField === undefined) === (labelsField === undefined)) {
    r.report('invalid-value', at, `${what} targets: give exactly one of names or labels (or "*" for every target)`);
    return undefined;
  }
  if (namesField) {
    const names = r.strings(namesField.node, `${what} targets names`, namesField.at);
    return names ? { selector: { kind: 'names', names: names.map((n) => n.value) }, names } : undefined;
  }
  const labels = labelsField && r.labels(labelsField.node, `${what} targets labels`, labelsField.at);
  return labels ? { selector: { kind: 'labels', labels }, names: [] } : undefined;
}

function readRecording(r: NodeReader, node: YNode, at: SourceLocation, what: string): RecordingPolicy | undefined {
  const f = r.fields(node, `${what} recording`, ['input', 'onFailure'], [], at);
  if (!f) return undefined;
  const input = optionalBool(r, f.get('input'), `${what} recording input`) ?? DEFAULT_RECORDING.input;
  let onFailure: RecordingFailureAction = DEFAULT_RECORDING.onFailure;
  const of = f.get('onFailure');
  if (of) {
    const s = r.string(of.node, `${what} recording onFailure`, of.at);
    if (s === 'end' || s === 'continue') onFailure = s;
    else if (s !== undefined) r.report('invalid-value', of.at, `${what} recording onFailure must be end or continue, not "${clip(s)}"`);
  }
  return { input, onFailure };
}

function optionalBool(r: NodeReader, field: { node: YNode; at: SourceLocation } | undefined, what: string): boolean | undefined {
  return field ? r.boolean(field.node, what, field.at) : undefined;
}

function isEmptyScalar(node: YNode): boolean {
  return typeof node === 'object' && node !== null && 'value' in node && node.value === null;
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? s).replace(/[\x00-\x1f\x7f]/g, '?').slice(0, 200);
}
