import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { GATEWAY_GC_FLAG, GATEWAY_SEMI_SPACE_MIB, withGatewayHeapFlags } from '../../src/gateway/heap-flags.js';

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
  it('adds the semi-space cap and single-threaded GC, keeps the other flags, and leaves operator choices alone', () => {
    expect(withGatewayHeapFlags(['--enable-source-maps'])).toEqual(['--enable-source-maps', `--max-semi-space-size=${GATEWAY_SEMI_SPACE_MIB}`, GATEWAY_GC_FLAG]);
    expect(withGatewayHeapFlags(['--max-semi-space-size=16'])).toEqual(['--max-semi-space-size=16', GATEWAY_GC_FLAG]);
    expect(withGatewayHeapFlags(['--max_semi_space_size', '8', '--no-single-threaded-gc'])).toEqual(['--max_semi_space_size', '8', '--no-single-threaded-gc']);
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
