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

/**
 * A catch-up entry kept as bytes while nobody watches (decoded only when someone subscribes):
 * `length` bytes at absolute position `start` of the broadcaster's byte ring.
 */
interface RawRecent {
  readonly type: 'raw';
  readonly channel: number;
  readonly timeUs: number;
  readonly code: CastEventCode;
  readonly start: number;
  readonly length: number;
}

function weightOf(m: LiveMessage | RawRecent): number {
  return m.type === 'raw' ? MESSAGE_COST + m.length : weight(m);
}

/**
 * The bytes of the raw catch-up entries, copied in as they are published (the caller's buffer
 * may be reused) without an allocation per event. Positions are absolute; byte p lives at
 * p % capacity. The catch-up bound keeps every retained entry within the last `catchUp` bytes;
 * the ring starts small and doubles up to that as output accumulates, so a quiet session holds
 * little memory.
 */
class ByteRing {
  private buf = new Uint8Array(0);
  private end = 0;

  constructor(private readonly max: number) {}

  /** Absolute position after the last byte. */
  get position(): number {
    return this.end;
  }

  /**
   * Appends `b` and returns its absolute start. `retained`: how many of the last bytes are still
   * referenced; `retained + b.length` must not exceed `max`.
   */
  append(b: Uint8Array, retained: number): number {
    this.reserve(retained + b.length);
    const cap = this.buf.length;
    const start = this.end;
    const at = start % cap;
    const first = Math.min(b.length, cap - at);
    this.buf.set(b.subarray(0, first), at);
    if (first < b.length) this.buf.set(b.subarray(first), 0);
    this.end += b.length;
    return start;
  }

  /** A copy of `length` bytes from absolute `start` (which must still be within the ring). */
  read(start: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const cap = this.buf.length;
    for (let done = 0; done < length; ) {
      const at = (start + done) % cap;
      const n = Math.min(length - done, cap - at);
      out.set(this.buf.subarray(at, at + n), done);
      done += n;
    }
    return out;
  }

  private reserve(need: number): void {
    if (need <= this.buf.length) return;
    let cap = Math.max(4096, this.buf.length);
    while (cap < need) cap *= 2;
    cap = Math.max(need, Math.min(cap, this.max));
    const next = new Uint8Array(cap);
    // Keep the last bytes (everything still referenced is among them) at their new positions.
    const keep = Math.min(this.buf.length, this.end);
    for (let p = this.end - keep; p < this.end; p++) next[p % cap] = this.buf[p % this.buf.length] as number;
    this.buf = next;
  }
}

export class LiveBroadcaster {
  private readonly subs = new Set<LiveSubscription>();
  private readonly headers = new Map<number, CastHeader>();
  private recent: (LiveMessage | RawRecent)[] = [];
  private recentChars = 0;
  private readonly ring: ByteRing;
  private ended = false;
  private readonly maxPerSub: number;
  private readonly catchUp: number;
  /** Subscribers dropped for being slow, for metrics. */
  droppedSubscribers = 0;

  constructor(opts: LiveBroadcasterOptions = {}) {
    this.maxPerSub = opts.maxQueuedPerSubscriber ?? 1024 * 1024;
    this.catchUp = opts.catchUpChars ?? 64 * 1024;
    this.ring = new ByteRing(this.catchUp);
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
    // Evict first, so the ring only has to hold what stays referenced plus this. After a
    // channel-close removed entries, the oldest raw entry can lie further back than the bytes
    // still referenced add up to: evict until its span fits too.
    this.evict(MESSAGE_COST + keep.length);
    let oldest = this.oldestRawStart();
    while (oldest !== undefined && this.ring.position - oldest + keep.length > this.catchUp) {
      this.evictOne();
      oldest = this.oldestRawStart();
    }
    const start = this.ring.append(keep, oldest === undefined ? 0 : this.ring.position - oldest);
    this.remember({ type: 'raw', channel, timeUs, code, start, length: keep.length });
  }

  private remember(m: LiveMessage | RawRecent): void {
    this.evict(weightOf(m));
    this.recent.push(m);
    this.recentChars += weightOf(m);
  }

  /** Drops the oldest catch-up entries until `incoming` more fits (the newest entry always stays). */
  private evict(incoming: number): void {
    while (this.recentChars + incoming > this.catchUp && this.recent.length > 0) this.evictOne();
  }

  private evictOne(): void {
    const old = this.recent.shift();
    if (old) this.recentChars -= weightOf(old);
  }

  private oldestRawStart(): number | undefined {
    for (const m of this.recent) if (m.type === 'raw') return m.start;
    return undefined;
  }

  subscribe(): LiveSubscription {
    const s = new LiveSubscription(this.maxPerSub + this.catchUp + 16 * MESSAGE_COST, (x) => this.subs.delete(x));
    for (const [channel, header] of this.headers) s.deliver({ type: 'channel-open', channel, header });
    for (const m of this.recent) {
      if (m.type !== 'raw') s.deliver(m);
      else s.deliver({ type: 'event', channel: m.channel, event: { timeUs: m.timeUs, code: m.code, data: new StreamingUtf8Decoder().decode(this.ring.read(m.start, m.length)) } });
    }
    if (this.ended) s.deliver({ type: 'end' });
    else this.subs.add(s);
    return s;
  }
}
