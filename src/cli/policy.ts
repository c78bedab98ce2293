/**
 * `gatehouse policy check [DIR]` and `gatehouse policy explain --user U --target T --login L
 * [--action A]`. The policy directory defaults to the configured one (--policies,
 * GATEHOUSE_POLICIES, the config file, ./policies).
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { readAdminToken } from '../admin/token.js';
import { loadConfig } from '../config.js';
import { formatIssue, type PolicyIssue } from '../policy/errors.js';
import { allowedActions, evaluate, type Identity, type IdentitySource } from '../policy/evaluate.js';
import { checkPolicyPath } from '../policy/loader.js';
import { selectorMatches } from '../policy/targets.js';
import { ACTIONS, isAction, type Policy, type SourceLocation } from '../policy/types.js';
import { type CliIo, processIo } from './io.js';

export const POLICY_USAGE = `usage:
  gatehouse policy check [DIR]
  gatehouse policy reload [--admin HOST:PORT] [--state-dir DIR]   (asks the running gateway)
  gatehouse policy explain --user U --target T --login L [--action ACTION] [--port N]
                           [--source key|certificate|oidc] [--oidc-groups G1,G2] [--policies DIR]
actions: ${ACTIONS.join(', ')}
`;

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'check':
      return check(rest, io);
    case 'explain':
      return explain(rest, io);
    case 'reload':
      return reload(rest, io);
    case '--help':
    case '-h':
      io.stdout.write(POLICY_USAGE);
      return 0;
    default:
      io.stderr.write(POLICY_USAGE);
      return 2;
  }
}

function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') || rel === '' ? file : rel;
}

function showIssue(i: PolicyIssue): string {
  return formatIssue({ ...i, file: shown(i.file) });
}

function where(at: SourceLocation): string {
  return `${shown(at.file)}:${at.line}:${at.col}`;
}

/** Loads the policy or prints its issues; returns the exit status on failure. */
function load(dir: string, io: CliIo): Policy | number {
  const { policy, issues } = checkPolicyPath(dir);
  if (!policy) {
    for (const i of issues) io.stdout.write(`${showIssue(i)}\n`);
    io.stderr.write(`${issues.length} error${issues.length === 1 ? '' : 's'} in ${shown(dir)}\n`);
    return 1;
  }
  return policy;
}

function check(argv: string[], io: CliIo): number {
  const { config, rest } = loadConfig({ argv });
  if (rest.length > 1 || rest.some((a) => a.startsWith('-'))) {
    io.stderr.write(POLICY_USAGE);
    return 2;
  }
  const dir = rest[0] ?? config.policies;
  const policy = load(dir, io);
  if (typeof policy === 'number') return policy;
  const n = (count: number, what: string) => `${count} ${what}${count === 1 ? '' : 's'}`;
  io.stdout.write(
    `ok: ${shown(dir)}: ${n(policy.files.length, 'file')}, ${n(policy.users.length, 'user')}, ` +
      `${n(policy.targets.length, 'target')}, ${n(policy.rules.length, 'rule')}\n`,
  );
  for (const w of warnings(policy)) io.stderr.write(`warning: ${w}\n`);
  return 0;
}

/** Things that are valid policy but will refuse connections until fixed (files not there yet). */
export function warnings(policy: Policy): string[] {
  const out: string[] = [];
  for (const t of policy.targets) {
    const at = where(t.at);
    if (t.hostVerification.kind === 'known-hosts' && !existsSync(t.hostVerification.file)) {
      out.push(`${at}: target ${t.name}: knownHosts file ${shown(t.hostVerification.file)} does not exist; connections to it will be refused`);
    }
    if (t.auth.kind === 'key' && !existsSync(t.auth.file)) {
      out.push(`${at}: target ${t.name}: key file ${shown(t.auth.file)} does not exist`);
    }
    if (!policy.rules.some((r) => selectorMatches(r.targets, t))) out.push(`${at}: target ${t.name}: no rule covers it`);
  }
  return out;
}

