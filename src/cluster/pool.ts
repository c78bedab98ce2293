/**
 * The primary's gateway workers (node:cluster). They share the SSH listener: the primary holds
 * the socket and hands each accepted connection to the next worker (round-robin, Node's default
 * on Linux). The pool starts them, relays requests to them, keeps which worker holds which
 * session, replaces a worker that dies (sealing the recordings it left open, with a back-off if
 * workers keep dying) and drains them all on stop.
 */
import cluster, { type Worker } from 'node:cluster';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { GatehouseConfig } from '../config.js';
import { withGatewayHeapFlags } from '../gateway/heap-flags.js';
import type { Logger } from '../obs/logger.js';
import type { ClusterMetrics } from '../obs/metrics.js';
import { type RecordingKey, readSessionIndex, sealInterruptedSession } from '../recording/index.js';
import { type FromWorker, parseFromWorker, type ToWorker, type WorkerRequest } from './protocol.js';
import type { RemoteFeed, WorkerChannel } from './remote-sessions.js';

export interface WorkerPoolOptions {
  readonly config: GatehouseConfig;
  readonly logger: Logger;
  readonly count: number;
  /** The worker program (the compiled src/cluster/worker.js). */
  readonly exec: string;
  /** Node flags for the workers (default: this process's). */
  readonly execArgv?: readonly string[];
  /** Where worker log lines go; unset: the workers write to the inherited stdout themselves. */
  readonly destination?: { write(line: string): unknown };
  readonly recordingKey: RecordingKey;
  readonly metrics: ClusterMetrics;
  /** Time a worker gets to start (load state, listen). */
  readonly startTimeoutMs?: number;
  /** Time a worker gets to drain on stop before it is killed. */
  readonly drainTimeoutMs?: number;
}

/** A worker failed to start; `policyIssues` when it read a broken policy. */
export class WorkerStartError extends Error {
  override readonly name = 'WorkerStartError';
  constructor(
    message: string,
    readonly policyIssues: readonly string[] = [],
  ) {
    super(message);
  }
}

