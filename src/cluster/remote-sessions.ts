/**
 * The primary's SessionDirectory over its workers: the list asks every worker; get, kill and
 * watch go to the worker that announced the session (gh:session-open). A live follow crosses
 * the IPC channel with credit-based flow control: the worker sends a message only against
 * credit, and the primary grants one more each time the HTTP response took one, so a slow
 * viewer stops the flow at the worker, whose bounded subscription then drops the viewer
 * exactly as in a single process.
 */
import type { LiveFeed, SessionDirectory, SessionSummary } from '../gateway/session-routes.js';
import type { LiveMessage } from '../recording/index.js';
import { parseSessionSummary, type WorkerRequest } from './protocol.js';

/** Messages of a follow in flight between a worker and the primary at most. */
export const FOLLOW_CREDIT = 32;

/** What the directory needs from the worker pool. */
export interface WorkerChannel {
  /** Ready workers' ids. */
  workerIds(): number[];
  /** The worker that holds a session, if one announced it. */
  ownerOf(sessionId: string): number | undefined;
  /** Sends a request and waits for its reply body; rejects on timeout or worker exit. */
  request(worker: number, build: (req: number) => WorkerRequest): Promise<unknown>;
  /** Registers a feed for messages of follow `watch` of `worker`, before the request goes out. */
  attachFeed(worker: number, watch: number, feed: RemoteFeed): void;
  detachFeed(worker: number, watch: number): void;
  grant(worker: number, watch: number, n: number): void;
  closeFollow(worker: number, watch: number): void;
  /** A fresh request id (also the follow id of a watch). */
  nextRequestId(): number;
  /** Told about a worker that did not answer a list. */
  onUnanswered(worker: number, error: unknown): void;
}

/** The primary's end of one follow: a queue the worker can fill only up to its credit. */
export class RemoteFeed implements LiveFeed {
  private readonly queue: LiveMessage[] = [];
  private waiter: ((m: LiveMessage | undefined) => void) | undefined;
  private ended = false;

  constructor(
    private readonly grant: (n: number) => void,
    private readonly cancel: () => void,
    /** More than the credit ever granted means the worker broke the protocol. */
    private readonly limit = FOLLOW_CREDIT,
  ) {}

  /** A message from the worker; false (and the feed ends) if it exceeded its credit. */
  push(m: LiveMessage): boolean {
    if (this.ended) return true;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      this.grant(1);
      w(m);
      return true;
    }
    if (this.queue.length >= this.limit) {
      this.close();
      return false;
    }
    this.queue.push(m);
    return true;
  }

  /** The worker ended the follow (or died): what is queued is still delivered. */
  end(): void {
    this.ended = true;
    const w = this.waiter;
    if (w && this.queue.length === 0) {
      this.waiter = undefined;
      w(undefined);
    }
  }

  next(): Promise<LiveMessage | undefined> {
    const m = this.queue.shift();
    if (m) {
      if (!this.ended) this.grant(1);
      return Promise.resolve(m);
    }
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  close(): void {
    if (this.ended) return;
    this.queue.length = 0;
    this.end();
    this.cancel();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LiveMessage> {
    for (;;) {
      const m = await this.next();
      if (m === undefined) return;
      yield m;
    }
  }
}

export function remoteSessions(ch: WorkerChannel): SessionDirectory {
  const one = async (id: string): Promise<SessionSummary | undefined> => {
    const worker = ch.ownerOf(id);
    if (worker === undefined) return undefined;
    return parseSessionSummary(await ch.request(worker, (req) => ({ t: 'gh:get', req, id })));
  };
  return {
    async list() {
      const ids = ch.workerIds();
      const answers = await Promise.allSettled(ids.map((w) => ch.request(w, (req) => ({ t: 'gh:list', req }))));
      const out: SessionSummary[] = [];
      answers.forEach((a, i) => {
        if (a.status === 'rejected') {
          ch.onUnanswered(ids[i] ?? -1, a.reason);
          return;
        }
        if (!Array.isArray(a.value)) return;
        for (const s of a.value) {
          const parsed = parseSessionSummary(s);
          if (parsed) out.push(parsed);
        }
      });
      return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
    },
    get: one,
    async terminate(id, message) {
      const worker = ch.ownerOf(id);
      if (worker === undefined) return false;
      return (await ch.request(worker, (req) => ({ t: 'gh:kill', req, id, message }))) === true;
    },
    async watch(id) {
      const worker = ch.ownerOf(id);
      if (worker === undefined) return undefined;
      const watch = ch.nextRequestId();
      const feed = new RemoteFeed(
        (n) => ch.grant(worker, watch, n),
        () => {
          ch.closeFollow(worker, watch);
          ch.detachFeed(worker, watch);
        },
      );
      ch.attachFeed(worker, watch, feed);
      let found: unknown;
      try {
        found = await ch.request(worker, () => ({ t: 'gh:watch', req: watch, id, credit: FOLLOW_CREDIT }));
      } catch (e) {
        ch.detachFeed(worker, watch);
        throw e;
      }
      if (found !== true) {
        ch.detachFeed(worker, watch);
        return undefined;
      }
      return feed;
    },
  };
}