function explain(argv: string[], io: CliIo): number {
  const { config, rest } = loadConfig({ argv });
  let values: {
    user?: string;
    target?: string;
    login?: string;
    action?: string;
    port?: string;
    source?: string;
    'oidc-groups'?: string;
  };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        user: { type: 'string' },
        target: { type: 'string' },
        login: { type: 'string' },
        action: { type: 'string' },
        port: { type: 'string' },
        source: { type: 'string' },
        'oidc-groups': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    io.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${POLICY_USAGE}`);
    return 2;
  }
  const { user, target, login } = values;
  const action = values.action ?? 'shell';
  if (!user || !target || !login) {
    io.stderr.write(`--user, --target and --login are required\n${POLICY_USAGE}`);
    return 2;
  }
  if (!isAction(action)) {
    io.stderr.write(`unknown action "${action}" (expected one of: ${ACTIONS.join(', ')})\n`);
    return 2;
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    io.stderr.write(`--port must be a port number\n`);
    return 2;
  }
  const policy = load(config.policies, io);
  if (typeof policy === 'number') return policy;

  const source = pickSource(policy, user, values.source);
  if (source === undefined) {
    io.stderr.write('--source must be key, certificate or oidc\n');
    return 2;
  }
  const groups = (values['oidc-groups'] ?? '').split(',').filter(Boolean);
  const identity: Identity = { user, groups, authMethod: source === 'oidc' ? 'keyboard-interactive' : 'publickey', source };
  const decision = evaluate(policy, { identity, target, login, action, ...(port === undefined ? {} : { port }) });
  const who = `${user} (${source}${groups.length ? `, groups ${groups.join(',')}` : ''})`;
  if (decision.allowed) {
    const rule = policy.rules.find((r) => r.name === decision.rule);
    io.stdout.write(`ALLOW ${action} for ${who} on ${decision.target.name} as ${login}\n`);
    io.stdout.write(`  rule:   ${decision.rule}${rule ? ` (${where(rule.at)})` : ''}\n`);
    io.stdout.write(`  reason: ${decision.reason}\n`);
    io.stdout.write(`  recording: input ${decision.recording.input ? 'on' : 'off'}, on failure ${decision.recording.onFailure}\n`);
    const actions = allowedActions(policy, identity, decision.target, login);
    io.stdout.write(`  allowed actions here: ${actions.join(', ')}\n`);
    return 0;
  }
  const rule = policy.rules.find((r) => r.name === decision.rule);
  io.stdout.write(`DENY ${action} for ${who} on ${target} as ${login}\n`);
  io.stdout.write(`  rule:   ${decision.rule}${rule ? ` (${where(rule.at)})` : ''}\n`);
  io.stdout.write(`  reason: ${decision.reason} [${decision.code}]\n`);
  return 1;
}

/** POST /api/policy/reload on the running gateway's admin listener, with the admin token. */
async function reload(argv: string[], io: CliIo): Promise<number> {
  const { config, rest } = loadConfig({ argv });
  if (rest.length > 0) {
    io.stderr.write(POLICY_USAGE);
    return 2;
  }
  const token = readAdminToken(config.stateDir);
  if (!token) {
    io.stderr.write(`no admin token in ${shown(config.stateDir)} (is --state-dir the gateway's?)\n`);
    return 1;
  }
  const host = config.admin.host.includes(':') ? `[${config.admin.host}]` : config.admin.host;
  const url = `http://${host}:${config.admin.port}/api/policy/reload`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    io.stderr.write(`cannot reach the gateway at ${url}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const body = (await res.json().catch(() => ({}))) as { result?: string; version?: number; errors?: string[]; error?: string };
  if (res.status === 422 && body.result === 'rejected') {
    for (const e of body.errors ?? []) io.stdout.write(`${e}\n`);
    io.stderr.write(`rejected: the gateway keeps policy v${body.version}\n`);
    return 1;
  }
  if (!res.ok || body.result === undefined) {
    io.stderr.write(`the gateway answered ${res.status}: ${body.error ?? 'unexpected response'}\n`);
    return 1;
  }
  io.stdout.write(`${body.result}: policy v${body.version}\n`);
  return 0;
}

/** The identity source to explain for: given, or what the policy says the user is. */
function pickSource(policy: Policy, user: string, given: string | undefined): IdentitySource | undefined {
  if (given !== undefined) return given === 'key' || given === 'certificate' || given === 'oidc' ? given : undefined;
  const entries = policy.users.filter((u) => u.name === user);
  if (entries.some((u) => !u.oidc)) return 'key';
  return 'oidc';
}
