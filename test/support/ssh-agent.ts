/**
 * A real ssh-agent on a private socket (ssh-agent -D -a <sock>), with ssh-add to load keys.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run, stopChild, track, waitFor } from './process.js';
import { makeTempDir, removeTempDir } from './temp.js';

export interface AgentHandle {
  /** Value for SSH_AUTH_SOCK. */
  readonly socket: string;
  /** ssh-add <privatePath> (and its -cert.pub beside it, which ssh-add loads too). */
  add(privatePath: string): Promise<void>;
  /** `ssh-add -L` lines. */
  list(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startSshAgent(): Promise<AgentHandle> {
  const dir = makeTempDir('gatehouse-agent-');
  const socket = join(dir, 'agent.sock');
  const child = track(spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'ignore', 'pipe'] }));
  await waitFor(() => (existsSync(socket) ? true : undefined), 'ssh-agent socket', 10_000);
  const env = { SSH_AUTH_SOCK: socket };
  return {
    socket,
    async add(privatePath) {
      const r = await run('ssh-add', [privatePath], { env });
      if (r.code !== 0) throw new Error(`ssh-add failed: ${r.stderr}`);
    },
    async list() {
      const r = await run('ssh-add', ['-L'], { env });
      return r.code === 0 ? r.stdout.trim().split('\n').filter((l) => l !== '') : [];
    },
    async stop() {
      await stopChild(child);
      removeTempDir(dir);
    },
  };
}
