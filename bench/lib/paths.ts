/** The ways to reach the target that the benchmark compares, as OpenSSH command lines. */
import type { Stack } from './stack.js';

export type PathName = 'gatehouse -J' | 'gatehouse login@target' | 'openssh -J' | 'direct';

export const ALL_PATHS: readonly PathName[] = ['gatehouse -J', 'gatehouse login@target', 'openssh -J', 'direct'];

/** ssh arguments (after -F config) that run `command` on the target through `path`. */
export function sshArgv(stack: Stack, path: PathName, command: string, extra: readonly string[] = []): string[] {
  const base = ['-F', stack.sshConfig, ...extra];
  switch (path) {
    case 'gatehouse -J':
      return [...base, '-J', `bench@127.0.0.1:${stack.gatewayPort}`, 'root@target', command];
    case 'gatehouse login@target':
      return [...base, '-p', String(stack.gatewayPort), 'root@target@127.0.0.1', command];
    case 'openssh -J':
      return [...base, '-J', `root@127.0.0.1:${stack.sshdPort}`, '-p', String(stack.sshdPort), 'root@127.0.0.2', command];
    case 'direct':
      return [...base, '-p', String(stack.sshdPort), 'root@127.0.0.1', command];
    default: {
      const never: never = path;
      throw new Error(String(never));
    }
  }
}
