/**
 * One gateway worker of `gatehouse serve --workers N`: waits for its configuration from the
 * primary, then runs the SSH gateway on the shared listener (node:cluster hands it connections)
 * and answers the primary's requests: the session list, kill, live follow (with credit-based
 * flow control so a slow viewer never grows memory), metrics, policy reloads and drain.
 *
 * The state directory, sealing of interrupted recordings and the admin listener belong to the
 * primary. This module is also the program node:cluster runs for each worker (WORKER_ENTRY).
 * Workers ignore SIGINT/SIGTERM/SIGHUP (a terminal or systemd signals the whole
 * process group): they drain when the primary says so, and exit at once if it disappears.
 */
import cluster from 'node:cluster';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GatehouseConfig } from '../config.js';
import type { Gateway } from '../gateway/gateway.js';
import { localSessions } from '../gateway/session-routes.js';
import { openGateway, type OpenedGateway } from '../gateway/start.js';
import { EventHub } from '../obs/events.js';
import { createLogger, type Logger } from '../obs/logger.js';
import { GatehouseMetrics } from '../obs/metrics.js';
import { observe } from '../obs/subscriber.js';
import { formatIssue, PolicyLoadError } from '../policy/errors.js';
import { PolicyStore, type ReloadTrigger } from '../policy/store.js';
import type { LiveSubscription } from '../recording/index.js';
import { type FromWorker, parseToWorker, type ToWorker, type WorkerRequest } from './protocol.js';

/** How long a worker waits for its configuration before giving up. */
const INIT_TIMEOUT_MS = 30_000;
/** A reload that raced with an edit is retried until this worker sees the primary's policy. */
const RELOAD_RETRIES = 10;
const RELOAD_RETRY_MS = 200;

function send(m: FromWorker): void {
  if (!process.connected || !process.send) return;
  try {
    process.send(m);
  } catch {
    // The primary is gone; Node's cluster code ends this process on disconnect.
  }
}

/** Asks for the configuration once listening (a message sent before that would be lost). */
function waitForInit(): Promise<Extract<ToWorker, { t: 'gh:init' }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('no configuration from the primary'));
    }, INIT_TIMEOUT_MS);
    const onMessage = (raw: unknown): void => {
      const m = parseToWorker(raw);
      if (m?.t !== 'gh:init') return;
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(m);
    };
    process.on('message', onMessage);
    send({ t: 'gh:hello' });
  });
}

interface Follow {
  readonly sub: LiveSubscription;
  credit: number;
  wake: (() => void) | undefined;
  closed: boolean;
}

class WorkerRuntime {
  private readonly follows = new Map<number, Follow>();
  private draining = false;

  constructor(
    private readonly worker: number,
    private readonly logger: Logger,
    private readonly metrics: GatehouseMetrics,
    private readonly policy: PolicyStore,
    private readonly opened: OpenedGateway,
  ) {}

  get gateway(): Gateway {
    return this.opened.gateway;
  }

  readonly onMessage = (raw: unknown): void => {
    const m = parseToWorker(raw);
    if (!m) {
      // Node's and prom-client's messages share the channel; only malformed "gh:" ones matter.
      if (typeof raw === 'object' && raw !== null && String((raw as Record<string, unknown>)['t']).startsWith('gh:')) {
        this.logger.warn({ message: String((raw as Record<string, unknown>)['t']).slice(0, 64) }, 'malformed message from the primary ignored');
      }
      return;
    }
    switch (m.t) {
      case 'gh:init':
        return;
      case 'gh:list':
      case 'gh:get':
      case 'gh:kill':
      case 'gh:metrics':
      case 'gh:watch':
        this.answer(m).catch((e: unknown) => {
          this.logger.error({ err: e, request: m.t }, 'worker request failed');
          send({ t: 'gh:reply', req: m.req, body: null });
        });
        return;
      case 'gh:watch-credit': {
        const f = this.follows.get(m.watch);
        if (f) {
          f.credit += m.n;
          f.wake?.();
        }
        return;
      }
      case 'gh:watch-close': {
        const f = this.follows.get(m.watch);
        if (f) {
          f.closed = true;
          f.sub.close();
          f.wake?.();
        }
        return;
      }
      case 'gh:policy-reload':
        this.reloadPolicy(m.trigger, m.digest, 0);
        return;
      case 'gh:shutdown':
        void this.drain();
        return;
      default: {
        const never: never = m;
        throw new Error(`unhandled message ${String(never)}`);
      }
    }
  };

