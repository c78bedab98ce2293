import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordingFailure } from '../../src/recording/failures.js';
import { loadOrCreateRecordingKey, type RecordingKey } from '../../src/recording/recording-key.js';
import { SessionRecorder, type SessionRecorderOptions } from '../../src/recording/session-recorder.js';

export async function tempDir(prefix = 'gh-rec-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

let keyCache: { dir: string; key: RecordingKey } | undefined;

export async function testKey(): Promise<{ stateDir: string; key: RecordingKey }> {
  if (!keyCache) {
    const dir = await mkdtemp(join(tmpdir(), 'gh-state-'));
    keyCache = { dir, key: await loadOrCreateRecordingKey(dir) };
  }
  return { stateDir: keyCache.dir, key: keyCache.key };
}

export async function openTestSession(
  root: string,
  over: Partial<SessionRecorderOptions> = {},
): Promise<{ rec: SessionRecorder; failures: RecordingFailure[] }> {
  const failures: RecordingFailure[] = [];
  const { key } = await testKey();
  const rec = await SessionRecorder.open({
    root,
    sessionId: `s${Math.random().toString(36).slice(2, 10)}`,
    who: { identity: 'alice@example.com', authMethod: 'publickey', keyFingerprint: 'SHA256:abc', clientAddress: '127.0.0.1', clientPort: 40000 },
    target: { host: 'db1', port: 22, login: 'root' },
    key,
    onFailure: (f) => failures.push(f),
    ...over,
  });
  return { rec, failures };
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export const hasAsciinema = spawnSync('asciinema', ['--version']).status === 0;
/** asciinema cat opens /dev/tty, so it runs under script(1) (Debian package bsdutils). */
export const hasScript = spawnSync('script', ['--version']).status === 0;

/** Runs `asciinema cat` in a pty with output post-processing off, so bytes arrive as written. */
export function asciinemaCat(file: string): { stdout: string; status: number | null } {
  const r = spawnSync('script', ['-qec', `stty -opost; exec asciinema cat '${file}'`, '/dev/null'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { stdout: r.stdout, status: r.status };
}

/**
 * Runs `node script` (a recorder in a child process, to be killed mid-write) and resolves once it
 * printed its first output, i.e. it is recording. `stderr()` is what it wrote there so far.
 */
export async function startRecorderChild(script: string): Promise<{ child: ChildProcessWithoutNullStreams; stderr: () => string }> {
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => resolve());
    child.on('exit', () => reject(new Error(`child exited early: ${stderr}`)));
  });
  return { child, stderr: () => stderr };
}
