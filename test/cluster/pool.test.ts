/** The worker pool's restart back-off (the pool itself runs in cluster.test.ts). */
import { describe, expect, it } from 'vitest';
import { restartDelay } from '../../src/cluster/pool.js';

describe('restartDelay', () => {
  it('replaces the first death at once, then backs off exponentially up to 30 s', () => {
    const crashes: number[] = [];
    const delays = Array.from({ length: 10 }, (_, i) => restartDelay(crashes, 1000 + i));
    expect(delays).toEqual([0, 500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('forgets deaths older than a minute', () => {
    const crashes: number[] = [];
    restartDelay(crashes, 0);
    expect(restartDelay(crashes, 1000)).toBe(500);
    expect(restartDelay(crashes, 120_000)).toBe(0);
    expect(crashes).toEqual([120_000]);
  });
});
