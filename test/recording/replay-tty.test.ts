/**
 * `gatehouse replay` in a real terminal (tmux): raw-mode keys (pause, step, quit), and the
 * sanitizer keeping OSC 0/2 (title) and OSC 52 (clipboard) away from the viewer's terminal,
 * which tmux would otherwise apply (pane title, paste buffer with set-clipboard on).
 */
import { spawnSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildForChild } from './child-build.js';
import { tempDir } from './helpers.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const socket = `gh-replay-${process.pid}`;

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function waitFor(what: string, test: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; pane:\n${tmux('capture-pane', '-p', '-t', 'replay')}`);
}

const CAST = [
  '{"version": 2, "width": 80, "height": 24, "title": "t"}',
  '[0.100000, "o", "first\\r\\n"]',
  '[0.200000, "o", "\\u001b]2;EVIL-TITLE\\u0007\\u001b]52;c;c3RvbGVu\\u0007second\\r\\n"]',
  '[60.000000, "o", "third\\r\\n"]',
  '[120.000000, "o", "fourth\\r\\n"]',
].join('\n');

describe.skipIf(!hasTmux)('gatehouse replay in a terminal (tmux)', () => {
  let work: { dir: string; cleanup: () => Promise<void> };
  let build: string;
  beforeAll(async () => {
    work = await tempDir();
    build = await buildForChild(['src/cli/replay.ts']);
    await writeFile(join(work.dir, 'r.cast'), `${CAST}\n`);
    await writeFile(
      join(work.dir, 'run.mjs'),
      `import { writeFileSync } from 'node:fs';
import { runReplay } from ${JSON.stringify(join(build, 'src/cli/replay.js'))};
const code = await runReplay(process.argv.slice(2));
writeFileSync(${JSON.stringify(join(work.dir, 'exit'))}, String(code));
process.exit(code);
`,
    );
  }, 60_000);
  afterAll(async () => {
    const path = spawnSync('tmux', ['-L', socket, 'display-message', '-p', '#{socket_path}'], { encoding: 'utf8' }).stdout.trim();
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    if (path.includes(socket)) await rm(path, { force: true });
    await rm(build, { recursive: true, force: true });
    await work.cleanup();
  });

  async function start(extra: string[]): Promise<void> {
    await rm(join(work.dir, 'exit'), { force: true });
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    tmux('new-session', '-d', '-s', 'replay', '-x', '80', '-y', '24', 'sh', '-c', 'sleep 1000');
    tmux('set-option', '-g', 'set-clipboard', 'on');
    tmux('set-option', '-g', 'allow-rename', 'on');
    tmux('set-option', '-g', 'remain-on-exit', 'on');
    const cmd = [process.execPath, join(work.dir, 'run.mjs'), join(work.dir, 'r.cast'), ...extra].map((a) => `'${a}'`).join(' ');
    tmux('respawn-pane', '-k', '-t', 'replay', cmd);
  }

  const pane = (): string => tmux('capture-pane', '-p', '-t', 'replay');
  const exitCode = async (): Promise<string | undefined> => readFile(join(work.dir, 'exit'), 'utf8').catch(() => undefined);

  it('pauses, steps and quits with keys; title and clipboard sequences never reach the terminal', async () => {
    await start([]);
    await waitFor('"second"', () => pane().includes('second'));
    tmux('send-keys', '-t', 'replay', ' ');
    tmux('send-keys', '-t', 'replay', '.');
    await waitFor('"third" after a step', () => pane().includes('third'));
    expect(pane()).not.toContain('fourth');
    tmux('send-keys', '-t', 'replay', 'q');
    await waitFor('exit', async () => (await exitCode()) !== undefined);
    expect(await exitCode()).toBe('0');
    expect(pane()).not.toContain('fourth');
    expect(tmux('display-message', '-p', '-t', 'replay', '#{pane_title}')).not.toContain('EVIL');
    expect(tmux('list-buffers')).toBe('');
  });

  it('with --raw the same recording does set the title and the clipboard (the check above can fail)', async () => {
    await start(['--raw']);
    await waitFor('"second"', () => pane().includes('second'));
    tmux('send-keys', '-t', 'replay', 'q');
    await waitFor('exit', async () => (await exitCode()) !== undefined);
    expect(tmux('display-message', '-p', '-t', 'replay', '#{pane_title}')).toContain('EVIL-TITLE');
    expect(tmux('show-buffer')).toBe('stolen');
  });
});

if (!hasTmux) describe('gatehouse replay in a terminal', () => it.skip('needs tmux (Debian package tmux)', () => undefined));
