/**
 * `npm run bench -- --only workers`: aggregate throughput of 2 parallel recorded `ssh -J`
 * uploads through a gateway of 1 worker (one process) and of 2 workers (`serve --workers 2`),
 * the two gateways running side by side and measured interleaved (1 2 1 2 …, medians).
 * Gateway CPU comes from its own /metrics (process_cpu_seconds_total, which the primary sums
 * over itself and its workers), so it counts every process of the gateway.
 */
import { spawn } from 'node:child_process';
import { ALL_PATHS, sshArgv } from './lib/paths.js';
import { median } from './lib/proc.js';
import { type Stack, startStack } from './lib/stack.js';

export interface WorkersBenchOptions {
  readonly reps: number;
  /** MiB per upload. */
  readonly mb: number;
  /** Unmeasured rounds on each gateway first (bench/lib/warm-up.ts: a fresh worker relays its first GiBs slower). */
  readonly warmUpRounds: number;
  readonly out: (line?: string) => void;
}

const CIPHER = 'aes128-gcm@openssh.com';
const PARALLEL = 2;

async function gatewayCpuSeconds(stack: Stack): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${stack.adminPort}/metrics`)).text();
  const m = /^process_cpu_seconds_total (\S+)$/m.exec(text);
  if (!m?.[1]) throw new Error('the gateway /metrics has no process_cpu_seconds_total');
  return Number(m[1]);
}

function upload(stack: Stack, mb: number): Promise<void> {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const argv = sshArgv(stack, ALL_PATHS[0] ?? 'gatehouse -J', 'cat > /dev/null', [], CIPHER);
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `head -c ${mb}M /dev/zero | ssh ${argv.map(q).join(' ')}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`upload failed (${code}): ${err}`))));
  });
}

/** One round: PARALLEL uploads at once; aggregate MB/s and gateway CPU seconds per GiB. */
async function round(stack: Stack, mb: number): Promise<{ mbps: number; cpuPerGiB: number }> {
  const cpu0 = await gatewayCpuSeconds(stack);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: PARALLEL }, () => upload(stack, mb)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = (await gatewayCpuSeconds(stack)) - cpu0;
  const totalMiB = PARALLEL * mb;
  return { mbps: (totalMiB * 1.048576) / seconds, cpuPerGiB: cpu / (totalMiB / 1024) };
}

export async function workersThroughput(opts: WorkersBenchOptions): Promise<void> {
  const { out } = opts;
  out(`\n## Multi-core: ${PARALLEL} parallel recorded ssh -J uploads of ${opts.mb} MiB (${CIPHER}), median of ${opts.reps} interleaved rounds`);
  const counts = [1, 2] as const;
  const stacks = new Map<number, Stack>();
  try {
    for (const n of counts) stacks.set(n, await startStack({ workers: n }));
    // Round-robin gives each of the 2-worker gateway's workers one upload a round, the
    // 1-worker gateway both: both are warmed before they are compared.
    const warm = new Map<number, number[]>(counts.map((n) => [n, []]));
    for (let i = 0; i < opts.warmUpRounds; i++) {
      for (const [n, stack] of stacks) warm.get(n)?.push((await round(stack, opts.mb)).cpuPerGiB);
    }
    if (opts.warmUpRounds > 0) {
      out(
        `(both gateways measured warm: first ${opts.warmUpRounds} unmeasured round${opts.warmUpRounds === 1 ? '' : 's'} each; gateway CPU s per GiB in those rounds: ${counts.map((n) => `${n} worker${n === 1 ? '' : 's'} ${(warm.get(n) ?? []).map((x) => x.toFixed(2)).join(', ')}`).join('; ')})\n`,
      );
    }
    const samples = new Map<number, { mbps: number[]; cpu: number[] }>(counts.map((n) => [n, { mbps: [], cpu: [] }]));
    for (let rep = 0; rep < opts.reps; rep++) {
      for (const n of counts) {
        const stack = stacks.get(n);
        const s = samples.get(n);
        if (!stack || !s) continue;
        const r = await round(stack, opts.mb);
        s.mbps.push(r.mbps);
        s.cpu.push(r.cpuPerGiB);
      }
    }
    out('| workers | aggregate MB/s | gateway CPU s per GiB (all processes) |');
    out('|---|---|---|');
    const med = new Map<number, number>();
    for (const n of counts) {
      const s = samples.get(n);
      if (!s) continue;
      med.set(n, median(s.mbps));
      out(`| ${n} | ${median(s.mbps).toFixed(1)} | ${median(s.cpu).toFixed(2)} |`);
    }
    const one = med.get(1);
    const two = med.get(2);
    if (one && two) out(`2 workers / 1 worker aggregate throughput: ${(two / one).toFixed(2)}x`);
  } finally {
    await Promise.all([...stacks.values()].map((s) => s.stop()));
  }
}
