// Typed `oidc:` configuration. The client secret comes from a file or an environment variable,
// never from the config file itself, and is wrapped so that logging the config cannot leak it.
import { readFileSync, statSync } from 'node:fs';
import { inspect } from 'node:util';
import { OidcConfigError } from './errors.js';

/** A secret that prints as "[redacted]" through toString, JSON and util.inspect (pino uses JSON). */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The only way to read the value; call it at the point of use. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return '[redacted]';
  }
}

export type ClientSecretSource = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'env'; readonly name: string } | { readonly kind: 'none' };

export interface OidcConfig {
  /** Issuer identifier; discovery reads `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: URL;
  readonly clientId: string;
  readonly clientSecretSource: ClientSecretSource;
  readonly scopes: readonly string[];
  /** Claim (dotted path allowed, e.g. `realm_access.roles`) naming the user. */
  readonly usernameClaim: string;
  /** Claim holding the groups; a string or an array of strings. */
  readonly groupsClaim: string;
  /** Per HTTP request to the provider. */
  readonly httpTimeoutSeconds: number;
  /** Upper bound for one sign-in (device flow or browser), whatever the provider allows. */
  readonly loginTimeoutSeconds: number;
  /** How long a public key stays bound to an identity after a device-flow sign-in. */
  readonly keyBindingTtlSeconds: number;
  /** Validity of certificates issued by the web sign-in. */
  readonly certificateTtlSeconds: number;
  /** Allowed clock difference for iat/exp/nbf. */
  readonly clockSkewSeconds: number;
  /** Refuse ID tokens issued longer ago than this (a replayed old token). */
  readonly maxTokenAgeSeconds: number;
  /** HS256/384/512 ID tokens keyed with the client secret are refused unless this is true. */
  readonly allowHmacIdTokens: boolean;
  /** Allow http:// for a loopback issuer (tests, local development). Never for other hosts. */
  readonly allowInsecureHttp: boolean;
  /**
   * The admin listener as browsers reach it (e.g. https://gatehouse.example.com:9122), for the
   * web sign-in; `<webLoginBaseUrl>/login/callback` must be a redirect URI of the client.
   */
  readonly webLoginBaseUrl: URL | undefined;
}

export const OIDC_DEFAULTS = {
  scopes: ['openid', 'email', 'profile'],
  usernameClaim: 'email',
  groupsClaim: 'groups',
  httpTimeoutSeconds: 10,
  loginTimeoutSeconds: 600,
  keyBindingTtlSeconds: 8 * 3600,
  certificateTtlSeconds: 8 * 3600,
  clockSkewSeconds: 60,
  maxTokenAgeSeconds: 600,
} as const;

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90", 90, "15m", "8h", "1d" → seconds. */
export function parseDuration(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.floor(value);
  if (typeof value === 'string') {
    const m = /^\s*(\d{1,9})\s*([smhd]?)\s*$/.exec(value);
    if (m !== null) {
      const seconds = Number(m[1]) * (DURATION_UNITS[m[2] || 's'] ?? 1);
      if (seconds > 0) return seconds;
    }
  }
  throw new OidcConfigError(`oidc.${field}: expected a positive duration such as 600, "15m" or "8h"`);
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === '[::1]' || hostname === 'localhost';
}

