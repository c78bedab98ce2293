/**
 * Running external programs from tests: bounded by a timeout (the child is killed by its pid,
 * never by name), output collected as strings, and every long-lived child tracked so it is
 * killed when the test process exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface RunOptions {
  /** Bytes or text written to stdin, which is then closed. Without it stdin is /dev/null. */
  readonly input?: string | Uint8Array;
  /** Kill the child (SIGKILL) after this many ms; the result then has timedOut = true. Default 30 s. */
  readonly timeoutMs?: number;
  /** Extra environment variables (merged over process.env). */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout as raw bytes (for binary payloads). */
  readonly stdoutBytes: Buffer;
  readonly timedOut: boolean;
}

/** Runs `command args` to completion. Never rejects for a non-zero exit; rejects only if spawn fails. */
export function run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...(opts.env ?? {}) },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (opts.input !== undefined && child.stdin !== null) {
      child.stdin.on('error', () => {
        // The child may exit before reading everything (EPIPE): its exit code tells the story.
      });
      child.stdin.end(opts.input);
    }
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({
        code,
        signal,
        stdout: stdoutBytes.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stdoutBytes,
        timedOut,
      });
    });
  });
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Registers a long-lived child so it is SIGKILLed (by pid) if the test process exits first. */
export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) {
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }
    });
  }
  return child;
}

/** Stops a tracked child: SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
export function stopChild(child: ChildProcess, graceMs = 2_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Polls `check` every `intervalMs` until it returns a non-undefined value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
