/**
 * `gatehouse sessions [--admin URL|HOST:PORT] [--state-dir DIR] [--json]` lists the live
 * sessions of a running gateway through its admin listener (GET /api/sessions, bearer token
 * from GATEHOUSE_ADMIN_TOKEN or the state directory's admin.token).
 * `gatehouse sessions revoke-key FINGERPRINT` is handed to sessions-revoke.ts.
 *
 * Also the small admin API client that `watch` and `kill` share. Exit status: 0 ok,
 * 1 the gateway said no or could not be reached, 2 usage or configuration errors.
 */

import { readAdminToken } from '../admin/token.js';
import { ConfigError, loadConfig } from '../config.js';
import type { SessionSummary as GatewaySessionSummary } from '../gateway/session-routes.js';
import type { ConfiguredIo } from './io.js';

export const SESSIONS_USAGE = [
  'usage: gatehouse sessions [--admin URL|HOST:PORT] [--state-dir DIR] [--config FILE] [--json]',
  '       gatehouse sessions revoke-key SHA256:FINGERPRINT [--state-dir DIR]',
  'subcommands: revoke-key',
].join('\n');

export interface AdminCliIo extends ConfiguredIo {
  /** Ends a long-running request (watch); tests use it instead of Ctrl-C. */
  readonly signal?: AbortSignal;
}

/** A failure to show the operator as is (no stack): exit status 1, or 2 for usage/config. */
export class AdminCliError extends Error {
  override readonly name = 'AdminCliError';
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

export interface AdminClient {
  readonly baseUrl: string;
  /** Sends one request with the token; throws AdminCliError for transport and auth failures. */
  request(method: 'GET' | 'DELETE', path: string, signal?: AbortSignal): Promise<Response>;
}

/** A live session as /api/sessions lists it (the recording path only where the gateway names it). */
export type SessionSummary = Omit<GatewaySessionSummary, 'recording'> & { readonly recording?: string };

/** A listen address names the interface; a client of a wildcard listener connects to loopback. */
function clientHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Reads the admin address and token from the command line, environment and config file.
 * `--admin` takes a URL (http://host:port) or the HOST:PORT form of the gateway's own setting.
 */
export function adminClientFromArgv(argv: readonly string[], io: AdminCliIo): { client: AdminClient; rest: string[] } {
  const env = io.env ?? process.env;
  let url: string | undefined;
  const passOn: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const inline = arg.startsWith('--admin=') ? arg.slice('--admin='.length) : undefined;
    const value = inline ?? (arg === '--admin' ? argv[i + 1] : undefined);
    if (value !== undefined && /^https?:\/\//i.test(value)) {
      url = value.replace(/\/+$/, '');
      if (inline === undefined) i++;
      continue;
    }
    passOn.push(arg);
  }
  if (url === undefined && /^https?:\/\//i.test(env.GATEHOUSE_ADMIN ?? '')) url = (env.GATEHOUSE_ADMIN ?? '').replace(/\/+$/, '');
  const configEnv = url === undefined ? env : { ...env, GATEHOUSE_ADMIN: undefined };
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig({ argv: passOn, env: configEnv, ...(io.cwd === undefined ? {} : { cwd: io.cwd }) });
  } catch (e) {
    throw new AdminCliError(e instanceof ConfigError ? e.message : String(e), 2);
  }
  const baseUrl = url ?? `http://${clientHost(loaded.config.admin.host)}:${loaded.config.admin.port}`;
  try {
    new URL(baseUrl);
  } catch {
    throw new AdminCliError(`--admin: not a URL: ${baseUrl.slice(0, 200)}`, 2);
  }
  const fromEnv = env.GATEHOUSE_ADMIN_TOKEN?.trim();
  const token = fromEnv ? fromEnv : readAdminToken(loaded.config.stateDir);
  const tokenSource = fromEnv ? 'GATEHOUSE_ADMIN_TOKEN' : `${loaded.config.stateDir}/admin.token`;
  const client: AdminClient = {
    baseUrl,
    async request(method, path, signal) {
      // Checked here rather than up front so usage errors in the arguments are reported first.
      if (token === undefined) {
        throw new AdminCliError(`no admin token: ${tokenSource} does not exist; pass the gateway's --state-dir or set GATEHOUSE_ADMIN_TOKEN`, 2);
      }
      let res: Response;
      try {
        res = await fetch(`${baseUrl}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          redirect: 'error',
          ...(signal ? { signal } : {}),
        });
      } catch (e) {
        if (signal?.aborted) throw e;
        throw new AdminCliError(`cannot reach the admin listener at ${baseUrl} (${transportReason(e)}); is \`gatehouse serve\` running there? (--admin URL)`);
      }
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw new AdminCliError(`the admin listener at ${baseUrl} rejected the admin token from ${tokenSource} (HTTP ${res.status}); is it the state directory of that gateway?`);
      }
      return res;
    },
  };
  return { client, rest: loaded.rest };
}

