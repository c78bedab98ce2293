/**
 * Gatehouse configuration: typed, with embedded defaults, merged from a YAML config file,
 * GATEHOUSE_* environment variables and command-line flags, in that order of precedence (a
 * flag beats a variable beats the file beats the default). Every setting is one row of
 * SETTINGS; errors say which setting, from which source, and what is wrong.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { isPair, isScalar, parseDocument, visit } from 'yaml';
import { LOG_LEVELS, type LogLevel } from './obs/log-levels.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export type RecordingFormat = 'v2' | 'v3';

/**
 * The `oidc:` section as written (plus GATEHOUSE_OIDC_* overrides), with clientSecretFile made
 * absolute. src/oidc/config.ts (parseOidcConfig) owns its schema: it validates every field and
 * applies the defaults. This loader only checks that the section names an issuer and a client.
 */
export type OidcSection = Readonly<Record<string, unknown>> & { readonly issuer: string; readonly clientId: string };

export interface GatehouseConfig {
  readonly listen: HostPort;
  readonly admin: HostPort;
  readonly stateDir: string;
  readonly policies: string;
  readonly recordings: string;
  readonly workers: number;
  /** SSH connections at once (with --workers N, each worker takes its share); more are closed at accept. */
  readonly maxConnections: number;
  /** SSH connections at once from one source address (shared out among workers likewise); more are closed at accept. */
  readonly maxConnectionsPerSource: number;
  readonly logLevel: LogLevel;
  readonly recordingFormat: RecordingFormat;
  /** The config file that was read, if any. */
  readonly configFile: string | null;
  readonly oidc: OidcSection | null;
}

export function defaultConfig(cwd = process.cwd()): GatehouseConfig {
  return {
    listen: { host: '127.0.0.1', port: 2222 },
    admin: { host: '127.0.0.1', port: 9122 },
    stateDir: resolve(cwd, 'state'),
    policies: resolve(cwd, 'policies'),
    recordings: resolve(cwd, 'recordings'),
    workers: availableParallelism(),
    maxConnections: 1024,
    maxConnectionsPerSource: 64,
    logLevel: 'info',
    recordingFormat: 'v2',
    configFile: null,
    oidc: null,
  };
}

export interface ConfigIssue {
  readonly setting: string;
  readonly source: string;
  readonly message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map((i) => `${i.setting} (from ${i.source}): ${i.message}`).join('\n'));
  }
}

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };
type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Setting = {
  readonly key: Exclude<keyof GatehouseConfig, 'oidc' | 'configFile'>;
  readonly flag: string;
  readonly env: string;
  readonly file: string;
  readonly help: string;
  /** `base` is the directory relative paths are resolved against. */
  readonly parse: (raw: unknown, base: string) => Parsed<GatehouseConfig[Setting['key']]>;
};

export const SETTINGS: readonly Setting[] = [
  { key: 'listen', flag: '--listen', env: 'GATEHOUSE_LISTEN', file: 'listen', help: 'SSH listener HOST:PORT', parse: hostPort },
  { key: 'admin', flag: '--admin', env: 'GATEHOUSE_ADMIN', file: 'admin', help: 'admin/metrics listener HOST:PORT', parse: hostPort },
  { key: 'stateDir', flag: '--state-dir', env: 'GATEHOUSE_STATE_DIR', file: 'stateDir', help: 'host keys, CAs and tokens', parse: path },
  { key: 'policies', flag: '--policies', env: 'GATEHOUSE_POLICIES', file: 'policies', help: 'policy directory', parse: path },
  { key: 'recordings', flag: '--recordings', env: 'GATEHOUSE_RECORDINGS', file: 'recordings', help: 'recording directory', parse: path },
  { key: 'workers', flag: '--workers', env: 'GATEHOUSE_WORKERS', file: 'workers', help: 'worker processes', parse: workers },
  {
    key: 'maxConnections',
    flag: '--max-connections',
    env: 'GATEHOUSE_MAX_CONNECTIONS',
    file: 'maxConnections',
    help: 'SSH connections at once',
    parse: count('connections', 1, 1_000_000),
  },
  {
    key: 'maxConnectionsPerSource',
    flag: '--max-connections-per-source',
    env: 'GATEHOUSE_MAX_CONNECTIONS_PER_SOURCE',
    file: 'maxConnectionsPerSource',
    help: 'SSH connections at once from one address',
    parse: count('connections', 1, 1_000_000),
  },
  { key: 'logLevel', flag: '--log-level', env: 'GATEHOUSE_LOG_LEVEL', file: 'logLevel', help: LOG_LEVELS.join('|'), parse: logLevel },
  {
    key: 'recordingFormat',
    flag: '--recording-format',
    env: 'GATEHOUSE_RECORDING_FORMAT',
    file: 'recordingFormat',
    help: 'asciicast v2|v3',
    parse: recordingFormat,
  },
];