interface Pending {
  readonly resolve: (body: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface Entry {
  readonly id: number;
  readonly worker: Worker;
  ready: boolean;
  /** Live sessions: id → recording directory. */
  readonly sessions: Map<string, string>;
  /** Recently ended sessions whose recordings may still be finishing. */
  readonly ended: string[];
  readonly pending: Map<number, Pending>;
  readonly feeds: Map<number, RemoteFeed>;
}

const REQUEST_TIMEOUT_MS = 5000;
const ENDED_KEPT = 256;
/** Restart back-off (restartDelay). */
const CRASH_WINDOW_MS = 60_000;
const MAX_RESTART_DELAY_MS = 30_000;

export class WorkerPool implements WorkerChannel {
  private readonly entries = new Map<number, Entry>();
  private readonly owner = new Map<string, number>();
  private readonly crashes: number[] = [];
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private nextReq = 1;
  private stopping = false;
  private started = false;

  constructor(private readonly opts: WorkerPoolOptions) {}

  /** Forks the workers and resolves with the shared listener's address once all listen. */
  async start(): Promise<{ host: string; port: number }> {
    const starting = Array.from({ length: this.opts.count }, () => this.fork());
    const results = await Promise.allSettled(starting);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason instanceof Error ? failed.reason : new WorkerStartError(String(failed.reason));
    }
    this.started = true;
    const first = results[0];
    if (first?.status !== 'fulfilled') throw new WorkerStartError('no worker started');
    return first.value;
  }

  /** Ready workers, with their process ids. */
  workers(): { id: number; pid: number | undefined }[] {
    return [...this.entries.values()].filter((e) => e.ready).map((e) => ({ id: e.id, pid: e.worker.process.pid }));
  }

  workerIds(): number[] {
    return this.workers().map((w) => w.id);
  }

  ownerOf(sessionId: string): number | undefined {
    return this.owner.get(sessionId);
  }

  nextRequestId(): number {
    this.nextReq = this.nextReq >= Number.MAX_SAFE_INTEGER ? 1 : this.nextReq + 1;
    return this.nextReq;
  }

  request(worker: number, build: (req: number) => WorkerRequest, timeoutMs = REQUEST_TIMEOUT_MS): Promise<unknown> {
    const e = this.entries.get(worker);
    if (!e?.ready) return Promise.reject(new Error(`worker ${worker} is not running`));
    const msg = build(this.nextRequestId());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        e.pending.delete(msg.req);
        reject(new Error(`worker ${worker} did not answer ${msg.t} within ${timeoutMs} ms`));
      }, timeoutMs);
      e.pending.set(msg.req, { resolve, reject, timer });
      this.send(e, msg);
    });
  }

  attachFeed(worker: number, watch: number, feed: RemoteFeed): void {
    this.entries.get(worker)?.feeds.set(watch, feed);
  }

  detachFeed(worker: number, watch: number): void {
    this.entries.get(worker)?.feeds.delete(watch);
  }

  grant(worker: number, watch: number, n: number): void {
    const e = this.entries.get(worker);
    if (e) this.send(e, { t: 'gh:watch-credit', watch, n });
  }

  closeFollow(worker: number, watch: number): void {
    const e = this.entries.get(worker);
    if (e) this.send(e, { t: 'gh:watch-close', watch });
  }

  onUnanswered(worker: number, error: unknown): void {
    this.opts.logger.warn({ worker, err: error }, 'a worker did not answer; its sessions are missing from the list');
  }

  /** Tells every ready worker. */
  broadcast(m: ToWorker): void {
    for (const e of this.entries.values()) if (e.ready) this.send(e, m);
  }

  /** Ends every worker's sessions (recordings sealed) and waits for the workers to exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    const drainMs = this.opts.drainTimeoutMs ?? 30_000;
    await Promise.all(
      [...this.entries.values()].map(async (e) => {
        if (e.worker.isDead()) return;
        const exited = new Promise<void>((resolve) => e.worker.once('exit', () => resolve()));
        if (e.ready) this.send(e, { t: 'gh:shutdown' });
        else e.worker.process.kill('SIGKILL');
        const timer = setTimeout(() => {
          this.opts.logger.warn({ worker: e.id }, 'worker did not drain in time; killing it');
          e.worker.process.kill('SIGKILL');
        }, drainMs);
        await exited;
        clearTimeout(timer);
      }),
    );
    this.opts.metrics.workers.set(0);
  }

  private send(e: Entry, m: ToWorker): void {
    if (!e.worker.isConnected()) return;
    try {
      e.worker.send(m);
    } catch (err) {
      this.opts.logger.debug({ worker: e.id, err }, 'could not message a worker');
    }
  }

  private fork(): Promise<{ host: string; port: number }> {
    cluster.setupPrimary({
      exec: this.opts.exec,
      args: [],
      execArgv: withGatewayHeapFlags(this.opts.execArgv ?? process.execArgv),
      silent: this.opts.destination !== undefined,
    });
    const worker = cluster.fork();
    const e: Entry = { id: worker.id, worker, ready: false, sessions: new Map(), ended: [], pending: new Map(), feeds: new Map() };
    this.entries.set(e.id, e);
    const dest = this.opts.destination;
    if (dest) {
      forwardLines(worker.process.stdout, dest);
      forwardLines(worker.process.stderr, dest);
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | undefined, address?: { host: string; port: number }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else if (address) resolve(address);
      };
      const timer = setTimeout(() => {
        settle(new WorkerStartError(`worker ${e.id} did not start within ${this.opts.startTimeoutMs ?? 60_000} ms`));
        worker.process.kill('SIGKILL');
      }, this.opts.startTimeoutMs ?? 60_000);
      worker.on('message', (raw: unknown) => {
        const m = parseFromWorker(raw);
        if (!m) {
          if (typeof raw === 'object' && raw !== null && String((raw as Record<string, unknown>)['t']).startsWith('gh:')) {
            this.opts.logger.warn({ worker: e.id, message: String((raw as Record<string, unknown>)['t']).slice(0, 64) }, 'malformed message from a worker ignored');
          }
          return;
        }
        if (m.t === 'gh:ready') {
          e.ready = true;
          this.opts.metrics.workers.set(this.workers().length);
          this.opts.logger.info({ worker: e.id, workerPid: worker.process.pid, ssh: `${m.address.host}:${m.address.port}` }, 'worker listening');
          settle(undefined, m.address);
          return;
        }
        if (m.t === 'gh:failed') {
          settle(new WorkerStartError(`worker ${e.id}: ${m.error}`, m.policyIssues ?? []));
          return;
        }
        this.onMessage(e, m);
      });
      worker.on('error', (err) => this.opts.logger.warn({ worker: e.id, err }, 'worker channel error'));
      worker.once('exit', (code: number | null, signal: string | null) => {
        settle(new WorkerStartError(`worker ${e.id} exited (${signal ?? code}) before it was ready`));
        this.onExit(e, code, signal);
      });
    });
  }

  private onMessage(e: Entry, m: Exclude<FromWorker, { t: 'gh:ready' | 'gh:failed' }>): void {
    switch (m.t) {
      case 'gh:hello':
        this.send(e, { t: 'gh:init', config: this.opts.config, worker: e.id });
        return;
      case 'gh:reply': {
        const p = e.pending.get(m.req);
        if (!p) return;
        e.pending.delete(m.req);
        clearTimeout(p.timer);
        p.resolve(m.body);
        return;
      }
      case 'gh:session-open':
        e.sessions.set(m.id, m.dir);
        this.owner.set(m.id, e.id);
        return;
      case 'gh:session-end': {
        const dir = e.sessions.get(m.id);
        e.sessions.delete(m.id);
        if (this.owner.get(m.id) === e.id) this.owner.delete(m.id);
        if (dir !== undefined) {
          e.ended.push(dir);
          if (e.ended.length > ENDED_KEPT) e.ended.shift();
        }
        return;
      }
      case 'gh:watch-msg': {
        const feed = e.feeds.get(m.watch);
        if (feed && !feed.push(m.message)) {
          this.opts.logger.warn({ worker: e.id }, 'a worker sent a live follow more than its credit; follow ended');
        }
        return;
      }
      case 'gh:watch-end':
        e.feeds.get(m.watch)?.end();
        e.feeds.delete(m.watch);
        return;
      default: {
        const never: never = m;
        throw new Error(`unhandled worker message ${String(never)}`);
      }
    }
  }

  private onExit(e: Entry, code: number | null, signal: string | null): void {
    this.entries.delete(e.id);
    this.opts.metrics.workers.set(this.workers().length);
    for (const [, p] of e.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`worker ${e.id} exited`));
    }
    e.pending.clear();
    for (const f of e.feeds.values()) f.end();
    e.feeds.clear();
    for (const id of e.sessions.keys()) if (this.owner.get(id) === e.id) this.owner.delete(id);
    if (this.stopping) {
      this.opts.logger.info({ worker: e.id, code, signal }, 'worker exited');
      return;
    }
    if (!this.started) return; // start() reports it
    this.opts.logger.error({ worker: e.id, workerPid: e.worker.process.pid, code, signal, liveSessions: e.sessions.size }, 'worker died; replacing it');
    this.opts.metrics.restarts.inc();
    void this.sealAfterDeath(e);
    const delay = restartDelay(this.crashes, Date.now());
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.stopping) return;
      this.fork().catch((err: unknown) => this.opts.logger.error({ err }, 'replacement worker failed to start'));
    }, delay);
    this.restartTimers.add(timer);
  }

  /** The dead worker's recordings that are still open are sealed as interrupted. */
  private async sealAfterDeath(e: Entry): Promise<void> {
    for (const dir of [...e.sessions.values(), ...e.ended]) {
      try {
        if ((await readSessionIndex(dir)).state !== 'open') continue;
        await sealInterruptedSession(dir, this.opts.recordingKey);
        this.opts.logger.info({ worker: e.id, recording: dir }, 'sealed a recording the dead worker left open');
      } catch (err) {
        this.opts.logger.warn({ worker: e.id, recording: dir, err }, 'could not seal a recording the dead worker left open');
      }
    }
  }
}

/**
 * Records a worker death at `now` in `crashes` (deaths of the last minute) and returns how long
 * to wait before replacing it: at once for the first, then 0.5 s, 1 s, 2 s … up to 30 s, so a
 * worker that cannot start (a broken host key, a full disk) does not spin the primary.
 */
export function restartDelay(crashes: number[], now: number): number {
  crashes.push(now);
  while (crashes.length > 0 && (crashes[0] ?? now) < now - CRASH_WINDOW_MS) crashes.shift();
  return crashes.length <= 1 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** (crashes.length - 2));
}

function forwardLines(stream: Readable | null, dest: { write(line: string): unknown }): void {
  if (!stream) return;
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => dest.write(`${line}\n`));
}
