/**
 * One timer for the once-a-second housekeeping of every connection in the process (rekey
 * interval, keepalives, the login grace time), instead of one timer each.
 *
 * A gateway holds two connections per session (the client's and the target's). With a timer
 * each, 1,000 idle sessions meant 2,000 timers, each due at its own millisecond: the event loop
 * woke for them hundreds of times a second, and that was most of what an idle gateway spent
 * (bench/run.ts, memory section). One timer walks every subscriber in one wake-up. The timer
 * runs only while a connection is subscribed and never holds the process open.
 *
 * Subscribers see the time of the tick, so the checks keep their one-second granularity; a new
 * subscriber's first tick comes within one period instead of exactly one period after it
 * subscribed. A subscriber that throws does not starve the others: its error is rethrown from a
 * microtask, where it surfaces as an uncaught exception exactly as a throw from its own timer
 * would have.
 */
export type ClockSubscriber = (now: number) => void;

export class SharedClock {
  private readonly subscribers = new Set<ClockSubscriber>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly periodMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Calls `f` once a period from now on; returns the unsubscribe function. */
  subscribe(f: ClockSubscriber): () => void {
    this.subscribers.add(f);
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), this.periodMs);
      this.timer.unref();
    }
    return () => this.unsubscribe(f);
  }

  /** Subscribers now (for tests and diagnostics). */
  get size(): number {
    return this.subscribers.size;
  }

  /** Whether the timer runs (it does exactly while there are subscribers). */
  get running(): boolean {
    return this.timer !== null;
  }

  private unsubscribe(f: ClockSubscriber): void {
    this.subscribers.delete(f);
    if (this.subscribers.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private tick(): void {
    const now = this.now();
    // A Set iterates live: one that unsubscribes during the walk (a connection torn down by its
    // own tick, or by another's) is skipped if not reached yet, never visited twice.
    for (const f of this.subscribers) {
      try {
        f(now);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}
