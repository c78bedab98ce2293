/**
 * The bench's warm-up before a throughput section (bench/lib/warm-up.ts): which transfers it
 * runs, in which order and cipher, and the gateway CPU per GiB it reports for each round.
 */
import { describe, expect, it } from 'vitest';
import type { PathName } from '../../bench/lib/paths.js';
import { warmUp, warmUpOrder } from '../../bench/lib/warm-up.js';

describe('warmUpOrder', () => {
  it('runs each gateway path once per worker in a row, so round-robin gives every worker every path', () => {
    expect(warmUpOrder(2)).toEqual(['gatehouse -J', 'gatehouse -J', 'gatehouse login@target', 'gatehouse login@target']);
    expect(warmUpOrder(3).filter((p) => p === 'gatehouse -J')).toHaveLength(3);
  });

  it('runs each path once for a single-process gateway (and for a count below one)', () => {
    expect(warmUpOrder(1)).toEqual(['gatehouse -J', 'gatehouse login@target']);
    expect(warmUpOrder(0)).toEqual(['gatehouse -J', 'gatehouse login@target']);
  });
});

describe('warmUp', () => {
  const ciphers = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'];

  it('cycles the ciphers round by round and runs the whole order in each round', () => {
    const runs: [PathName, string][] = [];
    warmUp({ rounds: 4, ciphers, mb: 1024, workers: 2, transfer: (p, c) => runs.push([p, c]), gatewayCpuSeconds: () => 0 });
    expect(runs).toHaveLength(16);
    expect(runs.slice(0, 4).every(([, c]) => c === ciphers[0])).toBe(true);
    expect(runs.slice(4, 8).every(([, c]) => c === ciphers[1])).toBe(true);
    expect(runs.slice(12).every(([, c]) => c === ciphers[0])).toBe(true);
    expect(runs.slice(0, 4).map(([p]) => p)).toEqual(warmUpOrder(2));
  });

  it('reports the gateway CPU per GiB moved in each round', () => {
    // the gateway's clock advances 3 s per transfer in round one, then 2 s
    let cpu = 0;
    let done = 0;
    const perRound = warmUp({
      rounds: 2,
      ciphers,
      mb: 512,
      workers: 2,
      transfer: () => {
        cpu += done < 4 ? 3 : 2;
        done++;
      },
      gatewayCpuSeconds: () => cpu,
    });
    // four transfers of 512 MiB = 2 GiB a round: 12 s and 8 s of CPU
    expect(perRound).toEqual([6, 4]);
  });

  it('runs nothing without rounds or ciphers', () => {
    let n = 0;
    expect(warmUp({ rounds: 0, ciphers, mb: 1, workers: 2, transfer: () => n++, gatewayCpuSeconds: () => 0 })).toEqual([]);
    expect(warmUp({ rounds: 2, ciphers: [], mb: 1, workers: 2, transfer: () => n++, gatewayCpuSeconds: () => 0 })).toEqual([]);
    expect(n).toBe(0);
  });

  it('lets a failed transfer end the warm-up with its error', () => {
    expect(() =>
      warmUp({
        rounds: 1,
        ciphers,
        mb: 1,
        workers: 1,
        transfer: () => {
          throw new Error('ssh failed');
        },
        gatewayCpuSeconds: () => 0,
      }),
    ).toThrow('ssh failed');
  });
});
