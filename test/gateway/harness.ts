/**
 * A gateway under test: real `gatehouse serve` internals (startServe with startGateway) on
 * 127.0.0.1 with free ports, a real sshd target trusting the gateway's user CA, a policy
 * written from the test, and an ssh_config that plain OpenSSH uses for -J, routing names and
 * the menu. Everything lives in temp dirs removed at exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ServeHandle, startServe } from '../../src/cli/serve.js';
import { defaultConfig, type GatehouseConfig, type OidcSection } from '../../src/config.js';
import { startGateway } from '../../src/gateway/start.js';
import { loadGatewayState } from '../../src/gateway/state.js';
import { freePort, type GeneratedKey, generateKey, jsonLineSink, makeTempDir, type RunResult, run, type SshdHandle, startSshd, track } from '../support/index.js';

export interface TestGateway {
  readonly dir: string;
  readonly serve: ServeHandle;
  readonly port: number;
  readonly adminUrl: string;
  readonly hostCaLine: string;
  readonly userCaLine: string;
  readonly sshd: SshdHandle;
  readonly alice: GeneratedKey;
  readonly bob: GeneratedKey;
  readonly config: GatehouseConfig;
  /** Every pino line the gateway logged, parsed. */
  readonly logs: Record<string, unknown>[];
  /** An ssh_config for `identity`, trusting only the gateway host CA (StrictHostKeyChecking=yes). */
  sshConfig(identity: GeneratedKey, extra?: readonly string[]): string;
  /** Runs ssh (or scp/sftp) with that config. */
  ssh(args: readonly string[], opts?: { identity?: GeneratedKey; input?: string | Uint8Array; tool?: 'ssh' | 'scp' | 'sftp'; timeoutMs?: number; extra?: readonly string[] }): Promise<RunResult>;
  /** Starts ssh with that config as a child (tracked: killed at exit if still running). */
  spawnSsh(args: readonly string[], opts?: { identity?: GeneratedKey }): ChildProcess;
  writePolicy(yaml: string): void;
  /** The policy the harness wrote at start (for edits that restore it). */
  readonly policyYaml: string;
  /** Session ids of session.start events logged since `from` (an index into logs). */
  sessionIds(from?: number): string[];
  /** The session directory (recordings/YYYY/MM/DD/<id>) of a session id. */
  sessionDir(id: string): string;
  /** The session's audit.jsonl, parsed. */
  audit(id: string): Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Lines of stderr that are not the test sshd's debug chatter. */
export function userStderr(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('debug1:') && !l.startsWith('debug2:') && !l.startsWith('debug3:'));
}

function findSessionDir(root: string, id: string): string {
  const walk = (dir: string, depth: number): string | undefined => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return undefined;
    }
    for (const e of entries) {
      const p = join(dir, e);
      if (depth === 3) {
        if (e === id) return p;
        continue;
      }
      const hit = walk(p, depth + 1);
      if (hit) return hit;
    }
    return undefined;
  };
  const hit = walk(root, 0);
  if (!hit) throw new Error(`no recording directory for session ${id} under ${root}`);
  return hit;
}

export function policyFor(t: { alice: GeneratedKey; bob: GeneratedKey; sshdPort: number; sshdHostKey: string }, rules?: string): string {
  return `users:
  - name: alice
    keys: ["${t.alice.publicLine}"]
    groups: [ops]
  - name: bob
    keys: ["${t.bob.publicLine}"]
    groups: [dev]
targets:
  - name: db1
    address: 127.0.0.1
    port: ${t.sshdPort}
    aliases: [db1.internal]
    hostKeys: ["${t.sshdHostKey}"]
    labels: { env: prod }
rules:
${
  rules ??
  `  - name: ops-prod
    groups: [ops]
    targets: { labels: { env: prod } }
    logins: [root]
    allow: [shell, exec, sftp, port-forward]
  - name: dev-exec
    groups: [dev]
    targets: { names: [db1] }
    logins: [root]
    allow: [exec]`
}
`;
}