function str(raw: Record<string, unknown>, key: string, fallback?: string): string {
  const v = raw[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string' || v.trim() === '') throw new OidcConfigError(`oidc.${key}: expected a non-empty string`);
  return v.trim();
}

function bool(raw: Record<string, unknown>, key: string): boolean {
  const v = raw[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new OidcConfigError(`oidc.${key}: expected true or false`);
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Names accepted from the gateway's config loader (src/config.ts), which spells some settings
 * differently; both spellings mean the same thing.
 */
const ALIASES: ReadonlyArray<readonly [alias: string, name: string]> = [
  ['userClaim', 'usernameClaim'],
  ['keyBindingSeconds', 'keyBindingTtl'],
  ['certificateSeconds', 'certificateTtl'],
  ['clockSkewSeconds', 'clockSkew'],
  ['maxTokenAgeSeconds', 'maxTokenAge'],
];

/** Validate the `oidc:` section of the config file (already parsed from YAML). */
export function parseOidcConfig(input: unknown): OidcConfig {
  if (!isRecord(input)) throw new OidcConfigError('oidc: expected a mapping');
  // null means "not set" in the gateway's loader.
  const raw: Record<string, unknown> = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null));
  for (const [alias, name] of ALIASES) {
    if (raw[alias] !== undefined && raw[name] === undefined) raw[name] = raw[alias];
  }
  if (raw['timeouts'] === undefined && (raw['deviceFlowTimeoutSeconds'] !== undefined || raw['httpTimeoutSeconds'] !== undefined)) {
    raw['timeouts'] = Object.fromEntries(
      Object.entries({ login: raw['deviceFlowTimeoutSeconds'], http: raw['httpTimeoutSeconds'] }).filter(([, v]) => v !== undefined),
    );
  }
  if ('clientSecret' in raw) {
    throw new OidcConfigError('oidc.clientSecret: secrets do not belong in the config file; use clientSecretFile or clientSecretEnv');
  }
  let issuer: URL;
  try {
    issuer = new URL(str(raw, 'issuer'));
  } catch (err) {
    if (err instanceof OidcConfigError) throw err;
    throw new OidcConfigError('oidc.issuer: not a valid URL');
  }
  // Plain http is tolerable only on the loopback interface (a local test or development provider).
  const allowInsecureHttp = raw['allowInsecureHttp'] === undefined ? issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname) : bool(raw, 'allowInsecureHttp');
  if (issuer.protocol !== 'https:') {
    if (!(issuer.protocol === 'http:' && allowInsecureHttp && isLoopbackHost(issuer.hostname))) {
      throw new OidcConfigError('oidc.issuer: must be https:// (http:// only for a loopback issuer)');
    }
  }
  const file = raw['clientSecretFile'];
  const env = raw['clientSecretEnv'];
  if (file !== undefined && env !== undefined) throw new OidcConfigError('oidc: set either clientSecretFile or clientSecretEnv, not both');
  let clientSecretSource: ClientSecretSource = { kind: 'none' };
  if (file !== undefined) clientSecretSource = { kind: 'file', path: str(raw, 'clientSecretFile') };
  if (env !== undefined) clientSecretSource = { kind: 'env', name: str(raw, 'clientSecretEnv') };

  let scopes: readonly string[] = OIDC_DEFAULTS.scopes;
  const rawScopes = raw['scopes'];
  if (rawScopes !== undefined) {
    const list = typeof rawScopes === 'string' ? rawScopes.split(/\s+/).filter((s) => s !== '') : rawScopes;
    if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) {
      throw new OidcConfigError('oidc.scopes: expected a list of scope tokens (RFC 6749 §3.3)');
    }
    scopes = list as string[];
  }
  if (!scopes.includes('openid')) scopes = ['openid', ...scopes];

  const timeouts = raw['timeouts'] === undefined ? {} : raw['timeouts'];
  if (!isRecord(timeouts)) throw new OidcConfigError('oidc.timeouts: expected a mapping');
  const dur = (obj: Record<string, unknown>, key: string, prefix: string, fallback: number) =>
    obj[key] === undefined ? fallback : parseDuration(obj[key], prefix + key);
  const clockSkewSeconds = raw['clockSkew'] === undefined ? OIDC_DEFAULTS.clockSkewSeconds : parseDuration(raw['clockSkew'], 'clockSkew');

  let webLoginBaseUrl: URL | undefined;
  if (raw['webLoginBaseUrl'] !== undefined) {
    try {
      webLoginBaseUrl = new URL(str(raw, 'webLoginBaseUrl'));
    } catch (err) {
      if (err instanceof OidcConfigError) throw err;
      throw new OidcConfigError('oidc.webLoginBaseUrl: not a valid URL');
    }
    if (webLoginBaseUrl.protocol !== 'https:' && !(webLoginBaseUrl.protocol === 'http:' && isLoopbackHost(webLoginBaseUrl.hostname))) {
      throw new OidcConfigError('oidc.webLoginBaseUrl: must be https:// (http:// only on loopback)');
    }
  }

  return {
    issuer,
    webLoginBaseUrl,
    clientId: str(raw, 'clientId'),
    clientSecretSource,
    scopes,
    usernameClaim: str(raw, 'usernameClaim', OIDC_DEFAULTS.usernameClaim),
    groupsClaim: str(raw, 'groupsClaim', OIDC_DEFAULTS.groupsClaim),
    httpTimeoutSeconds: dur(timeouts, 'http', 'timeouts.', OIDC_DEFAULTS.httpTimeoutSeconds),
    loginTimeoutSeconds: dur(timeouts, 'login', 'timeouts.', OIDC_DEFAULTS.loginTimeoutSeconds),
    keyBindingTtlSeconds: dur(raw, 'keyBindingTtl', '', OIDC_DEFAULTS.keyBindingTtlSeconds),
    certificateTtlSeconds: dur(raw, 'certificateTtl', '', OIDC_DEFAULTS.certificateTtlSeconds),
    clockSkewSeconds,
    maxTokenAgeSeconds: dur(raw, 'maxTokenAge', '', OIDC_DEFAULTS.maxTokenAgeSeconds),
    allowHmacIdTokens: bool(raw, 'allowHmacIdTokens'),
    allowInsecureHttp,
  };
}

const MAX_SECRET_FILE_BYTES = 64 * 1024;

/**
 * Read the client secret from its source. Errors name the source, never the value. A secret file
 * readable by group or others is refused (like OpenSSH refuses loose private key modes).
 */
export function loadClientSecret(source: ClientSecretSource, env: NodeJS.ProcessEnv = process.env): Secret | undefined {
  switch (source.kind) {
    case 'none':
      return undefined;
    case 'env': {
      const v = env[source.name];
      if (v === undefined || v.trim() === '') throw new OidcConfigError(`oidc.clientSecretEnv: environment variable ${source.name} is not set`);
      return new Secret(v.trim());
    }
    case 'file': {
      let text: string;
      try {
        const st = statSync(source.path);
        if (!st.isFile()) throw new OidcConfigError(`oidc.clientSecretFile: ${source.path} is not a regular file`);
        if (st.size > MAX_SECRET_FILE_BYTES) throw new OidcConfigError(`oidc.clientSecretFile: ${source.path} is too large`);
        if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
          throw new OidcConfigError(`oidc.clientSecretFile: ${source.path} is readable by group or others; chmod 600 it`);
        }
        text = readFileSync(source.path, 'utf8');
      } catch (err) {
        if (err instanceof OidcConfigError) throw err;
        throw new OidcConfigError(`oidc.clientSecretFile: cannot read ${source.path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      const v = text.trim();
      if (v === '') throw new OidcConfigError(`oidc.clientSecretFile: ${source.path} is empty`);
      return new Secret(v);
    }
    default: {
      const never: never = source;
      throw new Error(String(never));
    }
  }
}
