/**
 * Live watch: a per-session broadcaster of recording events. Each subscriber has its own
 * bounded queue; a subscriber that falls behind is dropped (told so once, then ended) rather
 * than slowing the session or growing memory. A new subscriber first receives the open
 * channels' headers and a bounded tail of recent events so the viewer has context.
 */
import type { CastEvent, CastEventCode, CastHeader } from './asciicast.js';
import { StreamingUtf8Decoder } from './utf8-escape.js';

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

/** A catch-up entry kept as bytes while nobody watches (decoded only when someone subscribes). */
interface RawRecent {
  readonly type: 'raw';
  readonly channel: number;
  readonly timeUs: number;
  readonly code: CastEventCode;
  readonly bytes: Uint8Array;
}

function weightOf(m: LiveMessage | RawRecent): number {
  return m.type === 'raw' ? MESSAGE_COST + m.bytes.length : weight(m);
}

export class LiveBroadcaster {
  private readonly subs = new Set<LiveSubscription>();
  private readonly headers = new Map<number, CastHeader>();
  private recent: (LiveMessage | RawRecent)[] = [];
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
        this.recent = this.recent.filter((r) => !((r.type === 'event' || r.type === 'raw') && r.channel === m.channel));
        this.recentChars = this.recent.reduce((n, r) => n + weightOf(r), 0);
        break;
      case 'event':
        this.remember(m);
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

  /**
   * Output while nobody is subscribed: only the catch-up tail needs it, so it is kept as bytes
   * (copied: the caller's buffer may be reused) and decoded if someone subscribes.
   */
  publishBytes(channel: number, timeUs: number, code: CastEventCode, bytes: Uint8Array): void {
    if (this.ended) return;
    if (this.subs.size > 0) {
      this.publish({ type: 'event', channel, event: { timeUs, code, data: new StreamingUtf8Decoder().decode(bytes) } });
      return;
    }
    const keep = bytes.length > this.catchUp ? bytes.subarray(bytes.length - this.catchUp) : bytes;
    // A copy (Buffer#slice would be a view of a buffer the relay reuses).
    this.remember({ type: 'raw', channel, timeUs, code, bytes: new Uint8Array(keep) });
  }

  private remember(m: LiveMessage | RawRecent): void {
    this.recent.push(m);
    this.recentChars += weightOf(m);
    while (this.recentChars > this.catchUp && this.recent.length > 1) {
      const old = this.recent.shift();
      if (old) this.recentChars -= weightOf(old);
    }
  }

  subscribe(): LiveSubscription {
    const s = new LiveSubscription(this.maxPerSub + this.catchUp + 16 * MESSAGE_COST, (x) => this.subs.delete(x));
    for (const [channel, header] of this.headers) s.deliver({ type: 'channel-open', channel, header });
    for (const m of this.recent) {
      if (m.type !== 'raw') s.deliver(m);
      else s.deliver({ type: 'event', channel: m.channel, event: { timeUs: m.timeUs, code: m.code, data: new StreamingUtf8Decoder().decode(m.bytes) } });
    }
    if (this.ended) s.deliver({ type: 'end' });
    else this.subs.add(s);
    return s;
  }
}