const CONFIG_FLAG = '--config';
const CONFIG_ENV = 'GATEHOUSE_CONFIG';

export interface LoadConfigInput {
  readonly argv?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

/**
 * Builds the configuration. Returns the arguments that were not configuration flags so a
 * command can read its own. Throws ConfigError listing every problem found.
 */
export function loadConfig(input: LoadConfigInput = {}): { config: GatehouseConfig; rest: string[] } {
  const cwd = input.cwd ?? process.cwd();
  const env = input.env ?? process.env;
  const issues: ConfigIssue[] = [];
  const { flags, rest } = splitFlags(input.argv ?? [], issues);
  const config: Mutable<GatehouseConfig> = defaultConfig(cwd);

  const fileName = flags.get(CONFIG_FLAG) ?? (env[CONFIG_ENV] || undefined);
  if (fileName !== undefined) {
    const file = resolve(cwd, fileName);
    config.configFile = file;
    applyFile(config, file, issues);
  }
  for (const s of SETTINGS) {
    const fromEnv = env[s.env];
    if (fromEnv !== undefined && fromEnv !== '') apply(config, s, fromEnv, cwd, s.env, issues);
  }
  applyOidcEnv(config, env, issues);
  for (const s of SETTINGS) {
    const fromFlag = flags.get(s.flag);
    if (fromFlag !== undefined) apply(config, s, fromFlag, cwd, s.flag, issues);
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { config, rest };
}

function splitFlags(argv: readonly string[], issues: ConfigIssue[]): { flags: Map<string, string>; rest: string[] } {
  const known = new Set([CONFIG_FLAG, ...SETTINGS.map((s) => s.flag)]);
  const flags = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!known.has(name)) {
      rest.push(arg);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) issues.push({ setting: name, source: 'command line', message: 'needs a value' });
    else flags.set(name, value);
  }
  return { flags, rest };
}

function apply(config: Mutable<GatehouseConfig>, s: Setting, raw: unknown, base: string, source: string, issues: ConfigIssue[]): void {
  const parsed = s.parse(raw, base);
  if (parsed.ok) (config as Record<string, unknown>)[s.key] = parsed.value;
  else issues.push({ setting: s.key, source, message: parsed.message });
}