  private async answer(m: WorkerRequest): Promise<void> {
    const sessions = localSessions(this.gateway, { worker: this.worker, pid: process.pid });
    switch (m.t) {
      case 'gh:list':
        return send({ t: 'gh:reply', req: m.req, body: await sessions.list() });
      case 'gh:get':
        return send({ t: 'gh:reply', req: m.req, body: (await sessions.get(m.id)) ?? null });
      case 'gh:kill':
        return send({ t: 'gh:reply', req: m.req, body: await sessions.terminate(m.id, m.message) });
      case 'gh:metrics':
        return send({ t: 'gh:reply', req: m.req, body: await this.metrics.snapshot() });
      case 'gh:watch': {
        const session = this.gateway.registry.get(m.id);
        send({ t: 'gh:reply', req: m.req, body: session !== undefined });
        if (session) void this.follow(m.req, session.live.subscribe(), m.credit);
        return;
      }
      default: {
        const never: never = m;
        throw new Error(`unhandled request ${String(never)}`);
      }
    }
  }

  /** Sends the subscription's messages while the primary has granted credit for them. */
  private async follow(watch: number, sub: LiveSubscription, credit: number): Promise<void> {
    const f: Follow = { sub, credit, wake: undefined, closed: false };
    this.follows.set(watch, f);
    try {
      for await (const message of sub) {
        while (f.credit <= 0 && !f.closed) {
          await new Promise<void>((resolve) => {
            f.wake = resolve;
          });
          f.wake = undefined;
        }
        if (f.closed) break;
        f.credit -= 1;
        send({ t: 'gh:watch-msg', watch, message });
        if (message.type === 'end' || message.type === 'dropped') break;
      }
    } finally {
      this.follows.delete(watch);
      sub.close();
      send({ t: 'gh:watch-end', watch });
    }
  }

  /** Re-reads the policy until it is the one the primary applied (an edit may be mid-write). */
  private reloadPolicy(trigger: ReloadTrigger, digest: string, attempt: number): void {
    if (this.draining) return;
    this.policy.reload(trigger);
    if (this.policy.current.digest === digest) return;
    if (attempt >= RELOAD_RETRIES) {
      this.logger.warn({ digest: this.policy.current.digest, primaryDigest: digest }, 'this worker reads a different policy than the primary; keeping its own');
      return;
    }
    setTimeout(() => this.reloadPolicy('watch', digest, attempt + 1), RELOAD_RETRY_MS).unref();
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const live = this.gateway.registry.size;
    await this.opened.close();
    this.policy.close();
    this.logger.info({ endedSessions: live }, 'worker drained');
    // Closes the IPC channel after the last messages; the process exits when its recordings are written.
    cluster.worker?.disconnect();
  }
}

/** The worker's main: never resolves while the worker serves; exits the process on failure. */
export async function runWorker(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});
  const init = await waitForInit().catch((e: unknown) => {
    process.stderr.write(`gatehouse worker: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
  const config: GatehouseConfig = init.config;
  const logger = createLogger({ level: config.logLevel }).child({ worker: init.worker });
  const metrics = new GatehouseMetrics();
  const hub = new EventHub();
  observe(hub, logger, metrics);
  try {
    const policy = new PolicyStore(config.policies, { events: hub.emit });
    const opened = await openGateway(config, { logger, events: hub.emit, policy }, { sealInterrupted: false, revokeBindingsOnReload: false, connectionIdPrefix: `w${init.worker}-` });
    const rt = new WorkerRuntime(init.worker, logger, metrics, policy, opened);
    // The primary keeps the open recordings of each worker, to seal them if the worker dies.
    hub.subscribe((e) => {
      if (e.type === 'session.start') {
        const s = rt.gateway.registry.get(e.sessionId);
        if (s) send({ t: 'gh:session-open', id: s.id, dir: s.recordingDir });
      } else if (e.type === 'session.end') {
        send({ t: 'gh:session-end', id: e.sessionId });
      }
    });
    process.on('message', rt.onMessage);
    send({ t: 'gh:ready', address: opened.address });
  } catch (e) {
    const issues = e instanceof PolicyLoadError ? e.issues.map(formatIssue) : undefined;
    logger.error({ err: e }, 'worker failed to start');
    send({ t: 'gh:failed', error: e instanceof Error ? e.message : String(e), ...(issues ? { policyIssues: issues } : {}) });
    cluster.worker?.disconnect();
    process.exitCode = 1;
  }
}

/** The worker program's path: this module, compiled (dist/src/cluster/worker.js). */
export const WORKER_ENTRY = fileURLToPath(import.meta.url);

function isWorkerEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!cluster.isWorker || !entry) return false;
  try {
    return realpathSync(entry) === realpathSync(WORKER_ENTRY);
  } catch {
    return false;
  }
}

if (isWorkerEntryPoint()) await runWorker();
