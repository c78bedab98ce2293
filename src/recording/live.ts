/**
 * Live watch: a per-session broadcaster of recording events. Each subscriber has its own
 * bounded queue; a subscriber that falls behind is dropped (told so once, then ended) rather
 * than slowing the session or growing memory. A new subscriber first receives the open
 * channels' headers and a bounded tail of recent events so the viewer has context.
 */
import type { CastEvent, CastHeader } from './asciicast.js';

export type LiveMessage =
  | { readonly type: 'channel-open'; readonly channel: number; readonly header: CastHeader }
  | { readonly type: 'event'; readonly channel: number; readonly event: CastEvent }
  | { readonly type: 'channel-close'; readonly channel: number }
  | { readonly type: 'end' }
  | { readonly type: 'dropped'; readonly reason: 'slow-subscriber' };

export interface LiveBroadcasterOptions {
  /** Per-subscriber bound, in characters of event data (plus a fixed cost per message). Default 1 MiB. */
  readonly maxQueuedPerSubscriber?: number;
  /** Recent events kept for catch-up, in characters. Default 64 KiB. */
  readonly catchUpChars?: number;
}

const MESSAGE_COST = 64;

function weight(m: LiveMessage): number {
  return MESSAGE_COST + (m.type === 'event' ? m.event.data.length : 0);
}

export class LiveSubscription implements AsyncIterable<LiveMessage> {
  private queue: LiveMessage[] = [];
  private queuedWeight = 0;
  private waiter: ((m: LiveMessage | undefined) => void) | null = null;
  private ended = false;

  constructor(
    private readonly max: number,
    private readonly onClose: (s: LiveSubscription) => void,
  ) {}

  /** Internal: enqueue; returns false if the subscriber was dropped for being slow. */
  deliver(m: LiveMessage): boolean {
    if (this.ended) return false;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(m);
      if (m.type === 'end') this.finish();
      return true;
    }
    const w = weight(m);
    if (this.queuedWeight + w > this.max && m.type !== 'end') {
      // Replace what is queued by a single notice: the viewer learns it lost the stream.
      this.queue = [{ type: 'dropped', reason: 'slow-subscriber' }];
      this.queuedWeight = MESSAGE_COST;
      this.finish();
      return false;
    }
    this.queue.push(m);
    this.queuedWeight += w;
    if (m.type === 'end') this.finish();
    return true;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** The next message, or undefined when the stream is over. */
  next(): Promise<LiveMessage | undefined> {
    const m = this.queue.shift();
    if (m) {
      this.queuedWeight -= weight(m);
      return Promise.resolve(m);
    }
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  close(): void {
    this.queue = [];
    this.queuedWeight = 0;
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.onClose(this);
    if (this.waiter && this.queue.length === 0) {
      const w = this.waiter;
      this.waiter = null;
      w(undefined);
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LiveMessage> {
    for (;;) {
      const m = await this.next();
      if (m === undefined) return;
      yield m;
    }
  }
}

export class LiveBroadcaster {
  private readonly subs = new Set<LiveSubscription>();
  private readonly headers = new Map<number, CastHeader>();
  private recent: LiveMessage[] = [];
  private recentChars = 0;
  private ended = false;
  private readonly maxPerSub: number;
  private readonly catchUp: number;
  /** Subscribers dropped for being slow, for metrics. */
  droppedSubscribers = 0;

  constructor(opts: LiveBroadcasterOptions = {}) {
    this.maxPerSub = opts.maxQueuedPerSubscriber ?? 1024 * 1024;
    this.catchUp = opts.catchUpChars ?? 64 * 1024;
  }

  get subscriberCount(): number {
    return this.subs.size;
  }

  publish(m: LiveMessage): void {
    if (this.ended) return;
    switch (m.type) {
      case 'channel-open':
        this.headers.set(m.channel, m.header);
        break;
      case 'channel-close':
        this.headers.delete(m.channel);
        this.recent = this.recent.filter((r) => !(r.type === 'event' && r.channel === m.channel));
        this.recentChars = this.recent.reduce((n, r) => n + weight(r), 0);
        break;
      case 'event':
        this.recent.push(m);
        this.recentChars += weight(m);
        while (this.recentChars > this.catchUp && this.recent.length > 1) {
          const old = this.recent.shift();
          if (old) this.recentChars -= weight(old);
        }
        break;
      case 'end':
        this.ended = true;
        break;
      case 'dropped':
        return;
      default: {
        const never: never = m;
        throw new Error(`unknown live message ${String(never)}`);
      }
    }
    for (const s of [...this.subs]) {
      if (!s.deliver(m)) this.droppedSubscribers++;
    }
  }

  subscribe(): LiveSubscription {
    const s = new LiveSubscription(this.maxPerSub + this.catchUp + 16 * MESSAGE_COST, (x) => this.subs.delete(x));
    for (const [channel, header] of this.headers) s.deliver({ type: 'channel-open', channel, header });
    for (const m of this.recent) s.deliver(m);
    if (this.ended) s.deliver({ type: 'end' });
    else this.subs.add(s);
    return s;
  }
}
