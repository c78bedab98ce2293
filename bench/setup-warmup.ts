/**
 * `node dist/bench/setup-warmup.js [--workers N] [--blocks B] [--block S]` (defaults: the
 * gateway's own worker count, 12 blocks of 400): session set-up on a fresh gateway, block after
 * block, until the gateway's CPU per session levels off. V8 optimises
 * the code of a session set-up only after it has run many times (each function runs a few times
 * per session), so the first thousands of sessions of a gateway process cost more than the ones
 * after; bench/run.ts measures its last block after its own 2,820 sessions and those of the
 * sections before it, shared among the workers.
 * Prints one row per block: the gateway's CPU per session (every process and thread), the
 * primary's and the recording threads' shares, and sessions/s at concurrency 4.
 */
import { setupBlock } from './lib/setup-block.js';
import { startStack } from './lib/stack.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} wants a positive integer`);
  return v;
}

// Unset, the gateway's default (one worker per core), as bench/run.ts measures it.
const workers = process.argv.includes('--workers') ? option('--workers', 1) : undefined;
const blocks = option('--blocks', 12);
const size = option('--block', 400);
const concurrency = 4;

const stack = await startStack(workers === undefined ? {} : { workers });
try {
  console.log(`## Session set-up warm-up: ${blocks} blocks of ${size} short exec sessions (login@target), concurrency ${concurrency}, ${workers === undefined ? 'the default workers (one per core)' : `${workers} worker(s)`}`);
  console.log('| sessions before the block | gateway CPU ms per session (both legs) | of which the primary | of which recording I/O threads | sessions/s |');
  console.log('|---|---|---|---|---|');
  for (let b = 0; b < blocks; b++) {
    const r = await setupBlock(stack, size, concurrency);
    // One worker is an in-process gateway: no primary, its process is the gateway itself.
    const primary = workers !== 1 ? r.primaryMs.toFixed(1) : '–';
    console.log(`| ${b * size} | ${r.ms.toFixed(1)} | ${primary} | ${r.recordingMs.toFixed(1)} | ${r.rate.toFixed(1)} |`);
  }
} finally {
  await stack.stop();
}
