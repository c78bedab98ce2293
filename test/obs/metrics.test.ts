import { describe, expect, it } from 'vitest';
import { EventHub } from '../../src/obs/events.js';
import { createLogger } from '../../src/obs/logger.js';
import { exposeAggregated, GatehouseMetrics, parseMetricsSnapshot } from '../../src/obs/metrics.js';
import { observe } from '../../src/obs/subscriber.js';

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no series ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

describe('metrics', () => {
  it('exposes every gatehouse metric and process metrics', async () => {
    const { body, contentType } = await new GatehouseMetrics().expose();
    expect(contentType).toMatch(/^text\/plain/);
    for (const name of [
      'gatehouse_connections_total',
      'gatehouse_auth_total',
      'gatehouse_policy_decisions_total',
      'gatehouse_active_sessions',
      'gatehouse_relayed_bytes_total',
      'gatehouse_target_dial_seconds',
      'gatehouse_handshake_seconds',
      'gatehouse_recording_failures_total',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(body).toContain(`# TYPE ${name} `);
    }
  });

  it('moves with events emitted through the hub', async () => {
    const metrics = new GatehouseMetrics({ defaultMetrics: false });
    const hub = new EventHub();
    observe(hub, createLogger({ level: 'silent' }), metrics);
    hub.emit({ type: 'connection.open', connectionId: 'c', remoteAddress: '127.0.0.1', remotePort: 1, localPort: 2 });
    hub.emit({ type: 'auth.result', connectionId: 'c', user: 'alice', method: 'publickey', result: 'success', reason: 'key' });
    hub.emit({ type: 'auth.result', connectionId: 'c', user: 'bob', method: 'publickey', result: 'failure', reason: 'unknown key' });
    hub.emit({ type: 'policy.decision', user: 'a', target: 't', login: 'l', action: 'shell', result: 'allow', rule: 'r', reason: 'ok' });
    hub.emit({ type: 'session.start', sessionId: 's', connectionId: 'c', user: 'a', target: 't', login: 'l', authMethod: 'publickey' });
    hub.emit({ type: 'relay.bytes', direction: 'client-to-target', bytes: 1000 });
    hub.emit({ type: 'relay.bytes', direction: 'target-to-client', bytes: 24 });
    hub.emit({ type: 'relay.bytes', direction: 'client-to-target', bytes: 24 });
    hub.emit({ type: 'target.dial', target: 't', seconds: 0.003, ok: true });
    hub.emit({ type: 'handshake.complete', seconds: 0.02, side: 'inbound' });
    hub.emit({ type: 'recording.failure', sessionId: 's', error: 'EROFS', action: 'end' });
    let { body } = await metrics.expose();
    expect(value(body, 'gatehouse_connections_total')).toBe(1);
    expect(value(body, 'gatehouse_auth_total{method="publickey",result="success"}')).toBe(1);
    expect(value(body, 'gatehouse_auth_total{method="publickey",result="failure"}')).toBe(1);
    expect(value(body, 'gatehouse_policy_decisions_total{result="allow"}')).toBe(1);
    expect(value(body, 'gatehouse_policy_decisions_total{result="deny"}')).toBe(0);
    expect(value(body, 'gatehouse_active_sessions')).toBe(1);
    expect(value(body, 'gatehouse_relayed_bytes_total{direction="client-to-target"}')).toBe(1024);
    expect(value(body, 'gatehouse_relayed_bytes_total{direction="target-to-client"}')).toBe(24);
    expect(value(body, 'gatehouse_target_dial_seconds_count{result="ok"}')).toBe(1);
    expect(value(body, 'gatehouse_handshake_seconds_bucket{le="0.025",side="inbound"}')).toBe(1);
    expect(value(body, 'gatehouse_recording_failures_total')).toBe(1);
    hub.emit({ type: 'session.end', sessionId: 's', reason: 'done', durationMs: 5, bytesToTarget: 1, bytesToClient: 1 });
    ({ body } = await metrics.expose());
    expect(value(body, 'gatehouse_active_sessions')).toBe(0);
  });

  it('a failing subscriber does not break the emitter or the others', () => {
    const hub = new EventHub();
    const seen: string[] = [];
    const errors: unknown[] = [];
    hub.onSubscriberError((e) => errors.push(e));
    hub.subscribe(() => {
      throw new Error('boom');
    });
    hub.subscribe((e) => seen.push(e.type));
    hub.emit({ type: 'relay.bytes', direction: 'client-to-target', bytes: 1 });
    expect(seen).toEqual(['relay.bytes']);
    expect(errors).toHaveLength(1);
  });

  it('two registries do not collide', () => {
    expect(() => [new GatehouseMetrics(), new GatehouseMetrics()]).not.toThrow();
  });
});

describe('metrics of several processes (serve --workers N)', () => {
  it('sums counters, gauges and histograms over the snapshots; policy reloads count once', async () => {
    const procs = [new GatehouseMetrics({ defaultMetrics: false }), new GatehouseMetrics({ defaultMetrics: false }), new GatehouseMetrics({ defaultMetrics: false })];
    procs.forEach((m, i) => {
      for (let n = 0; n <= i; n++) m.record({ type: 'session.start', sessionId: `s${i}${n}`, connectionId: 'c', user: 'u', target: 't', login: 'l', authMethod: 'publickey' });
      m.record({ type: 'relay.bytes', direction: 'target-to-client', bytes: 100 * (i + 1) });
      m.record({ type: 'target.dial', target: 't', seconds: 0.002, ok: true });
      m.record({ type: 'policy.reload', result: 'applied', trigger: 'start', version: 1, files: [], errors: [] });
    });
    const snapshots = await Promise.all(procs.map((m) => m.snapshot()));
    // What crosses the IPC channel is JSON.
    const received = snapshots.map((s) => parseMetricsSnapshot(JSON.parse(JSON.stringify(s))));
    const { body } = await exposeAggregated(received.map((r) => r ?? []));
    expect(value(body, 'gatehouse_active_sessions')).toBe(1 + 2 + 3);
    expect(value(body, 'gatehouse_relayed_bytes_total{direction="target-to-client"}')).toBe(600);
    expect(value(body, 'gatehouse_target_dial_seconds_count{result="ok"}')).toBe(3);
    expect(value(body, 'gatehouse_policy_reloads_total{result="applied"}')).toBe(1);
  });

  it('refuses a snapshot that is not prom-client JSON', () => {
    for (const bad of [null, {}, [1], [{ name: 'x', type: 'counter', help: 'h', values: [{ value: 'NaN' }] }], [{ name: 'x', type: 'counter', values: [] }], Array(1001).fill({ name: 'x', type: 'gauge', help: 'h', values: [] })]) {
      expect(parseMetricsSnapshot(bad)).toBeUndefined();
    }
    expect(parseMetricsSnapshot([{ name: 'x', type: 'gauge', help: 'h', values: [{ value: 1, labels: {} }] }])).toHaveLength(1);
  });
});
