/**
 * Interactive and exec sessions through `ssh -J`, recorded: a pty shell driven through tmux with
 * a resize (the target sees the new size, the .cast has an "r" event and `asciinema cat` shows
 * what the target printed), input events only when the rule says `recording: { input: true }`,
 * and an exec without pty recorded with its command and exit status.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayState } from '../../src/gateway/state.js';
import { verify } from '../../src/recording/index.js';
import { requireBinaries, startPty, waitFor } from '../support/index.js';
import { asciinemaCat } from '../recording/helpers.js';
import { startTestGateway, type TestGateway, userStderr } from './harness.js';

const need = requireBinaries('ssh', 'sshd', 'ssh-keygen', 'tmux', 'asciinema', 'script');

function castEvents(path: string): { header: Record<string, unknown>; events: [number, string, string][] } {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const header = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
  return { header, events: lines.slice(1).map((l) => JSON.parse(l) as [number, string, string]) };
}

describe.skipIf(need.skip)(`recorded sessions through ssh -J${need.reason}`, () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.stop();
  });

  async function shellSession(): Promise<{ id: string; cast: string }> {
    const before = gw.logs.length;
    const pty = await startPty(`ssh -F ${gw.sshConfig(gw.alice)} -tt -J alice@127.0.0.1:${gw.port} root@db1`, { columns: 80, rows: 24 });
    try {
      await pty.typeLine('PS1=READY-; stty size');
      await pty.waitForText(/^24 80$/m);
      await pty.resize(100, 30);
      // The resize reaches sshd as window-change; wait until the target's tty reports it.
      await waitFor(
        async () => {
          await pty.typeLine('stty size');
          const screen = await pty.capture(200);
          return /^30 100$/m.test(screen) ? true : undefined;
        },
        'target tty resized to 30x100',
        15_000,
        500,
      );
      await pty.typeLine('echo MARK-$((6*7))');
      await pty.waitForText(/^MARK-42$/m);
      await pty.typeLine('exit');
      await waitFor(async () => ((await pty.isDead()) ? true : undefined), 'ssh to exit', 15_000);
    } finally {
      await pty.stop();
    }
    const [id] = gw.sessionIds(before);
    if (!id) throw new Error('no session started');
    await waitFor(async () => gw.audit(id).some((e) => e.type === 'session.end') || undefined, 'session end', 10_000);
    const dir = gw.sessionDir(id);
    const cast = readdirSync(dir).find((f) => f.endsWith('.cast'));
    if (!cast) throw new Error('no .cast file');
    return { id, cast: join(dir, cast) };
  }

  it('records a pty shell with a resize, readable by asciinema cat, without input by default', async () => {
    const { cast } = await shellSession();
    const { header, events } = castEvents(cast);
    expect(header.version).toBe(2);
    expect(header.width).toBe(80);
    expect(header.height).toBe(24);
    expect(String(header.title)).toMatch(/^root@db1 by alice \(/);
    expect(events.some((e) => e[1] === 'r' && e[2] === '100x30')).toBe(true);
    expect(events.some((e) => e[1] === 'i')).toBe(false);
    const cat = asciinemaCat(cast);
    expect(cat.status).toBe(0);
    expect(cat.stdout).toContain('MARK-42');
    expect(cat.stdout).toMatch(/30 100/);
  });

  it('records input only when the rule says recording: { input: true }', async () => {
    const from = gw.logs.length;
    gw.writePolicy(gw.policyYaml.replace('allow: [shell, exec, sftp, port-forward]', 'allow: [shell, exec, sftp, port-forward]\n    recording: { input: true }'));
    await waitFor(async () => gw.logs.slice(from).some((l) => l.audit === 'policy.reload' && l.result === 'applied') || undefined, 'reload', 10_000);
    try {
      const { cast } = await shellSession();
      const { events } = castEvents(cast);
      const typed = events
        .filter((e) => e[1] === 'i')
        .map((e) => e[2])
        .join('');
      expect(typed).toContain('echo MARK-$((6*7))');
    } finally {
      const again = gw.logs.length;
      gw.writePolicy(gw.policyYaml);
      await waitFor(async () => gw.logs.slice(again).some((l) => l.audit === 'policy.reload') || undefined, 'reload', 10_000);
    }
  });

  it('records an exec without pty with its command and exit status', async () => {
    const before = gw.logs.length;
    const r = await gw.ssh(['-J', `alice@127.0.0.1:${gw.port}`, 'root@db1', 'echo out-$((40+2)); echo err >&2; exit 7']);
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('out-42\n');
    expect(userStderr(r.stderr)).toEqual(['err']);
    const [id] = gw.sessionIds(before);
    if (!id) throw new Error('no session');
    await waitFor(async () => gw.audit(id).some((e) => e.type === 'session.end') || undefined, 'session end', 10_000);
    const dir = gw.sessionDir(id);
    const cast = readdirSync(dir).find((f) => f.endsWith('.cast'));
    const { header, events } = castEvents(join(dir, cast ?? 'missing'));
    expect(header.command).toBe('echo out-$((40+2)); echo err >&2; exit 7');
    expect(events.some((e) => e[1] === 'o' && e[2].includes('out-42'))).toBe(true);
    expect(events.some((e) => e[1] === 'm' && e[2] === 'exit status 7')).toBe(true);
    const close = gw.audit(id).find((e) => e.type === 'channel.close');
    expect(close?.exitStatus).toBe(7);
    // The index is rewritten as the session goes; the final one is signed at session end.
    await waitFor(async () => (JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { signature?: unknown }).signature ?? undefined, 'signed index', 10_000);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { channels: { command?: string; exitStatus?: number }[] };
    expect(index.channels[0]?.exitStatus).toBe(7);
    expect(index.channels[0]?.command).toContain('exit 7');
    // `gatehouse verify` on the untouched session: chains and the signed index check out.
    const state = await loadGatewayState(gw.config.stateDir);
    const report = await verify(dir, state.recordingKey);
    expect(report.sessions.flatMap((s) => s.problems)).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
