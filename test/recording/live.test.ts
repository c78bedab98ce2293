import { describe, expect, it } from 'vitest';
import { type LiveMessage, LiveBroadcaster } from '../../src/recording/live.js';
import { enc, openTestSession, tempDir } from './helpers.js';

describe('LiveBroadcaster', () => {
  it('delivers header, catch-up and live events, then end', async () => {
    const b = new LiveBroadcaster({ catchUpChars: 1000 });
    b.publish({ type: 'channel-open', channel: 0, header: { version: 2, width: 80, height: 24, timestamp: 1 } });
    b.publish({ type: 'event', channel: 0, event: { timeUs: 1, code: 'o', data: 'before' } });
    const s = b.subscribe();
    b.publish({ type: 'event', channel: 0, event: { timeUs: 2, code: 'o', data: 'after' } });
    b.publish({ type: 'end' });
    const got: LiveMessage[] = [];
    for await (const m of s) got.push(m);
    expect(got.map((m) => m.type)).toEqual(['channel-open', 'event', 'event', 'end']);
    expect(got.flatMap((m) => (m.type === 'event' ? [m.event.data] : []))).toEqual(['before', 'after']);
  });

  it('drops a slow subscriber without affecting the fast one or the publisher', async () => {
    const b = new LiveBroadcaster({ maxQueuedPerSubscriber: 10_000, catchUpChars: 0 });
    const slow = b.subscribe();
    const fast = b.subscribe();
    const fastGot: string[] = [];
    const reader = (async () => {
      for await (const m of fast) if (m.type === 'event') fastGot.push(m.event.data);
    })();
    for (let i = 0; i < 100; i++) {
      b.publish({ type: 'event', channel: 0, event: { timeUs: i, code: 'o', data: 'x'.repeat(1000) } });
      await new Promise((r) => setImmediate(r)); // the fast reader keeps up, the slow one never reads
    }
    b.publish({ type: 'end' });
    await reader;
    expect(fastGot.length).toBe(100);
    expect(b.droppedSubscribers).toBe(1);
    const slowGot: LiveMessage[] = [];
    for await (const m of slow) slowGot.push(m);
    expect(slowGot).toEqual([{ type: 'dropped', reason: 'slow-subscriber' }]);
    expect(b.subscriberCount).toBe(0);
  });

  it('is fed by the session recorder', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const { rec } = await openTestSession(dir);
      const s = rec.live.subscribe();
      const ch = await rec.openChannel({ kind: 'shell', pty: { cols: 90, rows: 20, term: 'xterm' } });
      ch.output(enc('live text'));
      await rec.closeChannel(ch);
      await rec.finish();
      const got: LiveMessage[] = [];
      for await (const m of s) got.push(m);
      expect(got.map((m) => m.type)).toEqual(['channel-open', 'event', 'channel-close', 'end']);
      expect(got[1]).toMatchObject({ type: 'event', event: { code: 'o', data: 'live text' } });
    } finally {
      await cleanup();
    }
  });
});

describe('LiveBroadcaster catch-up from bytes', () => {
  it('decodes output recorded while nobody watched when someone subscribes', async () => {
    const b = new LiveBroadcaster({ catchUpChars: 2000 });
    const buf = new TextEncoder().encode('héllo');
    b.publishBytes(0, 5, 'o', buf);
    buf.fill(0); // the caller reuses its buffer: the broadcaster kept a copy
    for (let i = 0; i < 10; i++) b.publishBytes(0, 10 + i, 'o', new TextEncoder().encode(`line ${i}\n`));
    const s = b.subscribe();
    b.publish({ type: 'end' });
    const data: string[] = [];
    for await (const m of s) if (m.type === 'event') data.push(m.event.data);
    expect(data[0]).toBe('héllo');
    expect(data.at(-1)).toBe('line 9\n');
  });
});

describe('LiveBroadcaster catch-up ring', () => {
  it('catch-up is exactly the newest output that fits, across wrap-around, growth and closed channels (fuzz)', async () => {
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 69069 + 1) >>> 0;
      return seed / 0x100000000;
    };
    for (let iter = 0; iter < 40; iter++) {
      const catchUp = 500 + Math.floor(rnd() * 5000);
      const b = new LiveBroadcaster({ catchUpChars: catchUp });
      for (const ch of [0, 1]) b.publish({ type: 'channel-open', channel: ch, header: { version: 2, width: 80, height: 24, timestamp: 1 } });
      const scratch = new Uint8Array(2000);
      // every chunk is one distinct ASCII line, so what the subscriber gets can be checked by content
      const published: { channel: number; text: string }[] = [];
      let open = [0, 1];
      for (let i = 0; i < 200; i++) {
        if (rnd() < 0.02 && open.length > 0) {
          const closing = open[0] ?? 0;
          b.publish({ type: 'channel-close', channel: closing });
          open = open.filter((c) => c !== closing);
          for (let k = published.length - 1; k >= 0; k--) if (published[k]?.channel === closing) published.splice(k, 1);
          continue;
        }
        const channel = open.length === 0 ? 2 : (open[Math.floor(rnd() * open.length)] ?? 0);
        const text = `${i}:${'x'.repeat(Math.floor(rnd() * 1500))}`;
        const n = new TextEncoder().encodeInto(text, scratch).written;
        b.publishBytes(channel, i, 'o', scratch.subarray(0, n));
        scratch.fill(0x3f); // the caller reuses its buffer
        published.push({ channel, text });
      }
      const s = b.subscribe();
      b.publish({ type: 'end' });
      const got: string[] = [];
      for await (const m of s) if (m.type === 'event') got.push(m.event.data);
      // a suffix of what was published (channel-closed output removed), never corrupted; a chunk
      // longer than the whole catch-up keeps its end
      const expected = published.slice(published.length - got.length).map((p) => p.text.slice(-catchUp));
      expect(got, `iteration ${iter}`).toEqual(expected);
      expect(got.length).toBeGreaterThan(0);
    }
  });
});
