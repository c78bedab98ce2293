/**
 * Locating the external binaries the interop tests need, and skipping cleanly (with the
 * Debian package named) when one is missing. CI installs them all, so there they run.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/** Absolute path of `binary` on PATH (or the path itself when it contains a slash), else null. */
export function which(binary: string): string | null {
  if (binary.includes('/')) return isExecutable(binary) ? resolve(binary) : null;
  const dirs = (process.env['PATH'] ?? '').split(delimiter).concat(['/usr/sbin', '/sbin', '/usr/bin']);
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, binary);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Binary name → the Debian package that provides it (for skip messages). */
export const DEBIAN_PACKAGES: Readonly<Record<string, string>> = {
  ssh: 'openssh-client',
  scp: 'openssh-client',
  sftp: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  'ssh-agent': 'openssh-client',
  'ssh-add': 'openssh-client',
  sshd: 'openssh-server',
  '/usr/lib/openssh/sftp-server': 'openssh-sftp-server',
  tmux: 'tmux',
  dbclient: 'dropbear-bin',
  plink: 'putty-tools',
  'ssh-audit': 'ssh-audit',
  asciinema: 'asciinema',
};

export interface Requirement {
  /** True when at least one binary is missing: pass to `describe.skipIf(req.skip)`. */
  readonly skip: boolean;
  /** Human-readable note naming the missing binaries and their Debian packages ('' when all present). */
  readonly reason: string;
}

/**
 * Checks that every binary is installed. Usage:
 *   const req = requireBinaries('ssh', 'sshd');
 *   describe.skipIf(req.skip)(`interop${req.reason}`, () => { ... });
 * The reason is printed once so a skipped run says what to install.
 */
export function requireBinaries(...binaries: string[]): Requirement {
  const missing = binaries.filter((b) => which(b) === null);
  if (missing.length === 0) return { skip: false, reason: '' };
  const pkgs = [...new Set(missing.map((b) => DEBIAN_PACKAGES[b] ?? b))];
  const reason = ` (skipped: missing ${missing.join(', ')}; apt-get install -y ${pkgs.join(' ')})`;
  console.warn(`[test/support]${reason}`);
  return { skip: true, reason };
}

/** Root of the repository (test/support/.. /..), also correct from dist/test/support. */
export function repoRoot(): string {
  const here = new URL('.', import.meta.url).pathname;
  const up = resolve(here, '..', '..');
  return up.endsWith('/dist') ? resolve(up, '..') : up;
}

/** Paths of the OpenSSH 10.0 unpacked by scripts/install-openssh10.sh, or null when absent. */
export function openssh10(): {
  ssh: string;
  sshd: string;
  sshKeygen: string;
  sftp: string;
  scp: string;
  sftpServer: string;
  sshdSession: string;
  sshdAuth: string;
} | null {
  const base = join(repoRoot(), '.openssh10', 'usr');
  const paths = {
    ssh: join(base, 'bin', 'ssh'),
    sshd: join(base, 'sbin', 'sshd'),
    sshKeygen: join(base, 'bin', 'ssh-keygen'),
    sftp: join(base, 'bin', 'sftp'),
    scp: join(base, 'bin', 'scp'),
    sftpServer: join(base, 'lib', 'openssh', 'sftp-server'),
    sshdSession: join(base, 'lib', 'openssh', 'sshd-session'),
    sshdAuth: join(base, 'lib', 'openssh', 'sshd-auth'),
  };
  return isExecutable(paths.sshd) && isExecutable(paths.ssh) ? paths : null;
}

/** Like requireBinaries, for the unpacked OpenSSH 10.0 (installed by scripts/install-openssh10.sh). */
export function requireOpenssh10(): Requirement {
  if (openssh10() !== null) return { skip: false, reason: '' };
  const reason =
    ' (skipped: OpenSSH 10.0 not unpacked in .openssh10; run scripts/install-openssh10.sh, which dpkg -x the bookworm-backports openssh-server/openssh-client)';
  console.warn(`[test/support]${reason}`);
  return { skip: true, reason };
}
