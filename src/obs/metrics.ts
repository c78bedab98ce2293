/**
 * Prometheus metrics (prom-client), each in its own registry so several gateways (or tests)
 * in one process do not collide. `record(event)` turns typed core events into metric updates.
 */
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GatehouseEvent } from './events.js';

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop, GC); on by default. */
  readonly defaultMetrics?: boolean;
}

/**
 * How often the event-loop delay histogram (nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,
 * p99}_seconds) takes a sample, ms. prom-client's default is 10: a timer that wakes every gateway
 * process 100 times a second, idle or not. On this project's 2-core VM that was 90% of an idle
 * gateway's CPU (primary and two workers: 10-16 ms of CPU per second, 1-2 with 1,000 ms), and
 * 0.6-1 ms of the CPU the benchmark charges to each session it sets up at 16 per second. At 100
 * the histogram still takes 150 samples in a 15 s scrape interval, and a stall of the loop
 * shows in max and p99 once it is longer than 100 ms or overlaps a sample; the
 * nodejs_eventloop_lag_seconds gauge, measured at each scrape, is unchanged.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/** Latency buckets in seconds, from a LAN dial to a slow KEX on a loaded gateway. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class GatehouseMetrics {
  readonly registry = new Registry();
  readonly connections = new Counter({
    name: 'gatehouse_connections_total',
    help: 'Inbound SSH connections accepted.',
    registers: [this.registry],
  });
  readonly auth = new Counter({
    name: 'gatehouse_auth_total',
    help: 'Authentication results by method and result.',
    labelNames: ['method', 'result'] as const,
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: 'gatehouse_policy_decisions_total',
    help: 'Policy decisions by result (allow, deny).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly activeSessions = new Gauge({
    name: 'gatehouse_active_sessions',
    help: 'Relayed sessions currently open.',
    registers: [this.registry],
  });
  readonly relayedBytes = new Counter({
    name: 'gatehouse_relayed_bytes_total',
    help: 'Bytes relayed by direction (client-to-target, target-to-client).',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  readonly dialSeconds = new Histogram({
    name: 'gatehouse_target_dial_seconds',
    help: 'Time to open the TCP connection to a target.',
    labelNames: ['result'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly handshakeSeconds = new Histogram({
    name: 'gatehouse_handshake_seconds',
    help: 'SSH handshake (version exchange to first NEWKEYS) duration by side.',
    labelNames: ['side'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly recordingFailures = new Counter({
    name: 'gatehouse_recording_failures_total',
    help: 'Recordings that could not be written.',
    registers: [this.registry],
  });
  readonly policyReloads = new Counter({
    name: 'gatehouse_policy_reloads_total',
    help: 'Policy reloads by result (applied, rejected).',
    labelNames: ['result'] as const,
    // With `serve --workers N` every process reloads the same policy: the count is the
    // primary's, not N+1 times it.
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly revokedSessions = new Counter({
    name: 'gatehouse_sessions_revoked_total',
    help: 'Live sessions ended because a reloaded policy no longer allowed them.',
    registers: [this.registry],
  });

  constructor(options: MetricsOptions = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    // Make the labelled series visible at zero before the first event.
    this.relayedBytes.inc({ direction: 'client-to-target' }, 0);
    this.relayedBytes.inc({ direction: 'target-to-client' }, 0);
    this.decisions.inc({ result: 'allow' }, 0);
    this.decisions.inc({ result: 'deny' }, 0);
  }

  readonly record = (e: GatehouseEvent): void => {
    switch (e.type) {
      case 'connection.open':
        this.connections.inc();
        return;
      case 'auth.result':
        this.auth.inc({ method: e.method, result: e.result });
        return;
      case 'oidc.web-login':
        this.auth.inc({ method: 'oidc-web', result: e.result === 'issued' ? 'success' : 'failure' });
        return;
      case 'policy.decision':
        this.decisions.inc({ result: e.result });
        return;
      case 'session.start':
        this.activeSessions.inc();
        return;
      case 'session.end':
        this.activeSessions.dec();
        return;
      case 'session.revoked':
        this.revokedSessions.inc();
        return;
      case 'relay.bytes':
        this.relayedBytes.inc({ direction: e.direction }, e.bytes);
        return;
      case 'target.dial':
        this.dialSeconds.observe({ result: e.ok ? 'ok' : 'failed' }, e.seconds);
        return;
      case 'handshake.complete':
        this.handshakeSeconds.observe({ side: e.side }, e.seconds);
        return;
      case 'recording.failure':
        this.recordingFailures.inc();
        return;
      case 'policy.reload':
        this.policyReloads.inc({ result: e.result });
        return;
      case 'connection.close':
      case 'auth.attempt':
      case 'channel.open':
      case 'channel.close':
        return;
      default: {
        const never: never = e;
        throw new Error(`unknown event ${String(never)}`);
      }
    }
  };

  /** The exposition text for /metrics. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** This process's metrics as prom-client JSON, what a worker hands the primary. */
  snapshot(): Promise<MetricsSnapshot> {
    return this.registry.getMetricsAsJSON();
  }
}

/** One process's metrics, from Registry.getMetricsAsJSON(). */
export type MetricsSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** At most this many metric families per process snapshot (a worker sends ~60). */
const MAX_FAMILIES = 1000;
const MAX_VALUES = 10_000;

/** A snapshot received over IPC, or undefined when it is not shaped like one. */
export function parseMetricsSnapshot(raw: unknown): MetricsSnapshot | undefined {
  if (!Array.isArray(raw) || raw.length > MAX_FAMILIES) return undefined;
  for (const m of raw as unknown[]) {
    if (typeof m !== 'object' || m === null) return undefined;
    const r = m as Record<string, unknown>;
    if (typeof r['name'] !== 'string' || typeof r['type'] !== 'string' || typeof r['help'] !== 'string') return undefined;
    if (!Array.isArray(r['values']) || r['values'].length > MAX_VALUES) return undefined;
    for (const v of r['values'] as unknown[]) {
      if (typeof v !== 'object' || v === null || typeof (v as Record<string, unknown>)['value'] !== 'number') return undefined;
    }
  }
  return raw as MetricsSnapshot;
}

/**
 * The exposition text of several processes' snapshots merged by each metric's aggregator
 * (sum unless the metric says otherwise): counters and gauges of all workers add up.
 */
export async function exposeAggregated(snapshots: readonly MetricsSnapshot[]): Promise<{ contentType: string; body: string }> {
  const registry = AggregatorRegistry.aggregate(snapshots.map((s) => [...s]));
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** The primary's own series with `serve --workers N`. */
export class ClusterMetrics {
  readonly workers: Gauge;
  readonly restarts: Counter;

  constructor(registry: Registry) {
    this.workers = new Gauge({ name: 'gatehouse_workers', help: 'Gateway worker processes ready to accept connections.', registers: [registry] });
    this.restarts = new Counter({ name: 'gatehouse_worker_restarts_total', help: 'Worker processes that died and were replaced.', registers: [registry] });
  }
}
