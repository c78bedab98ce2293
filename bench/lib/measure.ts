/** Small timing helpers for the benchmarks: run a body until a time budget is spent. */

export interface Rate {
  readonly iterations: number;
  readonly seconds: number;
  readonly perSecond: number;
}

/**
 * Calls `body` repeatedly until `budgetMs` has elapsed, in `rounds` timed rounds, and reports the
 * best round: on a shared machine other processes only ever slow a round down, so the fastest
 * one is the closest to what the code can do.
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
    let iterations = 0;
    let now = start;
    while (iterations < 1 || now - start < (budgetMs * 2) / 3 / rounds) {
      body();
      iterations++;
      now = performance.now();
    }
    const seconds = (now - start) / 1000;
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
