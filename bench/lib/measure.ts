/** Small timing helpers for the benchmarks: run a body until a time budget is spent. */

export interface Rate {
  readonly iterations: number;
  /** CPU seconds (user + system) this process spent. */
  readonly seconds: number;
  /** Iterations per CPU second. */
  readonly perSecond: number;
}

/**
 * Calls `body` repeatedly until `budgetMs` of wall time has elapsed, in `rounds` timed rounds,
 * and reports the best round's rate per CPU second of this process (user + system), which is how
 * `openssl speed` reports by default (it divides by user CPU time). On a shared machine that keeps
 * the two comparable; on an idle one CPU time and wall time agree for this single-threaded work.
 */
export function measure(body: () => void, budgetMs: number, rounds = 4): Rate {
  // Warm up for a third of the budget: the JIT tiers up, and V8's heap and the allocator settle
  // (fresh 32 KiB buffers run ~20x slower for the first few hundred milliseconds of a process).
  const warmUntil = performance.now() + budgetMs / 3;
  do body();
  while (performance.now() < warmUntil);
  let best: Rate = { iterations: 0, seconds: 0, perSecond: 0 };
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    let iterations = 0;
    let now = start;
    while (iterations < 1 || now - start < (budgetMs * 2) / 3 / rounds) {
      body();
      iterations++;
      now = performance.now();
    }
    const cpu = process.cpuUsage(cpuStart);
    // the kernel accounts CPU time in ticks; never divide by less than the smallest one
    const seconds = Math.max((cpu.user + cpu.system) / 1e6, 0.001);
    if (iterations / seconds > best.perSecond) best = { iterations, seconds, perSecond: iterations / seconds };
  }
  return best;
}

export function pad(s: string, width: number): string {
  return s.length >= width ? s : s + ' '.repeat(width - s.length);
}

export function padLeft(s: string, width: number): string {
  return s.length >= width ? s : ' '.repeat(width - s.length) + s;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
