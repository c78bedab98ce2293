/**
 * The primary/worker IPC messages are parsed on receipt: well-formed messages come back as
 * typed values, anything else (wrong types, oversized strings, other users of the channel,
 * random junk) is undefined, and no input throws.
 */
import { describe, expect, it } from 'vitest';
import { parseFromWorker, parseSessionSummary, parseToWorker } from '../../src/cluster/protocol.js';

const summary = { id: 's', user: 'u', authMethod: 'publickey', target: 't', login: 'root', client: '127.0.0.1:1', startedAt: '2026-01-01T00:00:00.000Z', recording: '/r/s' };

describe('cluster protocol', () => {
  it('accepts the messages each side sends', () => {
    expect(parseToWorker({ t: 'gh:kill', req: 3, id: 'abc', message: 'bye' })).toEqual({ t: 'gh:kill', req: 3, id: 'abc', message: 'bye' });
    expect(parseToWorker({ t: 'gh:watch', req: 4, id: 'abc', credit: 32 })).toEqual({ t: 'gh:watch', req: 4, id: 'abc', credit: 32 });
    expect(parseToWorker({ t: 'gh:policy-reload', trigger: 'sighup', digest: 'd' })).toEqual({ t: 'gh:policy-reload', trigger: 'sighup', digest: 'd' });
    expect(parseToWorker({ t: 'gh:shutdown' })).toEqual({ t: 'gh:shutdown' });
    expect(parseFromWorker({ t: 'gh:ready', address: { host: '127.0.0.1', port: 2222 } })).toEqual({ t: 'gh:ready', address: { host: '127.0.0.1', port: 2222 } });
    expect(parseFromWorker({ t: 'gh:watch-msg', watch: 1, message: { type: 'end' } })).toEqual({ t: 'gh:watch-msg', watch: 1, message: { type: 'end' } });
    expect(parseFromWorker({ t: 'gh:failed', error: 'x', policyIssues: ['a:1:1: bad'] })).toEqual({ t: 'gh:failed', error: 'x', policyIssues: ['a:1:1: bad'] });
    expect(parseFromWorker({ t: 'gh:reply', req: 9, body: null })).toEqual({ t: 'gh:reply', req: 9, body: null });
  });

  it('refuses wrong shapes and foreign messages', () => {
    const bad: unknown[] = [
      null,
      'gh:shutdown',
      [],
      { type: 'prom-client:getMetricsReq', requestId: 1 },
      { cmd: 'NODE_CLUSTER' },
      { t: 'gh:kill', req: -1, id: 'a', message: 'm' },
      { t: 'gh:kill', req: 1.5, id: 'a', message: 'm' },
      { t: 'gh:kill', req: 1, id: 'x'.repeat(5000), message: 'm' },
      { t: 'gh:watch', req: 1, id: 'a' },
      { t: 'gh:policy-reload', trigger: 'reboot', digest: 'd' },
      { t: 'gh:unknown' },
    ];
    for (const b of bad) expect(parseToWorker(b)).toBeUndefined();
    const badFrom: unknown[] = [
      { t: 'gh:ready', address: { host: 'h', port: 70000 } },
      { t: 'gh:ready' },
      { t: 'gh:reply', req: 1 },
      { t: 'gh:watch-msg', watch: 1, message: { type: 'exec', cmd: 'rm' } },
      { t: 'gh:failed', error: 'x', policyIssues: [1] },
      { t: 'gh:session-open', id: 'a' },
    ];
    for (const b of badFrom) expect(parseFromWorker(b)).toBeUndefined();
  });

  it('never throws on random input', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const values = (): unknown => [undefined, null, 0, -1, 1.5, 2 ** 60, '', 'gh:get', 'x'.repeat(10_000), {}, [], { type: 'end' }, { host: 'h', port: 1 }][rand(13)];
    const keys = ['t', 'req', 'id', 'message', 'watch', 'n', 'credit', 'trigger', 'digest', 'address', 'body', 'error', 'policyIssues', 'config', 'worker', 'dir'];
    const kinds = ['gh:init', 'gh:list', 'gh:get', 'gh:kill', 'gh:metrics', 'gh:watch', 'gh:watch-credit', 'gh:watch-close', 'gh:policy-reload', 'gh:shutdown', 'gh:hello', 'gh:ready', 'gh:failed', 'gh:reply', 'gh:session-open', 'gh:session-end', 'gh:watch-msg', 'gh:watch-end'];
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const m: Record<string, unknown> = { t: kinds[rand(kinds.length)] };
      for (let k = rand(5); k > 0; k--) m[keys[rand(keys.length)] ?? 't'] = values();
      // A throw fails the test; count what parsed so the generator is known to reach both outcomes.
      if (parseToWorker(m) !== undefined) parsed++;
      if (parseFromWorker(m) !== undefined) parsed++;
      parseSessionSummary(m);
    }
    expect(parsed).toBeGreaterThan(0);
    expect(parsed).toBeLessThan(6000);
  });

  it('keeps only the known fields of a session summary', () => {
    expect(parseSessionSummary({ ...summary, worker: 2, pid: 10, extra: '<script>' })).toEqual({ ...summary, worker: 2, pid: 10 });
    expect(parseSessionSummary({ ...summary, worker: 'two' })).toBeUndefined();
    expect(parseSessionSummary({ ...summary, user: 5 })).toBeUndefined();
  });
});
