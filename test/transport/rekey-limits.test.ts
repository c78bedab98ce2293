import { describe, expect, it } from 'vitest';
import { RekeyLimits } from '../../src/transport/rekey-limits.js';

describe('RekeyLimits', () => {
  it('calls for new keys once either direction carried the byte volume, and counts afresh after an exchange', () => {
    const l = new RekeyLimits({ rekeyBytes: 1000, rekeyPackets: 1e9 });
    l.received(600);
    l.sent(999);
    expect(l.volumeReached).toBe(false);
    l.sent(1);
    expect(l.volumeReached).toBe(true);
    l.exchanged();
    expect(l.volumeReached).toBe(false);
    l.received(1000);
    expect(l.volumeReached).toBe(true);
  });

  it('counts packets in each direction apart', () => {
    const l = new RekeyLimits({ rekeyBytes: 1e12, rekeyPackets: 3 });
    l.received(1);
    l.sent(1);
    l.received(1);
    l.sent(1);
    expect(l.volumeReached).toBe(false);
    l.sent(1);
    expect(l.volumeReached).toBe(true);
  });

  it('the interval runs from the first tick with keys in place, then from each exchange; 0 disables it', () => {
    const l = new RekeyLimits({ rekeyIntervalMs: 100 });
    expect(l.tick(0, false)).toBe(false); // no keys yet: only the time is noted
    expect(l.tick(50, true)).toBe(false); // the interval starts here
    expect(l.tick(149, true)).toBe(false);
    expect(l.tick(150, true)).toBe(true);
    expect(l.tick(160, false)).toBe(false); // an exchange is running
    l.exchanged(); // completed as of the last tick, 160
    expect(l.tick(259, true)).toBe(false);
    expect(l.tick(260, true)).toBe(true);
    const off = new RekeyLimits({ rekeyIntervalMs: 0 });
    off.tick(0, true);
    expect(off.tick(1e12, true)).toBe(false);
  });

  it('defaults: 1 GiB, 2^31 packets, one hour', () => {
    const l = new RekeyLimits({});
    l.received(2 ** 30 - 1);
    expect(l.volumeReached).toBe(false);
    l.received(1);
    expect(l.volumeReached).toBe(true);
    l.tick(0, true);
    expect(l.tick(3_599_999, true)).toBe(false);
    expect(l.tick(3_600_000, true)).toBe(true);
  });
});
