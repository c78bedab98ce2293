/**
 * Unmeasured transfers through the gateway before a throughput section measures it.
 *
 * A gateway worker relays its first GiBs with code V8 is still optimising. Measured here with
 * two workers and the bench's own order (1 GiB uploads, aes128-gcm, `ssh -J` then login@target
 * per round): the gateway took 4.65, 4.45, 3.22, 3.22 s of CPU per GiB for the `ssh -J` uploads
 * of four rounds, and 3.16, 2.33, 2.25, 2.18 for the login@target ones; under `--trace-opt
 * --trace-deopt` a worker's first GiB ran ~250 TurboFan compiles and ~24 deopts, its fourth 20
 * and 0-1. Round-robin over two workers sends every `ssh -J` of a section to one worker and
 * every login@target to the other, so without a warm-up the first cipher's median came from that
 * climb. A gateway runs for weeks; its warm figure is the one the targets are about, and
 * OpenSSH's jump host (a fresh C process per connection) has no such climb. What the warm-up
 * cost is printed with the section.
 */
import type { PathName } from './paths.js';
import { processTree } from './proc.js';
import type { Stack } from './stack.js';

/** The gateway's paths, in the order the warm-up runs them. */
const GATEWAY_PATHS: readonly PathName[] = ['gatehouse -J', 'gatehouse login@target'];

/** The gateway's worker processes (one when it runs in a single process). */
export function gatewayWorkers(stack: Stack): number {
  return Math.max(1, processTree(stack.gatewayPid).length - 1);
}

/**
 * The order of one warm-up round: each gateway path as many times in a row as there are
 * workers, so round-robin hands every worker every path, whichever worker is next.
 */
export function warmUpOrder(workers: number): PathName[] {
  return GATEWAY_PATHS.flatMap((p) => Array.from({ length: Math.max(1, workers) }, () => p));
}

export interface WarmUpOptions {
  /** Rounds; round i uses cipher i modulo their number, so each cipher's code is warmed too. */
  readonly rounds: number;
  readonly ciphers: readonly string[];
  /** MiB per transfer. */
  readonly mb: number;
  readonly workers: number;
  /** Runs one unmeasured transfer (throws when it fails). */
  transfer(path: PathName, cipher: string): void;
  /** The gateway's CPU seconds so far (every process and thread). */
  gatewayCpuSeconds(): number;
}

/** Runs the warm-up; returns the gateway's CPU seconds per GiB moved in each round. */
export function warmUp(o: WarmUpOptions): number[] {
  const order = warmUpOrder(o.workers);
  const perRound: number[] = [];
  for (let round = 0; round < o.rounds; round++) {
    const cipher = o.ciphers[round % o.ciphers.length];
    if (cipher === undefined) break;
    const c0 = o.gatewayCpuSeconds();
    for (const path of order) o.transfer(path, cipher);
    perRound.push((o.gatewayCpuSeconds() - c0) / ((order.length * o.mb) / 1024));
  }
  return perRound;
}
