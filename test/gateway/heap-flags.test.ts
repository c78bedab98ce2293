import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { GATEWAY_GC_FLAG, GATEWAY_OLD_SPACE_MIB, GATEWAY_SEMI_SPACE_MIB, withGatewayHeapFlags } from '../../src/gateway/heap-flags.js';

// Allocates like a burst of session set-ups (short-lived objects, some survivors) and prints
// the young generation's committed size.
const CHURN = `
const v8 = require('node:v8');
const keep = [];
for (let i = 0; i < 2e6; i++) { const o = { a: i, b: [i, i + 1], c: 'x' + i }; if (i % 10 === 0) keep.push(o); if (keep.length > 50000) keep.splice(0, 25000); }
const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
process.stdout.write(String(ns.space_size));
`;

function youngGenerationBytes(execArgv: readonly string[]): number {
  const r = spawnSync(process.execPath, [...execArgv, '-e', CHURN], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return Number(r.stdout);
}

describe('gateway heap flags', () => {
  it('adds the semi-space cap, single-threaded GC and the old-generation start, keeps the other flags, and leaves operator choices alone', () => {
    const oldSpace = `--initial-old-space-size=${GATEWAY_OLD_SPACE_MIB}`;
    expect(withGatewayHeapFlags(['--enable-source-maps'])).toEqual(['--enable-source-maps', `--max-semi-space-size=${GATEWAY_SEMI_SPACE_MIB}`, GATEWAY_GC_FLAG, oldSpace]);
    expect(withGatewayHeapFlags(['--max-semi-space-size=16'])).toEqual(['--max-semi-space-size=16', GATEWAY_GC_FLAG, oldSpace]);
    expect(withGatewayHeapFlags(['--max_semi_space_size', '8', '--no-single-threaded-gc', '--initial_old_space_size=16'])).toEqual([
      '--max_semi_space_size',
      '8',
      '--no-single-threaded-gc',
      '--initial_old_space_size=16',
    ]);
    expect(withGatewayHeapFlags(['--initial-heap-size=128'])).toEqual(['--initial-heap-size=128', `--max-semi-space-size=${GATEWAY_SEMI_SPACE_MIB}`, GATEWAY_GC_FLAG]);
  });

  it('the old-generation start reaches V8', () => {
    const r = spawnSync(process.execPath, [...withGatewayHeapFlags([]), '-p', "require('node:v8').getHeapStatistics().total_available_size > 0 && process.execArgv.join(' ')"], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`--initial-old-space-size=${GATEWAY_OLD_SPACE_MIB}`);
  });

  it('starts a process whose V8 accepts the flags', () => {
    const r = spawnSync(process.execPath, [...withGatewayHeapFlags([]), '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok');
  });

  it('keeps a worker young generation within the cap under set-up churn (the default grows past it)', () => {
    const capped = youngGenerationBytes(withGatewayHeapFlags([]));
    expect(capped).toBeGreaterThan(0);
    // new space = two semi-spaces at most
    expect(capped).toBeLessThanOrEqual(2 * GATEWAY_SEMI_SPACE_MIB * 1024 * 1024);
    expect(youngGenerationBytes([])).toBeGreaterThan(2 * GATEWAY_SEMI_SPACE_MIB * 1024 * 1024);
  });
});
