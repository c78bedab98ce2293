/**
 * Running the real OpenSSH clients (ssh, scp, sftp) against a server on loopback, isolated
 * from the machine's config: -F /dev/null, BatchMode, a temp known_hosts, only the given
 * identity, and no agent unless one is passed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh10 } from './binaries.js';
import { type RunResult, run, track } from './process.js';
import { makeTempDir } from './temp.js';

export type SshTool = 'ssh' | 'scp' | 'sftp';

export interface SshClientOptions {
  /** Which program. Default 'ssh'. */
  readonly tool?: SshTool;
  /** '9.2' = system client, '10.0' = .openssh10 client. Default '9.2'. */
  readonly version?: '9.2' | '10.0';
  /** Server port (passed as -p for ssh, -P for scp/sftp). */
  readonly port?: number;
  /** Private key path(s) passed with -i (certificates beside them as <key>-cert.pub are used too). */
  readonly identity?: string | readonly string[];
  /**
   * known_hosts content. When omitted, host keys are not checked (StrictHostKeyChecking=no with
   * an empty temp file): fine for tests that are not about host keys.
   */
  readonly knownHosts?: string;
  /** Extra -o options, e.g. ['Ciphers=aes128-gcm@openssh.com']. */
  readonly options?: readonly string[];
  /** SSH_AUTH_SOCK for the client; without it the agent is disabled. */
  readonly agentSocket?: string;
  /** stdin content. */
  readonly input?: string | Uint8Array;
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Keep BatchMode off (for keyboard-interactive driven through a pty). Default false. */
  readonly interactive?: boolean;
}

function binary(tool: SshTool, version: '9.2' | '10.0' | undefined): string {
  if (version === '10.0') {
    const o = openssh10();
    if (o === null) throw new Error('OpenSSH 10.0 not unpacked (scripts/install-openssh10.sh)');
    return o[tool];
  }
  return tool;
}

/** The full argv (without the program) for ssh/scp/sftp with isolation options, then `args`. */
export function sshArgs(args: readonly string[], opts: SshClientOptions = {}): { program: string; argv: string[] } {
  const tool = opts.tool ?? 'ssh';
  const dir = makeTempDir('gatehouse-ssh-');
  const knownHostsPath = join(dir, 'known_hosts');
  writeFileSync(knownHostsPath, opts.knownHosts ?? '');
  // ssh keeps the FIRST value it sees for an option, so the caller's -o options go first.
  const o: string[] = [];
  for (const opt of opts.options ?? []) o.push('-o', opt);
  o.push(
    '-F',
    '/dev/null',
    '-o',
    `UserKnownHostsFile=${knownHostsPath}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    `StrictHostKeyChecking=${opts.knownHosts === undefined ? 'no' : 'yes'}`,
    '-o',
    'UpdateHostKeys=no',
    '-o',
    'CheckHostIP=no',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'LogLevel=ERROR',
  );
  if (opts.interactive !== true) o.push('-o', 'BatchMode=yes');
  // IdentitiesOnly would also hide agent keys that have no matching -i file.
  if (opts.agentSocket === undefined) o.push('-o', 'IdentityAgent=none', '-o', 'IdentitiesOnly=yes');
  const identities = opts.identity === undefined ? [] : typeof opts.identity === 'string' ? [opts.identity] : opts.identity;
  if (identities.length === 0) o.push('-o', 'IdentityFile=/dev/null');
  for (const i of identities) o.push('-i', i);
  if (opts.port !== undefined) o.push(tool === 'ssh' ? '-p' : '-P', String(opts.port));
  return { program: binary(tool, opts.version), argv: [...o, ...args] };
}

function clientEnv(opts: SshClientOptions): Record<string, string> {
  const env: Record<string, string> = { ...(opts.env ?? {}) };
  if (opts.agentSocket !== undefined) env['SSH_AUTH_SOCK'] = opts.agentSocket;
  return env;
}

/**
 * Runs ssh/scp/sftp to completion. Example:
 *   await runSsh(['root@127.0.0.1', 'echo hi'], { port, identity: key.privatePath })
 * The exit code is ssh's (the remote command's status, or 255 on connection/auth errors).
 */
export function runSsh(args: readonly string[], opts: SshClientOptions = {}): Promise<RunResult> {
  const { program, argv } = sshArgs(args, opts);
  const env = clientEnv(opts);
  if (opts.agentSocket === undefined) env['SSH_AUTH_SOCK'] = '';
  return run(program, argv, {
    env,
    timeoutMs: opts.timeoutMs ?? 30_000,
    ...(opts.input === undefined ? {} : { input: opts.input }),
  });
}

/**
 * Starts a long-running ssh (e.g. `-N -L ...` forwarding) and returns the child; stop it with
 * stopChild from process.ts. stdio is piped so tests can stream data through it.
 */
export function spawnSsh(args: readonly string[], opts: SshClientOptions = {}): ChildProcess {
  const { program, argv } = sshArgs(args, opts);
  const env: Record<string, string> = { ...process.env, ...clientEnv(opts) } as Record<string, string>;
  if (opts.agentSocket === undefined) env['SSH_AUTH_SOCK'] = '';
  return track(spawn(program, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] }));
}
