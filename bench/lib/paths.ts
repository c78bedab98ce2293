/** The ways to reach the target that the benchmark compares, as OpenSSH command lines. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Stack } from './stack.js';

export type PathName = 'gatehouse -J' | 'gatehouse login@target' | 'openssh -J' | 'direct';

export const ALL_PATHS: readonly PathName[] = ['gatehouse -J', 'gatehouse login@target', 'openssh -J', 'direct'];

/**
 * An ssh_config that sets `Ciphers` for every connection of a path. `ssh -c` would not do: with
 * -J it sets only the connection to the target, and the jump connection keeps ssh's default
 * (chacha20-poly1305), so an "aes128-gcm" run would measure a chacha20 leg too. The jump's ssh is
 * started with the same -F file, so a config covers both.
 */
export function cipherConfig(stack: Stack, cipher: string): string {
  const path = join(dirname(stack.sshConfig), `ssh_config.${cipher.replace(/[^A-Za-z0-9.-]/g, '_')}`);
  if (!existsSync(path)) writeFileSync(path, `Ciphers ${cipher}\n${readFileSync(stack.sshConfig, 'utf8')}`);
  return path;
}

/** ssh arguments that run `command` on the target through `path`, every connection with `cipher` when given. */
export function sshArgv(stack: Stack, path: PathName, command: string, extra: readonly string[] = [], cipher?: string): string[] {
  const base = ['-F', cipher === undefined ? stack.sshConfig : cipherConfig(stack, cipher), ...extra];
  switch (path) {
    case 'gatehouse -J':
      return [...base, '-J', `bench@127.0.0.1:${stack.gatewayPort}`, 'root@target', command];
    case 'gatehouse login@target':
      return [...base, '-p', String(stack.gatewayPort), 'root@target@127.0.0.1', command];
    case 'openssh -J':
      return [...base, '-J', `root@127.0.0.1:${stack.jumpPort}`, '-p', String(stack.sshdPort), 'root@127.0.0.1', command];
    case 'direct':
      return [...base, '-p', String(stack.sshdPort), 'root@127.0.0.1', command];
    default: {
      const never: never = path;
      throw new Error(String(never));
    }
  }
}
