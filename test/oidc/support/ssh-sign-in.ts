// The SSH side of the OIDC end-to-end tests: plain OpenSSH `ssh -J` in a tmux pty (so that
// keyboard-interactive can be answered), the device sign-in prompt it shows, and its exit.
// Shared by the single-process test (test/gateway/oidc.test.ts) and the cluster one
// (test/cluster/cluster-oidc.test.ts), which reach the gateway on the same kind of port.
import type { TestGateway } from '../../gateway/harness.js';
import { type GeneratedKey, type PtyHandle, startPty, waitFor } from '../../support/index.js';

/** `user@127.0.0.1:<gateway port>`, the -J argument. */
export function jumpTo(gw: Pick<TestGateway, 'port'>, user: string): string {
  return `${user}@127.0.0.1:${gw.port}`;
}

/** ssh -J through a pty; keyboard-interactive allowed, INFO so that ssh prints the instruction. */
export function ptySsh(
  gw: Pick<TestGateway, 'port' | 'sshConfig'>,
  key: GeneratedKey,
  user: string,
  target: string,
  command: string,
  extra: readonly string[] = [],
): Promise<PtyHandle> {
  return startPty(`ssh -F ${gw.sshConfig(key, ['BatchMode no', 'LogLevel INFO', 'ConnectTimeout 120', ...extra])} -J ${jumpTo(gw, user)} ${target} ${command}`, {
    columns: 220,
    rows: 50,
  });
}

const PROMPT = /\[session ([A-Z0-9]+)\] Sign in at (\S+), then press Enter:/g;

/** The prompt of the device sign-in (waits for a new one when `notTag` is given). */
export async function devicePrompt(pty: PtyHandle, notTag?: string): Promise<{ screen: string; tag: string; url: string; userCode: string }> {
  let screen = '';
  const m = await waitFor(
    async () => {
      screen = await pty.capture(200);
      const last = [...screen.matchAll(PROMPT)].at(-1);
      return last !== undefined && last[1] !== notTag ? last : undefined;
    },
    'the device sign-in prompt',
    15_000,
    100,
  ).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}\n--- screen ---\n${screen}`);
  });
  const tag = m[1] ?? '';
  const url = m[2] ?? '';
  return { screen, tag, url, userCode: new URL(url).searchParams.get('user_code') ?? '' };
}

/** ssh's exit status, once it has exited. */
export async function ptyExited(pty: PtyHandle): Promise<number | null> {
  await waitFor(async () => ((await pty.isDead()) ? true : undefined), 'ssh to exit', 20_000);
  return pty.exitStatus();
}
