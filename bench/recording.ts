/**
 * Recording overhead through the real gateway (issue 5: "recording overhead for a pty session
 * printing 200 MB, with recording on against recording off, in one run, as a ratio"; issue 7:
 * "<= 10% on pty output").
 *
 * Two gateways share the stack's state, policy and target: `gatehouse serve` (recording on, as
 * shipped) and bench/unrecorded-gateway.ts, the same code with channel data recording turned
 * off by a bench-only switch (src/recording/benchmark-switch.ts explains why the product has no
 * such switch). Runs alternate on, off, on, off …; the table has the medians of the ssh
 * client's wall time and of the CPU time of the gateway that carried the session.
 *
 *  - pty text: `ssh -tt -J gateway root@target` runs a command printing PTY_MB of terminal-like
 *    text (ls -l lines with colours, log lines, UTF-8), so the recorder sees what a busy
 *    terminal sends (CR LF, escape sequences, multi-byte characters), split as sshd reads the pty.
 *  - exec binary: `ssh -J gateway root@target 'head -c N /dev/zero'` and the same with random
 *    bytes, no pty: a bulk binary download, which the recorder must keep losslessly too.
 *  - login@target download: `ssh -p PORT root@target@gateway 'head -c N /dev/zero'` through each
 *    gateway, interleaved with the same download through the OpenSSH jump host, all three with
 *    aes128-gcm@openssh.com: the bulk download table's routing path, with and without recording,
 *    as ratios to OpenSSH -J (issue 7's ">= 1.2x" for routing).
 *
 * GATEHOUSE_BENCH_PTY_MB (default 200, 50 with --quick) sets the pty output size; the download
 * uses the bulk size of the run (GATEHOUSE_BENCH_MB).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, treeCpuSeconds } from './lib/proc.js';
import { cipherConfig, sshArgv } from './lib/paths.js';
import { freePort, gatewayNodeArgs, REPO, type Stack, waitForPort } from './lib/stack.js';

export interface RecordingBenchOptions {
  readonly quick: boolean;
  readonly reps: number;
  /** Bulk download size in MiB (the run's GATEHOUSE_BENCH_MB). */
  readonly downloadMB: number;
  readonly out: (line?: string) => void;
}

interface Sample {
  readonly seconds: number;
  readonly gatewayCpu: number;
}

interface Gateway {
  readonly name: 'on' | 'off';
  readonly port: number;
  readonly pid: number;
}

/** One MiB of output that looks like a busy terminal: ls -l with colours, logs, some UTF-8. */
export function terminalPattern(): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < 1024 * 1024; i++) {
    const l =
      i % 3 === 0
        ? `-rw-r--r-- 1 root root ${(i * 7919) % 100000} Nov 23 21:${String(i % 60).padStart(2, '0')} \x1b[01;32mfile-${i}.log\x1b[0m\n`
        : i % 3 === 1
          ? `2026-11-23T21:00:${String(i % 60).padStart(2, '0')}Z INFO request id=${i} status=200 latency=${i % 97}ms path=/api/v1/items\n`
          : `  données ${i}: ✓ ok — température ${i % 40}°C ${'█'.repeat(i % 20)}\n`;
    lines.push(l);
    size += Buffer.byteLength(l);
  }
  // Cut at a line end, so the file is whole lines and whole characters.
  const all = Buffer.from(lines.join(''));
  return all.subarray(0, all.lastIndexOf(0x0a, 1024 * 1024) + 1);
}

/**
 * Starts a gateway on the stack's state, policy and target: `gatehouse serve` itself (on), or
 * bench/unrecorded-gateway.ts (off), with the same arguments. Both run one process
 * (`--workers 1`): the bench-only switch lives in the process that calls it, and cluster workers
 * start from their own entry point; one process each also keeps the comparison like for like.
 */
async function startGateway(stack: Stack, name: 'on' | 'off'): Promise<{ gateway: Gateway; child: ChildProcess }> {
  const port = await freePort();
  const admin = await freePort();
  const nodeArgs = gatewayNodeArgs();
  const entry = name === 'on' ? join(REPO, 'dist', 'src', 'cli.js') : join(REPO, 'dist', 'bench', 'unrecorded-gateway.js');
  const args = ['serve', '--workers', '1', '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`, '--log-level', 'warn'];
  args.push('--state-dir', join(stack.dir, 'state'), '--policies', join(stack.dir, 'policies'), '--recordings', recordingsOf(stack, name));
  const child = spawn('node', [...nodeArgs, entry, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port);
  return { gateway: { name, port, pid: child.pid ?? 0 }, child };
}

function recordingsOf(stack: Stack, name: 'on' | 'off'): string {
  return join(stack.dir, `recordings-${name}`);
}

/** Total size of the .cast files under `dir`, and of their .bin sidecars (binary output, "b-sidecar"). */
function castBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && (e.name.endsWith('.cast') || e.name.endsWith('.bin'))) total += statSync(join(e.parentPath, e.name)).size;
  }
  return total;
}

