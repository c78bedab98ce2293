/**
 * `gatehouse ca host|user [--state-dir DIR]`: prints the gateway's host CA or user CA public
 * key as one OpenSSH line (for `@cert-authority` in known_hosts and TrustedUserCAKeys). Both
 * create the state directory and the keys when missing, so a target can be set up before the
 * first `serve`.
 */
import { type CaKind, loadOrCreateCa } from '../ca/index.js';
import { loadConfig } from '../config.js';
import { type CliIo, processIo } from './io.js';

export const CA_USAGE = `usage: gatehouse ca host|user [--state-dir DIR]
  host  the host CA: add "@cert-authority * <line>" to the clients' known_hosts
  user  the user CA: put the line in a file named by the targets' TrustedUserCAKeys
`;

/** The public key line of the CA of that kind, created if missing. */
export type PublicCaLine = (stateDir: string, kind: CaKind) => Promise<string>;

export async function run(argv: string[], io: CliIo = processIo, caLine: PublicCaLine = defaultCaLine): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(CA_USAGE);
    return 0;
  }
  const { config, rest } = loadConfig({ argv });
  const [kind, ...extra] = rest;
  if ((kind !== 'host' && kind !== 'user') || extra.length > 0) {
    io.stderr.write(CA_USAGE);
    return 2;
  }
  io.stdout.write(`${(await caLine(config.stateDir, kind)).trim()}\n`);
  return 0;
}

async function defaultCaLine(stateDir: string, kind: CaKind): Promise<string> {
  return (await loadOrCreateCa(stateDir, kind)).publicKeyLine;
}
