/**
 * `gatehouse serve --workers N` (N > 1): the primary process. It does what must happen once
 * (validate the policy, create the state directory's keys and CAs, seal recordings a crash
 * left open, serve the admin listener, watch the policy) and then forks N gateway workers
 * that share the SSH listener (src/cluster/pool.ts, src/cluster/worker.ts).
 *
 * The admin listener is the primary's: /metrics merges every worker's registry with the
 * primary's own (prom-client AggregatorRegistry.aggregate), /api/sessions lists the sessions
 * of every worker and kill/watch reach the worker that holds the session. Recordings go to
 * one directory; session ids carry 64 random bits, so workers never collide.
 */
import type { DestinationStream } from 'pino';
import { registerPolicyRoutes } from '../admin/policy-routes.js';
import { AdminServer } from '../admin/server.js';
import { loadOrCreateAdminToken } from '../admin/token.js';
import type { ServeHandle } from '../cli/serve.js';
import type { GatehouseConfig } from '../config.js';
import { openOidc, registerGatewayRoutes, sealLeftOpen } from '../gateway/start.js';
import { loadGatewayState } from '../gateway/state.js';
import { EventHub } from '../obs/events.js';
import { createLogger } from '../obs/logger.js';
import { ClusterMetrics, exposeAggregated, GatehouseMetrics, type MetricsSnapshot, parseMetricsSnapshot } from '../obs/metrics.js';
import { observe } from '../obs/subscriber.js';
import { PolicyStore } from '../policy/store.js';
import { WorkerPool } from './pool.js';
import { remoteSessions } from './remote-sessions.js';
import { WORKER_ENTRY } from './worker.js';

export interface ClusterServeOptions {
  /** Log destination (stdout by default); worker lines are forwarded to it when set. */
  readonly destination?: DestinationStream;
  /** The worker program (JavaScript); by default the compiled src/cluster/worker.js. */
  readonly workerEntry?: string;
  /** Node flags for the workers; by default this process's. */
  readonly execArgv?: readonly string[];
}

export interface ClusterServeHandle extends ServeHandle {
  /** Ready workers and their process ids. */
  workers(): { id: number; pid: number | undefined }[];
}

const METRICS_TIMEOUT_MS = 2000;

/**
 * What each worker runs with: the connection limits are shared out, since every worker counts
 * only its own connections and round-robin spreads a source's connections over all of them.
 */
export function workerConfig(config: GatehouseConfig): GatehouseConfig {
  const share = (limit: number): number => Math.max(1, Math.ceil(limit / config.workers));
  return { ...config, maxConnections: share(config.maxConnections), maxConnectionsPerSource: share(config.maxConnectionsPerSource) };
}

/** Starts the primary and its workers; throws PolicyLoadError when the policy is broken. */
export async function startClusterServe(config: GatehouseConfig, options: ClusterServeOptions = {}): Promise<ClusterServeHandle> {
  const logger = createLogger({ level: config.logLevel, ...(options.destination ? { destination: options.destination } : {}) });
  const metrics = new GatehouseMetrics();
  const clusterMetrics = new ClusterMetrics(metrics.registry);
  const hub = new EventHub();
  observe(hub, logger, metrics);
  const policy = new PolicyStore(config.policies, { events: hub.emit });
  // Created here, once, before any worker reads them: no two processes race to generate keys.
  const state = await loadGatewayState(config.stateDir);
  const token = loadOrCreateAdminToken(config.stateDir);
  await sealLeftOpen(config, state, logger);
  const pool = new WorkerPool({
    config: workerConfig(config),
    logger,
    count: config.workers,
    exec: options.workerEntry ?? WORKER_ENTRY,
    ...(options.execArgv ? { execArgv: options.execArgv } : {}),
    ...(options.destination ? { destination: options.destination } : {}),
    recordingKey: state.recordingKey,
    metrics: clusterMetrics,
  });
  // Every reload the primary applies (file change, SIGHUP, the admin API) reaches the workers;
  // so does an explicit one that found nothing new, which lets a worker that lagged catch up.
  hub.subscribe((e) => {
    if (e.type !== 'policy.reload' || e.trigger === 'start') return;
    if (e.result === 'applied' || (e.result === 'unchanged' && e.trigger !== 'watch')) {
      pool.broadcast({ t: 'gh:policy-reload', trigger: e.trigger, digest: policy.current.digest });
    }
  });
  const admin = new AdminServer({
    token,
    metrics: async () => {
      const own = await metrics.snapshot();
      const ids = pool.workerIds();
      const answers = await Promise.allSettled(ids.map((w) => pool.request(w, (req) => ({ t: 'gh:metrics', req }), METRICS_TIMEOUT_MS)));
      const snapshots: MetricsSnapshot[] = [own];
      answers.forEach((a, i) => {
        const snap = a.status === 'fulfilled' ? parseMetricsSnapshot(a.value) : undefined;
        if (snap) snapshots.push(snap);
        else logger.warn({ worker: ids[i], err: a.status === 'rejected' ? a.reason : 'malformed metrics' }, 'a worker is missing from /metrics');
      });
      return exposeAggregated(snapshots);
    },
    health: () => ({ policyVersion: policy.current.version, workers: pool.workers() }),
    onError: (err, req) => logger.error({ err, path: req.url }, 'admin route failed'),
  });
  registerPolicyRoutes(admin, policy);
  let address: { host: string; port: number };
  try {
    policy.watch();
    await admin.listen(config.admin.host, config.admin.port);
    logger.info({ url: admin.url(), stateDir: config.stateDir, workers: config.workers }, 'admin listener ready (/metrics, /healthz)');
    const oidc = await openOidc(config, policy, true, logger);
    registerGatewayRoutes(admin, config, { sessions: remoteSessions(pool), state, oidc, events: hub.emit });
    address = await pool.start();
  } catch (e) {
    policy.close();
    await admin.close();
    await pool.stop();
    throw e;
  }
  logger.info({ ssh: `${address.host}:${address.port}`, workers: pool.workers(), hostCa: state.hostCa.publicKeyLine }, 'gateway listening');
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await pool.stop();
    policy.close();
    await admin.close();
  };
  return {
    config,
    logger,
    policy,
    admin,
    gateway: { address, close: () => pool.stop() },
    workers: () => pool.workers(),
    close,
  };
}
