/**
 * The recorder alone, in-process: what recording a binary download costs the thread that
 * relays (event-loop busy time) and the whole process (CPU user and system), per GiB, for the
 * recording format and I/O path of each row. No sockets and no ssh: this isolates the recorder
 * from the relay, which `npm run bench -- --only recording` measures end to end.
 *
 *   npm run build && node dist/bench/recorder.js [--quick]
 *
 * Each case runs in a child process of its own (GATEHOUSE_RECORDING_IO is read once per
 * process), feeding 32 KiB chunks of random bytes, as sshd sends a download, to a real
 * ChannelRecorder writing under the system temp directory. GATEHOUSE_BENCH_MB sets the size
 * (default 1024, 256 with --quick).
 *
 * On a VM, system time depends heavily on whether the kernel can reuse page-cache pages freed
 * recently (writes to memory the guest has not touched for a while cost several times more):
 * compare rows of one run, whose cases alternate, not runs.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BINARY_SCHEME } from '../src/recording/asciicast.js';
import { BINARY_SIDECAR_SCHEME } from '../src/recording/binary-ref.js';
import { ChainedLineWriter } from '../src/recording/chained-log.js';
import { ChannelRecorder } from '../src/recording/channel-recorder.js';
import { median } from './lib/proc.js';

interface Case {
  readonly name: string;
  readonly scheme: typeof BINARY_SCHEME | typeof BINARY_SIDECAR_SCHEME;
  readonly io: 'inline' | 'worker';
}

const CASES: readonly Case[] = [
  { name: 'base64 in the cast, hashed and written on the relay thread (before)', scheme: BINARY_SCHEME, io: 'inline' },
  { name: 'base64 in the cast, recording I/O worker', scheme: BINARY_SCHEME, io: 'worker' },
  { name: 'raw .bin sidecar, recording I/O worker (the gateway now)', scheme: BINARY_SIDECAR_SCHEME, io: 'worker' },
];

interface Result {
  readonly wall: number;
  readonly busy: number;
  readonly user: number;
  readonly sys: number;
  readonly written: number;
}

/** Child: records `mb` MiB and prints a Result as JSON. */
async function runCase(c: Case, mb: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-recorder-'));
  try {
    const path = join(dir, 'channel-0.cast');
    const writer = await ChainedLineWriter.create({
      path,
      seed: new Uint8Array(32),
      onFailure: (f) => {
        throw new Error(`recording failure in the bench: ${f.kind} ${f.message}`);
      },
      ...(c.scheme === BINARY_SIDECAR_SCHEME ? { binaryPath: join(dir, 'channel-0.bin') } : {}),
    });
    const rec = new ChannelRecorder({
      channel: 0,
      kind: 'exec',
      pty: false,
      version: 2,
      header: {
        version: 2,
        width: 80,
        height: 24,
        timestamp: 0,
        gatehouse: { session: 'bench', channel: 0, invalid_bytes: 'pua-u10fe00', chain: 'channel-0.cast.chain', binary_output: c.scheme, ...(c.scheme === BINARY_SIDECAR_SCHEME ? { binary_file: 'channel-0.bin' } : {}) },
      },
      recordInput: false,
      writer,
      clock: () => performance.now(),
    });
    const chunk = randomBytes(32 * 1024);
    const total = mb * 1024 * 1024;
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    for (let sent = 0; sent < total; sent += chunk.length) {
      // The relay reuses its read buffers: so does this loop.
      chunk[0] = sent & 0xff;
      if (rec.output(chunk) === 'pressure') await rec.whenDrained();
      else if (sent % (1024 * 1024) === 0) await new Promise(setImmediate);
    }
    await rec.close();
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const busy = performance.eventLoopUtilization(elu0).active / 1000;
    const written = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    const r: Result = { wall, busy, user: cpu.user / 1e6, sys: cpu.system / 1e6, written };
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const quick = process.argv.includes('--quick');
  const mb = Number(process.env['GATEHOUSE_BENCH_MB'] ?? (quick ? 256 : 1024));
  const reps = quick ? 3 : 5;
  const self = fileURLToPath(import.meta.url);
  const results = new Map<string, Result[]>(CASES.map((c) => [c.name, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const [i, c] of CASES.entries()) {
      const r = spawnSync(process.execPath, [self, '--case', String(i), String(mb)], { encoding: 'utf8', env: { ...process.env, GATEHOUSE_RECORDING_IO: c.io } });
      if (r.status !== 0) throw new Error(`recorder bench case "${c.name}" failed: ${r.stderr}`);
      results.get(c.name)?.push(JSON.parse(r.stdout) as Result);
    }
  }
  const gib = mb / 1024;
  console.log(`## The recorder alone: ${mb} MiB of random bytes in 32 KiB chunks, no pty, median of ${reps} interleaved runs (per GiB recorded)`);
  console.log('| case | wall s | relay-thread busy s | CPU user s | CPU system s | MiB on disk |');
  console.log('|---|---|---|---|---|---|');
  for (const c of CASES) {
    const rs = results.get(c.name) ?? [];
    const m = (f: (r: Result) => number): string => (median(rs.map(f)) / gib).toFixed(2);
    console.log(`| ${c.name} | ${m((r) => r.wall)} | ${m((r) => r.busy)} | ${m((r) => r.user)} | ${m((r) => r.sys)} | ${(median(rs.map((r) => r.written)) / 1048576).toFixed(0)} |`);
  }
}

const at = process.argv.indexOf('--case');
if (at >= 0) {
  const c = CASES[Number(process.argv[at + 1])];
  if (!c) throw new Error('no such case');
  await runCase(c, Number(process.argv[at + 2]));
} else main();