async function stopGateway(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise<void>((r) => {
    if (child.exitCode !== null) r();
    else {
      child.once('exit', () => r());
      setTimeout(r, 10_000);
    }
  });
}

function q(s: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs one ssh through `gw` and counts what reaches the client, so a run that broke early can
 * never pass for a fast one.
 */
function runThrough(stack: Stack, gw: Gateway, command: string, pty: boolean, expectBytes: number): Sample {
  const argv = ['-F', stack.sshConfig, ...(pty ? ['-tt'] : []), '-J', `bench@127.0.0.1:${gw.port}`, 'root@target', command];
  return runCounted(argv, gw, expectBytes);
}

/** Runs `ssh argv`, counting what reaches the client; the CPU of `gw` when given (else 0). */
function runCounted(argv: readonly string[], gw: Gateway | undefined, expectBytes: number): Sample {
  const c0 = gw ? treeCpuSeconds(gw.pid) : 0;
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', `set -o pipefail; ssh ${argv.map(q).join(' ')} </dev/null | wc -c`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const seconds = (performance.now() - t0) / 1000;
  const gatewayCpu = gw ? treeCpuSeconds(gw.pid) - c0 : 0;
  const got = Number(r.stdout.trim());
  if (r.status !== 0 || !(got >= expectBytes)) {
    throw new Error(`recording bench: ssh through ${gw ? `the ${gw.name} gateway` : 'the OpenSSH jump host'} delivered ${got} of ${expectBytes} bytes (${r.stderr.trim()})`);
  }
  return { seconds, gatewayCpu };
}

/** The routing download's cipher on every connection (the first of the bulk download table). */
const ROUTING_CIPHER = 'aes128-gcm@openssh.com';

/**
 * The login@target download through each gateway and through the OpenSSH jump host, interleaved
 * (openssh -J, on, off, openssh -J, ...) after one unmeasured run of each.
 */
function measureRouting(stack: Stack, gws: readonly Gateway[], reps: number, command: string, expectBytes: number): Map<'on' | 'off' | 'openssh -J', Sample[]> {
  const config = cipherConfig(stack, ROUTING_CIPHER);
  const runs: [name: 'on' | 'off' | 'openssh -J', run: () => Sample][] = [
    ['openssh -J', () => runCounted(sshArgv(stack, 'openssh -J', command, [], ROUTING_CIPHER), undefined, expectBytes)],
    ...gws.map((gw): ['on' | 'off', () => Sample] => [gw.name, () => runCounted(['-F', config, '-p', String(gw.port), 'root@target@127.0.0.1', command], gw, expectBytes)]),
  ];
  return interleaved(runs, reps);
}

/** The routing table's row: MB/s of each path, the gateways' ratios to OpenSSH -J, and their CPU per GiB. */
function routingRow(mb: number, s: Map<'on' | 'off' | 'openssh -J', Sample[]>): string {
  const mbs = (n: 'on' | 'off' | 'openssh -J') => (mb * 1.048576) / median((s.get(n) ?? []).map((x) => x.seconds));
  const perGiB = (n: 'on' | 'off') => (median((s.get(n) ?? []).map((x) => x.gatewayCpu)) / (mb / 1024)).toFixed(2);
  const base = mbs('openssh -J');
  return `| zeros ${mb} MiB | ${mbs('on').toFixed(0)} | ${mbs('off').toFixed(0)} | ${base.toFixed(0)} | ${(mbs('on') / base).toFixed(2)} | ${(mbs('off') / base).toFixed(2)} | ${perGiB('on')} / ${perGiB('off')} |`;
}

/** Unmeasured runs of each session through each gateway before its measured ones (bench/lib/warm-up.ts: fresh processes relay their first GiBs slower). */
const WARM_UP_RUNS = 1;

/** WARM_UP_RUNS unmeasured rounds of `runs` in order, then `reps` measured ones: each run's samples by name. */
function interleaved<N extends string>(runs: readonly (readonly [name: N, run: () => Sample])[], reps: number): Map<N, Sample[]> {
  const samples = new Map<N, Sample[]>(runs.map(([name]) => [name, []]));
  for (let i = 0; i < WARM_UP_RUNS; i++) for (const [, run] of runs) run();
  for (let rep = 0; rep < reps; rep++) for (const [name, run] of runs) samples.get(name)?.push(run());
  return samples;
}

function measurePair(stack: Stack, gws: readonly Gateway[], reps: number, command: string, pty: boolean, expectBytes: number): Map<'on' | 'off', Sample[]> {
  return interleaved(
    gws.map((gw) => [gw.name, () => runThrough(stack, gw, command, pty, expectBytes)] as const),
    reps,
  );
}

function row(label: string, mb: number, s: Map<'on' | 'off', Sample[]>): string {
  const wall = (n: 'on' | 'off') => median((s.get(n) ?? []).map((x) => x.seconds));
  const cpu = (n: 'on' | 'off') => median((s.get(n) ?? []).map((x) => x.gatewayCpu));
  const perGiB = (n: 'on' | 'off') => (cpu(n) / (mb / 1024)).toFixed(2);
  return `| ${label} | ${wall('on').toFixed(2)} | ${wall('off').toFixed(2)} | ${(wall('on') / wall('off')).toFixed(2)} | ${cpu('on').toFixed(2)} | ${cpu('off').toFixed(2)} | ${(cpu('on') / cpu('off')).toFixed(2)} | ${perGiB('on')} / ${perGiB('off')} |`;
}

export async function recordingOverhead(stack: Stack, opts: RecordingBenchOptions): Promise<void> {
  const ptyMB = Number(process.env['GATEHOUSE_BENCH_PTY_MB'] ?? (opts.quick ? 50 : 200));
  const pattern = terminalPattern();
  const patternFile = join(stack.dir, 'terminal-pattern.txt');
  writeFileSync(patternFile, pattern);
  const randomFile = join(stack.dir, 'random-16m.bin');
  writeFileSync(randomFile, spawnSync('head', ['-c', String(16 * 1024 * 1024), '/dev/urandom'], { maxBuffer: 32 * 1024 * 1024 }).stdout);
  const repeats = Math.ceil((ptyMB * 1024 * 1024) / pattern.length);
  const ptyBytes = repeats * pattern.length;
  const dlBytes = opts.downloadMB * 1024 * 1024;

  const started = [await startGateway(stack, 'on'), await startGateway(stack, 'off')];
  const gws = started.map((g) => g.gateway);
  try {
    const { out } = opts;
    out(`\n## Recording overhead: recording on (gatehouse serve) against off (bench/unrecorded-gateway.ts), one process each, median of ${opts.reps} interleaved runs`);
    out(`(both gateways measured warm: each session runs ${WARM_UP_RUNS === 1 ? 'once' : `${WARM_UP_RUNS} times`} through each gateway, unmeasured, before its measured runs)\n`);
    out('| session | wall s on | wall s off | wall on/off | gateway CPU s on | gateway CPU s off | CPU on/off | CPU s/GiB on / off |');
    out('|---|---|---|---|---|---|---|---|');
    const pty = measurePair(stack, gws, opts.reps, `for i in $(seq ${repeats}); do cat ${patternFile}; done`, true, ptyBytes);
    out(row(`pty text ${(ptyBytes / 1048576).toFixed(0)} MiB (ssh -tt -J)`, ptyBytes / 1048576, pty));
    const zeros = measurePair(stack, gws, opts.reps, `head -c ${dlBytes} /dev/zero`, false, dlBytes);
    out(row(`exec zeros ${opts.downloadMB} MiB (ssh -J, no pty)`, opts.downloadMB, zeros));
    const random = measurePair(stack, gws, opts.reps, `for i in $(seq ${Math.ceil(opts.downloadMB / 16)}); do cat ${randomFile}; done | head -c ${dlBytes}`, false, dlBytes);
    out(row(`exec random ${opts.downloadMB} MiB (ssh -J, no pty)`, opts.downloadMB, random));
    out('target for pty text (issue 7): wall on/off <= 1.10; gateway CPU on/off is what recording costs the gateway');
    out(`\n### login@target download with recording on and off, against OpenSSH -J (${ROUTING_CIPHER} on every connection), median of ${opts.reps} interleaved runs`);
    out('| download | MB/s on | MB/s off | MB/s openssh -J | on / openssh -J | off / openssh -J | gateway CPU s/GiB on / off |');
    out('|---|---|---|---|---|---|---|');
    out(routingRow(opts.downloadMB, measureRouting(stack, gws, opts.reps, `head -c ${dlBytes} /dev/zero`, dlBytes)));
    out('(routing target (issue 7): >= 1.2x openssh -J; the off column is the relay without the recording of its output)');
  } finally {
    for (const g of started) await stopGateway(g.child);
  }
  // The comparison only means something if "on" recorded everything and "off" nothing.
  const on = castBytes(recordingsOf(stack, 'on'));
  const off = castBytes(recordingsOf(stack, 'off'));
  opts.out(`.cast and .bin files written: on ${(on / 1048576).toFixed(0)} MiB, off ${(off / 1024).toFixed(0)} KiB`);
  if (off > 1024 * 1024 || on < (ptyBytes + 3 * dlBytes) * (opts.reps + WARM_UP_RUNS)) throw new Error('recording bench: the on gateway did not record everything, or the off gateway recorded data');
}
