/**
 * Recording guarantees through the gateway: kill -9 of a `gatehouse serve` process in the
 * middle of a session leaves recordings that asciinema and `gatehouse verify` read up to their
 * last complete line, and a recordings directory that cannot be written ends new sessions with
 * a message to the user (the default recording failure policy).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGatewayState } from '../../src/gateway/state.js';
import { verify } from '../../src/recording/index.js';
import { buildForChild } from '../recording/child-build.js';
import { asciinemaCat, hasScript } from '../recording/helpers.js';
import { freePort, makeTempDir, portAccepts, requireBinaries, startSshd, track, waitFor, type SshdHandle, generateKey } from '../support/index.js';
import { policyFor, startTestGateway, userStderr } from './harness.js';

const need = requireBinaries('ssh', 'sshd', 'ssh-keygen', 'asciinema');

function findCasts(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.cast')) out.push(join(d, e.name));
    }
  };
  walk(root);
  return out;
}

describe.skipIf(need.skip)(`recordings survive crashes and refusals${need.reason}`, () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it.skipIf(!hasScript)('leaves readable recordings after kill -9 of the gateway mid-session', async () => {
    const out = await buildForChild(['src/cli.ts', 'src/gateway/start.ts']);
    cleanups.push(() => rmSync(out, { recursive: true, force: true }));
    const dir = makeTempDir('gatehouse-kill9-');
    const stateDir = join(dir, 'state');
    const policies = join(dir, 'policies');
    const recordings = join(dir, 'recordings');
    mkdirSync(policies);
    const state = await loadGatewayState(stateDir);
    const alice = await generateKey(dir, 'alice', 'ed25519');
    const bob = await generateKey(dir, 'bob', 'ed25519');
    const sshd: SshdHandle = await startSshd({ trustedUserCaKeys: [state.userCa.publicKeyLine] });
    cleanups.push(() => sshd.stop());
    writeFileSync(join(policies, 'test.yaml'), policyFor({ alice, bob, sshdPort: sshd.port, sshdHostKey: sshd.hostKeys[0] ?? '' }));
    const port = await freePort();
    const admin = await freePort();
    const gwProc: ChildProcess = track(
      spawn(process.execPath, [join(out, 'src', 'cli.js'), 'serve', '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`, '--state-dir', stateDir, '--policies', policies, '--recordings', recordings], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let gwErr = '';
    const collect = (c: Buffer): void => {
      gwErr = (gwErr + c.toString()).slice(-4000);
    };
    gwProc.stderr?.on('data', collect);
    gwProc.stdout?.on('data', collect);
    await waitFor(
      async () => {
        if (gwProc.exitCode !== null) throw new Error(`gatehouse serve exited ${gwProc.exitCode}: ${gwErr}`);
        return (await portAccepts(port)) ? true : undefined;
      },
      'gateway to listen',
      20_000,
      100,
    ).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n${gwErr}`);
    });
    const known = join(dir, 'known_hosts');
    writeFileSync(known, `@cert-authority * ${state.hostCa.publicKeyLine}\n`);
    // -o options do not reach the jump connection's ssh; a config file (-F) does.
    const cfg = join(dir, 'ssh_config');
    writeFileSync(
      cfg,
      ['Host *', `  UserKnownHostsFile ${known}`, '  GlobalKnownHostsFile /dev/null', '  StrictHostKeyChecking yes', '  BatchMode yes', '  IdentitiesOnly yes', '  IdentityAgent none', `  IdentityFile ${alice.privatePath}`, '  LogLevel ERROR', ''].join('\n'),
    );
    const client = track(
      spawn('ssh', ['-F', cfg, '-J', `alice@127.0.0.1:${port}`, 'root@db1', 'for i in 1 2 3 4 5; do echo line-$i-of-crash; done; sleep 30'], {
        env: { ...process.env, SSH_AUTH_SOCK: '' },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    let clientOut = '';
    client.stdout?.on('data', (c: Buffer) => {
      clientOut += c.toString();
    });
    const clientExit = new Promise<void>((r) => client.once('exit', () => r()));
    await waitFor(async () => (clientOut.includes('line-5-of-crash') ? true : undefined), 'output through the gateway', 20_000);
    // At most 1 s of data is at risk: wait until the recorder has flushed the output.
    const cast = await waitFor(
      async () => {
        try {
          return findCasts(recordings).find((f) => readFileSync(f, 'utf8').includes('line-5-of-crash'));
        } catch {
          return undefined;
        }
      },
      'output flushed to the .cast file',
      10_000,
      100,
    );
    gwProc.kill('SIGKILL');
    await new Promise<void>((r) => (gwProc.exitCode !== null || gwProc.signalCode !== null ? r() : gwProc.once('exit', () => r())));
    await clientExit;
    const text = readFileSync(cast, 'utf8');
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    // Every complete line is JSON (header, then events).
    for (const line of complete.split('\n').filter((l) => l !== '')) expect(() => JSON.parse(line)).not.toThrow();
    const cat = asciinemaCat(cast);
    expect(cat.status).toBe(0);
    expect(cat.stdout).toContain('line-5-of-crash');
    // The chains hold up to the last line: verify reports the session unsealed, nothing altered.
    const report = await verify(join(cast, '..'), state.recordingKey);
    const kinds = report.sessions.flatMap((s) => s.problems.map((p) => p.kind));
    expect(kinds.filter((k) => k === 'changed' || k === 'removed' || k === 'inserted' || k === 'appended')).toEqual([]);
  });

  it('ends a new session with a message when the recordings directory cannot be written', async () => {
    const dir = makeTempDir('gatehouse-rofs-');
    const notADir = join(dir, 'recordings');
    // A file where the directory should be: even root cannot create session directories in it.
    writeFileSync(notADir, 'not a directory\n');
    const gw = await startTestGateway({ recordingsDir: notADir });
    cleanups.push(() => gw.stop());
    const from = gw.logs.length;
    const r = await gw.ssh(['-J', `alice@127.0.0.1:${gw.port}`, 'root@db1', 'echo must-not-run'], { extra: ['LogLevel INFO'] });
    expect(r.stdout).toBe('');
    expect(r.code).not.toBe(0);
    expect(userStderr(r.stderr).join('\n')).toMatch(/cannot be recorded/);
    await waitFor(async () => gw.logs.slice(from).find((l) => l.audit === 'recording.failure'), 'recording failure event');
    const m = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(m).toMatch(/^gatehouse_recording_failures_total(\{[^}]*\})? [1-9]/m);
  });
});