function applyFile(config: Mutable<GatehouseConfig>, file: string, issues: ConfigIssue[]): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    issues.push({ setting: 'config', source: file, message: `cannot read: ${e instanceof Error ? e.message : String(e)}` });
    return;
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) issues.push({ setting: 'config', source: file, message: e.message.split('\n')[0] ?? e.message });
    return;
  }
  // A key that is a list or a mapping would be stringified by toJS (with a process warning);
  // no setting is named like that, so say so plainly instead.
  let complexKey: string | undefined;
  visit(doc, {
    Pair(_, pair) {
      const key = isPair(pair) ? pair.key : null;
      // a !!binary key is a scalar whose value is a Uint8Array, stringified the same way
      if (key !== null && (!isScalar(key) || (typeof key.value === 'object' && key.value !== null))) {
        complexKey = String(key).slice(0, 60);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  if (complexKey !== undefined) {
    issues.push({ setting: 'config', source: file, message: `a setting name must be a plain word, not a list, mapping or binary value (${complexKey})` });
    return;
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 0 });
  } catch (e) {
    issues.push({ setting: 'config', source: file, message: e instanceof Error ? e.message : String(e) });
    return;
  }
  if (data === null || data === undefined) return;
  if (!isRecord(data)) {
    issues.push({ setting: 'config', source: file, message: 'the config file must be a mapping of settings' });
    return;
  }
  const base = dirname(file);
  const byFileKey = new Map(SETTINGS.map((s) => [s.file, s]));
  for (const [key, value] of Object.entries(data)) {
    const s = byFileKey.get(key);
    if (s) apply(config, s, value, base, file, issues);
    else if (key === 'oidc') config.oidc = parseOidc(value, base, file, issues);
    else {
      const allowed = [...byFileKey.keys(), 'oidc'].join(', ');
      issues.push({ setting: key, source: file, message: `unknown setting (expected one of: ${allowed})` });
    }
  }
}

function parseOidc(value: unknown, base: string, source: string, issues: ConfigIssue[]): OidcSection | null {
  if (!isRecord(value)) {
    issues.push({ setting: 'oidc', source, message: 'must be a mapping' });
    return null;
  }
  const bad = (k: string, message: string) => issues.push({ setting: `oidc.${k}`, source, message });
  if ('clientSecret' in value) bad('clientSecret', 'secrets do not belong in the config file; use clientSecretFile or clientSecretEnv');
  const issuer = value['issuer'];
  const clientId = value['clientId'];
  if (typeof issuer !== 'string' || issuer === '') bad('issuer', 'is required when oidc is configured');
  else if (!/^https?:\/\//.test(issuer)) bad('issuer', `must be an http(s) URL, not ${show(issuer)}`);
  if (typeof clientId !== 'string' || clientId === '') bad('clientId', 'is required when oidc is configured');
  const out: Record<string, unknown> = { ...value, issuer: String(issuer ?? ''), clientId: String(clientId ?? '') };
  const secretFile = value['clientSecretFile'];
  if (typeof secretFile === 'string' && secretFile !== '') out['clientSecretFile'] = resolve(base, secretFile);
  return out as OidcSection;
}

/** GATEHOUSE_OIDC_ISSUER and GATEHOUSE_OIDC_CLIENT_ID override (or create) the oidc section. */
function applyOidcEnv(config: Mutable<GatehouseConfig>, env: Readonly<Record<string, string | undefined>>, issues: ConfigIssue[]): void {
  const issuer = env['GATEHOUSE_OIDC_ISSUER'];
  const clientId = env['GATEHOUSE_OIDC_CLIENT_ID'];
  if (!issuer && !clientId) return;
  const next: OidcSection = { ...(config.oidc ?? { issuer: '', clientId: '' }), ...(issuer ? { issuer } : {}), ...(clientId ? { clientId } : {}) };
  if (!/^https?:\/\//.test(next.issuer)) {
    issues.push({ setting: 'oidc.issuer', source: 'GATEHOUSE_OIDC_ISSUER', message: `must be an http(s) URL, not ${show(next.issuer)}` });
  }
  if (!next.clientId) issues.push({ setting: 'oidc.clientId', source: 'GATEHOUSE_OIDC_CLIENT_ID', message: 'is required with an issuer' });
  config.oidc = next;
}

/** "HOST:PORT", "[v6]:PORT" or ":PORT" (all interfaces is never implied: host defaults to 127.0.0.1). */
export function parseHostPort(raw: string): HostPort | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(raw.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

function hostPort(raw: unknown): Parsed<HostPort> {
  const hp = typeof raw === 'string' ? parseHostPort(raw) : undefined;
  return hp ? { ok: true, value: hp } : { ok: false, message: `expected HOST:PORT with a port 0-65535, got ${show(raw)}` };
}

function path(raw: unknown, base: string): Parsed<string> {
  return typeof raw === 'string' && raw !== ''
    ? { ok: true, value: resolve(base, raw) }
    : { ok: false, message: `expected a directory path, got ${show(raw)}` };
}

function count(what: string, min: number, max: number): (raw: unknown) => Parsed<number> {
  return (raw) => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    return Number.isInteger(n) && n >= min && n <= max
      ? { ok: true, value: n }
      : { ok: false, message: `expected a number of ${what} ${min}-${max}, got ${show(raw)}` };
  };
}

function workers(raw: unknown): Parsed<number> {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  return Number.isInteger(n) && n >= 1 && n <= 256
    ? { ok: true, value: n }
    : { ok: false, message: `expected a number of workers 1-256, got ${show(raw)}` };
}

function logLevel(raw: unknown): Parsed<LogLevel> {
  const level = LOG_LEVELS.find((l) => l === raw);
  return level ? { ok: true, value: level } : { ok: false, message: `expected one of ${LOG_LEVELS.join(', ')}, got ${show(raw)}` };
}

function recordingFormat(raw: unknown): Parsed<RecordingFormat> {
  return raw === 'v2' || raw === 'v3' ? { ok: true, value: raw } : { ok: false, message: `expected v2 or v3, got ${show(raw)}` };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** One line per setting, for --help. */
export function configHelp(): string {
  return SETTINGS.map((s) => `  ${`${s.flag} VALUE`.padEnd(28)}${s.help} [${s.env}]`).join('\n');
}
