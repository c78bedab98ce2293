/**
 * A real OpenSSH sshd on 127.0.0.1 for interop tests: Debian's 9.2 (/usr/sbin/sshd) or the
 * 10.0 unpacked in .openssh10. Everything lives in a temp dir (config, host keys,
 * authorized_keys, log) that stop() removes. Logins are as root (the tests run as root).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { openssh10 } from './binaries.js';
import { generateKey, type KeyType } from './keys.js';
import { stopChild, track, waitFor } from './process.js';
import { freePort, makeTempDir, removeTempDir } from './temp.js';

export type OpensshVersion = '9.2' | '10.0';

export interface SshdOptions {
  /** Which OpenSSH generation. Default '9.2' (the system sshd). */
  readonly version?: OpensshVersion;
  /** Host keys to generate. Default ['ed25519']. */
  readonly hostKeyTypes?: readonly KeyType[];
  /** authorized_keys lines for root. */
  readonly authorizedKeys?: readonly string[];
  /** Public key lines of user CAs (TrustedUserCAKeys). */
  readonly trustedUserCaKeys?: readonly string[];
  /** Extra sshd_config lines, appended last (Match blocks go here). */
  readonly extraConfig?: readonly string[];
  /** Configure `Subsystem sftp` (default true). */
  readonly sftp?: boolean;
}

export interface SshdHandle {
  readonly port: number;
  readonly host: '127.0.0.1';
  readonly version: OpensshVersion;
  /** Public host key lines ("ssh-ed25519 AAAA... comment"), one per hostKeyTypes entry, same order. */
  readonly hostKeys: readonly string[];
  /** Paths of the host private keys (for signing host certificates). */
  readonly hostKeyPaths: readonly string[];
  /** The temp dir holding config, keys and log (removed by stop()). */
  readonly dir: string;
  /** A known_hosts line set for this server ("[127.0.0.1]:port type base64"). */
  readonly knownHosts: string;
  /** Everything sshd logged so far (LogLevel DEBUG3). */
  logs(): string;
  stop(): Promise<void>;
}

/** Starts sshd -D -e -f <temp config>, resolves once its port accepts connections. */
export async function startSshd(opts: SshdOptions = {}): Promise<SshdHandle> {
  const version = opts.version ?? '9.2';
  const o10 = openssh10();
  if (version === '10.0' && o10 === null) throw new Error('OpenSSH 10.0 not unpacked (scripts/install-openssh10.sh)');
  const sshdPath = version === '10.0' && o10 !== null ? o10.sshd : '/usr/sbin/sshd';
  const sftpServer = version === '10.0' && o10 !== null ? o10.sftpServer : '/usr/lib/openssh/sftp-server';
  // Privilege separation directory; sshd refuses to start without it.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const dir = makeTempDir('gatehouse-sshd-');
  const port = await freePort();
  const hostKeyTypes = opts.hostKeyTypes ?? ['ed25519'];
  const hostKeys: string[] = [];
  const hostKeyPaths: string[] = [];
  for (const [i, t] of hostKeyTypes.entries()) {
    const k = await generateKey(dir, `host_${i}_${t}`, t);
    hostKeys.push(k.publicLine);
    hostKeyPaths.push(k.privatePath);
  }
  const authorizedKeysFile = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeysFile, (opts.authorizedKeys ?? []).map((l) => `${l}\n`).join(''), { mode: 0o600 });
  const logPath = join(dir, 'sshd.log');
  // Sessions get a HOME of their own: the login shell must not run the machine's dotfiles. On
  // the CI image root's .bashrc runs `pyenv init`, whose rehash waits up to 60 s on a lock file
  // that an interrupted session left behind; every later session then stalls (and tests read
  // empty output). sshd applies SetEnv after its own HOME, and bash finds ~/.bashrc via $HOME.
  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  const lines = [
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    ...hostKeyPaths.map((p) => `HostKey ${p}`),
    'PidFile none',
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin yes',
    `SetEnv HOME=${home}`,
    `AuthorizedKeysFile ${authorizedKeysFile}`,
    'LogLevel DEBUG3',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'AllowTcpForwarding yes',
    'AllowAgentForwarding yes',
    'GatewayPorts no',
    'X11Forwarding no',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    'MaxSessions 100',
    'MaxStartups 100:30:200',
    'AcceptEnv LANG LC_* GATEHOUSE_*',
  ];
  if (opts.trustedUserCaKeys !== undefined && opts.trustedUserCaKeys.length > 0) {
    const caFile = join(dir, 'trusted_user_ca_keys');
    writeFileSync(caFile, opts.trustedUserCaKeys.map((l) => `${l}\n`).join(''));
    lines.push(`TrustedUserCAKeys ${caFile}`);
  }
  if (opts.sftp !== false) lines.push(`Subsystem sftp ${sftpServer}`);
  if (version === '10.0' && o10 !== null) {
    lines.push(`SshdSessionPath ${o10.sshdSession}`, `SshdAuthPath ${o10.sshdAuth}`);
  }
  // sshd takes the first value it sees for most keywords, so extras that override defaults
  // must come first; Match blocks must come last. Put plain keywords first, Match blocks last.
  const extras = opts.extraConfig ?? [];
  const matchAt = extras.findIndex((l) => /^\s*Match\s/i.test(l));
  const plainExtras = matchAt === -1 ? extras : extras.slice(0, matchAt);
  const matchExtras = matchAt === -1 ? [] : extras.slice(matchAt);
  const configPath = join(dir, 'sshd_config');
  writeFileSync(configPath, [...plainExtras, ...lines, ...matchExtras].map((l) => `${l}\n`).join(''));

  const log = createWriteStream(logPath);
  const child: ChildProcess = track(spawn(sshdPath, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] }));
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const logs = (): string => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`sshd exited at start:\n${logs()}`);
        return (await portAccepts(port)) ? true : undefined;
      },
      `sshd on port ${port}`,
      15_000,
    );
  } catch (e) {
    await stopChild(child);
    removeTempDir(dir);
    throw e;
  }
  const knownHosts = hostKeys.map((l) => `[127.0.0.1]:${port} ${l.split(' ').slice(0, 2).join(' ')}\n`).join('');
  return {
    port,
    host: '127.0.0.1',
    version,
    hostKeys,
    hostKeyPaths,
    dir,
    knownHosts,
    logs,
    async stop() {
      await stopChild(child);
      // per-connection sshd-session processes inherit stderr and can outlive the listener:
      // detach the pipes before ending the log, or their last lines are a write after end
      for (const out of [child.stdout, child.stderr]) {
        out?.unpipe(log);
        out?.destroy();
      }
      log.end();
      removeTempDir(dir);
    },
  };
}

/** True when something accepts a TCP connection on 127.0.0.1:port. */
export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