export async function startTestGateway(
  opts: { rules?: string; recordingsDir?: string; sshdVersion?: '9.2' | '10.0'; oidc?: OidcSection; adminPort?: number } = {},
): Promise<TestGateway> {
  const dir = makeTempDir('gatehouse-gw-');
  const stateDir = join(dir, 'state');
  const policies = join(dir, 'policies');
  const recordings = opts.recordingsDir ?? join(dir, 'recordings');
  const state = await loadGatewayState(stateDir);
  const alice = await generateKey(dir, 'alice', 'ed25519');
  const bob = await generateKey(dir, 'bob', 'ed25519');
  const sshd = await startSshd({ trustedUserCaKeys: [state.userCa.publicKeyLine], version: opts.sshdVersion ?? '9.2' });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(policies, { recursive: true });
  const writePolicy = (yaml: string): void => writeFileSync(join(policies, 'test.yaml'), yaml);
  const policyYaml = policyFor({ alice, bob, sshdPort: sshd.port, sshdHostKey: sshd.hostKeys[0] ?? '' }, opts.rules);
  writePolicy(policyYaml);
  const config: GatehouseConfig = {
    ...defaultConfig(dir),
    listen: { host: '127.0.0.1', port: await freePort() },
    admin: { host: '127.0.0.1', port: opts.adminPort ?? (await freePort()) },
    stateDir,
    policies,
    recordings,
    logLevel: 'debug',
    ...(opts.oidc === undefined ? {} : { oidc: opts.oidc }),
  };
  const logs: Record<string, unknown>[] = [];
  const destination = jsonLineSink(logs);
  const serve = await startServe(config, { destination, startGateway });
  const port = serve.gateway?.address.port ?? 0;
  const hostCaLine = state.hostCa.publicKeyLine;
  const sshConfig = (identity: GeneratedKey, extra: readonly string[] = []): string => {
    const cfgDir = makeTempDir('gatehouse-sshcfg-');
    const known = join(cfgDir, 'known_hosts');
    writeFileSync(known, `@cert-authority * ${hostCaLine}\n`);
    const path = join(cfgDir, 'ssh_config');
    writeFileSync(
      path,
      [
        'Host *',
        ...extra.map((l) => `  ${l}`),
        `  UserKnownHostsFile ${known}`,
        '  GlobalKnownHostsFile /dev/null',
        '  StrictHostKeyChecking yes',
        `  IdentityFile ${identity.privatePath}`,
        '  IdentitiesOnly yes',
        '  IdentityAgent none',
        '  BatchMode yes',
        '  UpdateHostKeys no',
        '  CheckHostIP no',
        '  ConnectTimeout 10',
        '  LogLevel ERROR',
        '',
      ].join('\n'),
    );
    return path;
  };
  return {
    dir,
    serve,
    port,
    adminUrl: serve.admin.url(),
    hostCaLine,
    userCaLine: state.userCa.publicKeyLine,
    sshd,
    alice,
    bob,
    config,
    logs,
    sshConfig,
    ssh: (args, o = {}) =>
      run(o.tool ?? 'ssh', ['-F', sshConfig(o.identity ?? alice, o.extra), ...args], {
        env: { SSH_AUTH_SOCK: '' },
        timeoutMs: o.timeoutMs ?? 30_000,
        ...(o.input === undefined ? {} : { input: o.input }),
      }),
    spawnSsh: (args, o = {}) =>
      track(spawn('ssh', ['-F', sshConfig(o.identity ?? alice), ...args], { env: { ...process.env, SSH_AUTH_SOCK: '' }, stdio: ['pipe', 'pipe', 'pipe'] })),
    writePolicy,
    policyYaml,
    sessionIds: (from = 0) =>
      logs
        .slice(from)
        .filter((l) => l.audit === 'session.start' && typeof l.sessionId === 'string')
        .map((l) => String(l.sessionId)),
    sessionDir: (id) => findSessionDir(recordings, id),
    audit: (id) =>
      readFileSync(join(findSessionDir(recordings, id), 'audit.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async stop() {
      await serve.close();
      await sshd.stop();
    },
  };
}
