/**
 * A real pseudo-terminal for interactive tests, driven through tmux on a private server
 * socket (-L): type keys, read the screen, resize the window (which makes ssh send
 * window-change). Each handle has its own tmux server, killed by stop().
 */
import { randomBytes } from 'node:crypto';
import { run, waitFor } from './process.js';

export interface PtyHandle {
  /** tmux send-keys: each argument is a key name ('Enter', 'C-c') or literal text with literal=true. */
  sendKeys(keys: readonly string[], literal?: boolean): Promise<void>;
  /** Types text literally, then Enter. */
  typeLine(text: string): Promise<void>;
  /** The visible screen (plus `history` lines of scrollback), as plain text. */
  capture(history?: number): Promise<string>;
  /** Waits until the screen matches (string: contains); returns the screen. */
  waitForText(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Resizes the terminal window (the program inside sees SIGWINCH). */
  resize(columns: number, rows: number): Promise<void>;
  /** True once the command inside has exited (the pane is kept so its output stays readable). */
  isDead(): Promise<boolean>;
  /** Exit status of the command once dead, else null. */
  exitStatus(): Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Starts `command` (a shell command line) in a detached tmux session of the given size.
 * env entries are exported into the command's environment.
 */
const EXIT_MARKER = '[gatehouse-pty-exit';

export async function startPty(
  command: string,
  opts: { columns?: number; rows?: number; env?: Readonly<Record<string, string>> } = {},
): Promise<PtyHandle> {
  const server = `gatehouse-${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmux = (args: readonly string[]) => run('tmux', ['-L', server, '-f', '/dev/null', ...args], { timeoutMs: 10_000 });
  const envPrefix = Object.entries(opts.env ?? {})
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
    .join(' ');
  const r = await tmux([
    'new-session',
    '-d',
    '-s',
    'main',
    '-x',
    String(opts.columns ?? 80),
    '-y',
    String(opts.rows ?? 24),
    // The pane outlives the command (so its last output stays readable) and prints its exit
    // status as a marker line; remain-on-exit would race with a command that exits at once.
    `${envPrefix === '' ? '' : `env ${envPrefix} `}${command}; printf '\\n${EXIT_MARKER} %d]\\n' $?; exec sleep 86400`,
  ]);
  if (r.code !== 0) throw new Error(`tmux new-session failed: ${r.stderr}`);
  const handle: PtyHandle = {
    async sendKeys(keys, literal = false) {
      await tmux(['send-keys', '-t', 'main', ...(literal ? ['-l'] : []), ...keys]);
    },
    async typeLine(text) {
      await handle.sendKeys([text], true);
      await handle.sendKeys(['Enter']);
    },
    async capture(history = 0) {
      const c = await tmux(['capture-pane', '-p', '-t', 'main', ...(history > 0 ? ['-S', String(-history)] : [])]);
      return c.stdout;
    },
    async waitForText(pattern, timeoutMs = 15_000) {
      let last = '';
      try {
        return await waitFor(
          async () => {
            last = await handle.capture(200);
            const hit = typeof pattern === 'string' ? last.includes(pattern) : pattern.test(last);
            return hit ? last : undefined;
          },
          `screen to show ${String(pattern)}`,
          timeoutMs,
          100,
        );
      } catch (e) {
        throw new Error(`${(e as Error).message}\n--- screen ---\n${last}`);
      }
    },
    async resize(columns, rows) {
      await tmux(['resize-window', '-t', 'main', '-x', String(columns), '-y', String(rows)]);
    },
    async isDead() {
      return (await handle.exitStatus()) !== null;
    },
    async exitStatus() {
      const m = new RegExp(`${EXIT_MARKER.replace('[', '\\[')} (\\d+)\\]`).exec(await handle.capture(1000));
      return m?.[1] === undefined ? null : Number(m[1]);
    },
    async stop() {
      await tmux(['kill-server']);
    },
  };
  return handle;
}

/** Single-quotes a string for /bin/sh. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
