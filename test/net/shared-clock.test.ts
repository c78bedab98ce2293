import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SharedClock } from '../../src/net/shared-clock.js';

describe('SharedClock', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('ticks every subscriber from one timer, which runs only while someone is subscribed', () => {
    let t = 5000;
    const clock = new SharedClock(1000, () => t);
    const before = vi.getTimerCount();
    const a: number[] = [];
    const b: number[] = [];
    const stopA = clock.subscribe((now) => a.push(now));
    const stopB = clock.subscribe((now) => b.push(now));
    expect(clock.running).toBe(true);
    expect(vi.getTimerCount() - before).toBe(1);
    t = 6000;
    vi.advanceTimersByTime(1000);
    expect(a).toEqual([6000]);
    expect(b).toEqual([6000]);
    stopA();
    t = 7000;
    vi.advanceTimersByTime(1000);
    expect(a).toEqual([6000]);
    expect(b).toEqual([6000, 7000]);
    stopB();
    expect(clock.running).toBe(false);
    expect(clock.size).toBe(0);
    expect(vi.getTimerCount()).toBe(before);
    stopB(); // twice is harmless
    const c: number[] = [];
    clock.subscribe((now) => c.push(now));
    expect(vi.getTimerCount() - before).toBe(1);
    t = 9000;
    vi.advanceTimersByTime(1000);
    expect(c).toEqual([9000]);
  });

  it('handles subscribers that leave or join during a tick', () => {
    const clock = new SharedClock(1000);
    const calls: string[] = [];
    let stopB: () => void = () => {};
    clock.subscribe(() => {
      calls.push('a');
      stopB(); // a connection torn down by another's tick
    });
    stopB = clock.subscribe(() => calls.push('b'));
    const stopSelf = clock.subscribe(() => {
      calls.push('c');
      stopSelf();
    });
    vi.advanceTimersByTime(1000);
    expect(calls).toEqual(['a', 'c']);
    vi.advanceTimersByTime(1000);
    expect(calls).toEqual(['a', 'c', 'a']);
  });

  it('does not let a throwing subscriber starve the others, and rethrows its error', () => {
    const queued: (() => void)[] = [];
    vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((cb) => {
      queued.push(cb);
    });
    const clock = new SharedClock(1000);
    const seen: string[] = [];
    clock.subscribe(() => {
      throw new Error('broken tick');
    });
    clock.subscribe(() => seen.push('after'));
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual(['after']);
    expect(queued).toHaveLength(1);
    expect(() => queued[0]?.()).toThrow('broken tick');
  });
});