function transportReason(e: unknown): string {
  const cause = e instanceof Error ? (e as Error & { cause?: unknown }).cause : undefined;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : undefined;
  if (code) return code;
  if (cause instanceof Error) return cause.message;
  return e instanceof Error ? e.message : String(e);
}

/** The error text of a JSON error body ({error}), or the status line. */
export async function errorText(res: Response): Promise<string> {
  const text = (await res.text().catch(() => '')).slice(0, 2000);
  try {
    const v = JSON.parse(text) as { error?: unknown };
    if (typeof v.error === 'string') return v.error;
  } catch {
    // not JSON: fall through to the status
  }
  return `HTTP ${res.status} ${res.statusText}`.trim();
}

/** Runs a command body, turning AdminCliError into a message and an exit status. */
export async function withAdminErrors(io: AdminCliIo, command: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof AdminCliError) {
      io.stderr.write(`gatehouse ${command}: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}

function isSessionSummary(v: unknown): v is SessionSummary {
  if (!v || typeof v !== 'object') return false;
  const s = v as Record<string, unknown>;
  return (
    ['id', 'user', 'authMethod', 'target', 'login', 'client', 'startedAt'].every((k) => typeof s[k] === 'string') &&
    (s['worker'] === undefined || Number.isSafeInteger(s['worker']))
  );
}

export async function listLiveSessions(client: AdminClient): Promise<SessionSummary[]> {
  const res = await client.request('GET', '/api/sessions');
  if (res.status === 404) throw new AdminCliError(`the admin listener at ${client.baseUrl} has no sessions API (${await errorText(res)}); is the gateway started?`);
  if (!res.ok) throw new AdminCliError(`listing sessions failed: ${await errorText(res)}`);
  const body = (await res.json().catch(() => undefined)) as { sessions?: unknown } | undefined;
  if (!body || !Array.isArray(body.sessions)) throw new AdminCliError(`the admin listener at ${client.baseUrl} answered /api/sessions with something other than a session list`);
  return body.sessions.filter(isSessionSummary);
}

/** Terminal-safe cell: control characters from a client-chosen name must not reach the terminal. */
function cell(s: string): string {
    return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

export function formatSessionTable(sessions: readonly SessionSummary[]): string {
  if (sessions.length === 0) return 'no live sessions\n';
  // `serve --workers N`: which worker holds each session
  const workers = sessions.some((s) => s.worker !== undefined);
  const header = ['ID', 'USER', 'TARGET', 'LOGIN', 'CLIENT', 'STARTED', 'AUTH', ...(workers ? ['WORKER'] : [])];
  const rows = sessions.map((s) =>
    [s.id, s.user, s.target, s.login, s.client, s.startedAt, s.authMethod, ...(workers ? [s.worker ?? ''] : [])].map((c) => cell(String(c))),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export async function runSessions(argv: readonly string[], io: AdminCliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  if (argv[0] === 'revoke-key') {
    const { runSessionsRevokeKey } = await import('./sessions-revoke.js');
    return runSessionsRevokeKey(argv.slice(1), io);
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${SESSIONS_USAGE}\n`);
    return 0;
  }
  return withAdminErrors(io, 'sessions', async () => {
    const { client, rest } = adminClientFromArgv(argv, io);
    const json = rest.includes('--json');
    const extra = rest.filter((a) => a !== '--json');
    if (extra.length > 0) {
      io.stderr.write(`unexpected argument ${JSON.stringify(extra[0]?.slice(0, 80))}\n${SESSIONS_USAGE}\n`);
      return 2;
    }
    const sessions = await listLiveSessions(client);
    io.stdout.write(json ? `${JSON.stringify({ sessions }, null, 2)}\n` : formatSessionTable(sessions));
    return 0;
  });
}

export const run = (argv: string[]): Promise<number> => runSessions(argv);
