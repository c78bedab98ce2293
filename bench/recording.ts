/**
 * Recording overhead: 200 MB of synthetic pty output (text, SGR colour sequences, UTF-8, in
 * 32 KiB SSH-sized chunks) through the session recorder (UTF-8 decode, asciicast JSON, hash
 * chain, bounded queue, flushes) against a plain write of the same bytes to a file, in the
 * same run on the same file system, printed as a ratio. Best of REPS runs each.
 *
 *   npm run build && node dist/bench/recording.js     (GATEHOUSE_BENCH_MB=200, GATEHOUSE_BENCH_REPS=3)
 */
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateRecordingKey } from '../src/recording/recording-key.js';
import { SessionRecorder } from '../src/recording/session-recorder.js';

const MB = Number(process.env['GATEHOUSE_BENCH_MB'] ?? 200);
const REPS = Number(process.env['GATEHOUSE_BENCH_REPS'] ?? 3);
const CHUNK = 32 * 1024;
const BASE = process.env['GATEHOUSE_BENCH_DIR'] ?? tmpdir();

/** One MiB of output that looks like a busy terminal: ls -l with colours, logs, some UTF-8. */
function syntheticPattern(): Uint8Array {
  const lines: string[] = [];
  let i = 0;
  let size = 0;
  while (size < 1024 * 1024) {
    const l =
      i % 3 === 0
        ? `-rw-r--r-- 1 root root ${(i * 7919) % 100000} Nov 23 21:${String(i % 60).padStart(2, '0')} \x1b[01;32mfile-${i}.log\x1b[0m\r\n`
        : i % 3 === 1
          ? `2026-11-23T21:00:${String(i % 60).padStart(2, '0')}Z INFO request id=${i} status=200 latency=${i % 97}ms path=/api/v1/items\r\n`
          : `  données ${i}: ✓ ok — température ${i % 40}°C ${'█'.repeat(i % 20)}\r\n`;
    lines.push(l);
    size += Buffer.byteLength(l);
    i++;
  }
  return new Uint8Array(Buffer.from(lines.join('')).subarray(0, 1024 * 1024));
}

function* chunks(pattern: Uint8Array, total: number): Generator<Uint8Array> {
  let sent = 0;
  let off = 0;
  while (sent < total) {
    const n = Math.min(CHUNK, total - sent, pattern.length - off);
    yield pattern.subarray(off, off + n);
    sent += n;
    off = (off + n) % pattern.length;
  }
}

interface Timing {
  readonly ms: number;
  /** CPU time of this process (user + system), less sensitive to other load on the machine. */
  readonly cpuMs: number;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

async function plainWrite(dir: string, pattern: Uint8Array, total: number): Promise<Timing> {
  const path = join(dir, 'plain.bin');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const fh = await open(path, 'w');
  for (const c of chunks(pattern, total)) await fh.write(c);
  await fh.datasync();
  await fh.close();
  const ms = performance.now() - t0;
  const cpuMs = cpuMsSince(cpu0);
  await rm(path);
  return { ms, cpuMs };
}

async function recorded(dir: string, pattern: Uint8Array, total: number, stateDir: string): Promise<Timing & { castBytes: number }> {
  const key = await loadOrCreateRecordingKey(stateDir);
  const root = join(dir, 'recordings');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const rec = await SessionRecorder.open({
    root,
    sessionId: `bench${Date.now()}`,
    who: { identity: 'bench', authMethod: 'publickey', clientAddress: '127.0.0.1' },
    target: { host: 'bench', port: 22, login: 'root' },
    key,
    onFailure: (f) => {
      throw new Error(`recording failure during the benchmark: ${f.message}`);
    },
  });
  const ch = await rec.openChannel({ kind: 'shell', pty: { cols: 200, rows: 50, term: 'xterm-256color' } });
  for (const c of chunks(pattern, total)) {
    // As the relay does: stop taking data while the recording queue is above its high-water mark.
    if (ch.output(c) === 'pressure') await ch.whenDrained();
  }
  await rec.closeChannel(ch);
  await rec.finish();
  const ms = performance.now() - t0;
  const cpuMs = cpuMsSince(cpu0);
  const castBytes = (await stat(join(rec.dir, 'channel-0.cast'))).size;
  await rm(root, { recursive: true, force: true });
  return { ms, cpuMs, castBytes };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(BASE, 'gh-bench-rec-'));
  const stateDir = join(dir, 'state');
  const total = MB * 1024 * 1024;
  const pattern = syntheticPattern();
  try {
    let plain: Timing = { ms: Number.POSITIVE_INFINITY, cpuMs: Number.POSITIVE_INFINITY };
    let rec: Timing = { ms: Number.POSITIVE_INFINITY, cpuMs: Number.POSITIVE_INFINITY };
    let castBytes = 0;
    for (let r = 0; r < REPS; r++) {
      const p = await plainWrite(dir, pattern, total);
      if (p.ms < plain.ms) plain = p;
      const x = await recorded(dir, pattern, total, stateDir);
      if (x.ms < rec.ms) rec = x;
      castBytes = x.castBytes;
    }
    const mbps = (ms: number): string => (total / 1024 / 1024 / (ms / 1000)).toFixed(0);
    console.log(`recording benchmark: ${MB} MB of synthetic pty output in ${CHUNK / 1024} KiB chunks, best of ${REPS}, dir ${BASE}`);
    console.log(`  plain write      ${plain.ms.toFixed(0).padStart(6)} ms wall ${plain.cpuMs.toFixed(0).padStart(6)} ms cpu  ${mbps(plain.ms).padStart(5)} MB/s`);
    console.log(
      `  recorder (v2)    ${rec.ms.toFixed(0).padStart(6)} ms wall ${rec.cpuMs.toFixed(0).padStart(6)} ms cpu  ${mbps(rec.ms).padStart(5)} MB/s  (cast file ${(castBytes / 1024 / 1024).toFixed(0)} MB + chain)`,
    );
    console.log(`  ratio recorder/plain: ${(rec.ms / plain.ms).toFixed(2)} wall, ${(rec.cpuMs / plain.cpuMs).toFixed(2)} cpu`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
