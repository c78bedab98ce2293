/**
 * The benchmark's stack, all on 127.0.0.1 and started by the benchmark itself:
 *  - a real sshd target (LogLevel ERROR: a debug-logging sshd would be the bottleneck), which
 *    trusts the Gatehouse user CA and the bench user's key;
 *  - a second sshd with the same configuration on a port of its own: the plain OpenSSH jump host
 *    for the `ssh -J` comparison. A process of its own, so the CPU a jump host spends per session
 *    can be read apart from the target's (bench/run.ts, session setup);
 *  - Gatehouse (`node dist/src/cli.js serve`) as a child process with its own state, policy and
 *    recordings;
 *  - ssh_config files for plain OpenSSH clients.
 * Everything is removed by stop().
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withGatewayHeapFlags } from '../../src/gateway/heap-flags.js';

/**
 * Node flags for a gateway the bench starts: the V8 flags `npm start` gives it (a single-process
 * gateway, --workers 1, has only these; workers add them themselves), and
 * GATEHOUSE_BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the gateway).
 */
export function gatewayNodeArgs(): string[] {
  return withGatewayHeapFlags((process.env['GATEHOUSE_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== ''));
}

export interface Stack {
  readonly dir: string;
  readonly sshdPort: number;
  /** The OpenSSH jump host (sshd) and its listener's pid. */
  readonly jumpPort: number;
  readonly jumpPid: number;
  readonly gatewayPort: number;
  readonly adminPort: number;
  readonly gatewayPid: number;
  readonly keyPath: string;
  /** ssh_config for every path (targets named "target" and the jump hosts). */
  readonly sshConfig: string;
  stop(): Promise<void>;
}

/** Connection limits the bench gateway runs with (all and per source: every client is 127.0.0.1). */
export const MAX_CONNECTIONS = 4096;

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

/**
 * Resolves once an SSH server answers on the port. The probe sends an identification line before
 * it leaves: a bare connect-and-close makes sshd print "kex_exchange_identification: Connection
 * closed by remote host" into the bench output, which reads like a failed transfer.
 */
export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.end('SSH-2.0-gatehouse-bench-probe\r\n');
        c.resume();
        // the port is open either way; a server that never hangs up is not waited for
        const t = setTimeout(() => c.destroy(), 2000);
        c.once('close', () => {
          clearTimeout(t);
          r(true);
        });
      });
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function keygen(path: string, comment: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

/** `workers`: `serve --workers N`; unset, the gateway's default (one per core). */
export async function startStack(opts: { recordInput?: boolean; workers?: number } = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const keyPath = join(dir, 'user');
  const userLine = keygen(keyPath, 'bench@gatehouse');
  const hostKeyPath = join(dir, 'host_ed25519');
  const hostLine = keygen(hostKeyPath, 'target');
  const stateDir = join(dir, 'state');
  const cli = join(REPO, 'dist', 'src', 'cli.js');
  const userCa = execFileSync('node', [cli, 'ca', 'user', '--state-dir', stateDir], { encoding: 'utf8' }).trim();
  const hostCa = execFileSync('node', [cli, 'ca', 'host', '--state-dir', stateDir], { encoding: 'utf8' }).trim();

  // sshd: the target and the plain OpenSSH jump host.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const sshdPort = await freePort();
  writeFileSync(join(dir, 'authorized_keys'), `${userLine}\n`);
  mkdirSync(join(dir, 'home'), { mode: 0o700 });
  writeFileSync(join(dir, 'user_ca.pub'), `${userCa}\n`);
  const sshdConfig = (port: number): string =>
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${hostKeyPath}`,
      'PidFile none',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin yes',
      // A HOME of its own, so the login shell does not run the machine's dotfiles (a pyenv
      // init in root's .bashrc costs ~1 s per session and can stall 60 s on a stale lock).
      `SetEnv HOME=${join(dir, 'home')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `TrustedUserCAKeys ${join(dir, 'user_ca.pub')}`,
      'LogLevel ERROR',
      'MaxStartups 200:30:400',
      'MaxSessions 100',
      'AllowTcpForwarding yes',
      'Subsystem sftp /usr/lib/openssh/sftp-server',
      '',
    ].join('\n');
  const startSshd = (name: string, port: number): ChildProcess => {
    writeFileSync(join(dir, name), sshdConfig(port));
    return spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, name)], { stdio: ['ignore', 'ignore', 'inherit'] });
  };
  const sshd = startSshd('sshd_config', sshdPort);
  const jumpPort = await freePort();
  const jump = startSshd('sshd_jump_config', jumpPort);
  await Promise.all([waitForPort(sshdPort), waitForPort(jumpPort)]);

  // Gatehouse.
  const policies = join(dir, 'policies');
  mkdirSync(policies);
  writeFileSync(
    join(policies, 'bench.yaml'),
    `users:
  - name: bench
    keys: ["${userLine}"]
    groups: [ops]
targets:
  - name: target
    address: 127.0.0.1
    port: ${sshdPort}
    hostKeys: ["${hostLine}"]
rules:
  - name: bench
    groups: [ops]
    targets: { names: [target] }
    logins: [root]
    allow: [shell, exec, sftp, port-forward]
    recording: { input: ${opts.recordInput === true} }
`,
  );
  const gatewayPort = await freePort();
  const adminPort = await freePort();
  const nodeArgs = gatewayNodeArgs();
  const gateway: ChildProcess = spawn(
    'node',
    [
      ...nodeArgs,
      cli,
      'serve',
      '--listen',
      `127.0.0.1:${gatewayPort}`,
      '--admin',
      `127.0.0.1:${adminPort}`,
      '--state-dir',
      stateDir,
      '--policies',
      policies,
      '--recordings',
      join(dir, 'recordings'),
      '--log-level',
      'warn',
      ...(opts.workers === undefined ? [] : ['--workers', String(opts.workers)]),
      // every bench client comes from 127.0.0.1: the idle-memory section holds 1,000 sessions
      '--max-connections',
      String(MAX_CONNECTIONS),
      '--max-connections-per-source',
      String(MAX_CONNECTIONS),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitForPort(gatewayPort);

  const known = join(dir, 'known_hosts');
  writeFileSync(known, `@cert-authority * ${hostCa}\n[127.0.0.1]:${sshdPort},[127.0.0.1]:${jumpPort} ${hostLine}\n`);
  const sshConfig = join(dir, 'ssh_config');
  writeFileSync(
    sshConfig,
    [
      'Host *',
      `  UserKnownHostsFile ${known}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      `  IdentityFile ${keyPath}`,
      '  IdentitiesOnly yes',
      '  IdentityAgent none',
      '  BatchMode yes',
      '  UpdateHostKeys no',
      '  CheckHostIP no',
      '  Compression no',
      '  LogLevel ERROR',
      '',
    ].join('\n'),
  );

  return {
    dir,
    sshdPort,
    jumpPort,
    jumpPid: jump.pid ?? 0,
    gatewayPort,
    adminPort,
    gatewayPid: gateway.pid ?? 0,
    keyPath,
    sshConfig,
    async stop() {
      // A gateway that just held 1,000 sessions seals 1,000 recordings as it stops: give it time.
      const exited = (p: ChildProcess, ms: number) =>
        p.exitCode !== null ? Promise.resolve() : new Promise<void>((r) => { p.once('exit', () => r()); setTimeout(r, ms); });
      gateway.kill('SIGTERM');
      sshd.kill('SIGTERM');
      jump.kill('SIGTERM');
      await Promise.all([exited(gateway, 60_000), exited(sshd, 5000), exited(jump, 5000)]);
      if (gateway.exitCode === null && gateway.signalCode === null) gateway.kill('SIGKILL');
      // The gateway seals recordings as it stops; retry while the last writes land.
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 250 });
      } catch (e) {
        console.error(`bench: could not remove ${dir}: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
  };
}
