/**
 * SshChannel's backpressure contract against a fake connection port: the window is credited
 * only for bytes the consumer took, writes never exceed the peer's window, and EOF/close
 * ordering follows RFC 4254 §5.3.
 */
import { describe, expect, it } from 'vitest';
import type { ChannelRequest } from '../../src/connection/channel-requests.js';
import { type ChannelPort, SshChannel } from '../../src/net/channel-stream.js';

class FakePort implements ChannelPort {
  window = 0;
  maxPacket = 1000;
  sendable = true;
  sent: { data: Uint8Array; stderr: boolean }[] = [];
  events: string[] = [];
  credited = 0;
  remoteWindow() {
    return this.window;
  }
  remoteMaxPacket() {
    return this.maxPacket;
  }
  canSend() {
    return this.sendable;
  }
  sendData(data: Uint8Array, stderr: boolean) {
    if (data.length > this.window) throw new Error('window exceeded');
    if (data.length > this.maxPacket) throw new Error('packet too large');
    this.window -= data.length;
    this.sent.push({ data: data.slice(), stderr });
    this.events.push(stderr ? 'stderr' : 'data');
  }
  sendEof() {
    this.events.push('eof');
  }
  sendClose() {
    this.events.push('close');
  }
  consumed(n: number) {
    this.credited += n;
  }
  request(req: ChannelRequest) {
    this.events.push(req.type === 'exit-status' ? `exit-status ${req.status}` : req.type === 'exit-signal' ? `exit-signal ${req.signal}` : req.type);
    return Promise.resolve(true);
  }
  sentBytes() {
    return this.sent.reduce((a, s) => a + s.data.length, 0);
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('SshChannel', () => {
  it('credits the window only for bytes the consumer read', async () => {
    const port = new FakePort();
    const ch = new SshChannel(0, port, 16 * 1024);
    for (let i = 0; i < 10; i++) ch.onData(new Uint8Array(8192), false);
    await tick();
    // Nobody reads: nothing is credited, so the peer runs out of window.
    expect(port.credited).toBe(0);
    const first = ch.read(8192) as Buffer;
    expect(first.length).toBe(8192);
    await tick();
    expect(port.credited).toBe(8192);
    ch.on('data', () => {});
    await tick();
    expect(port.credited).toBe(81920);
  });

  it('credits stderr consumption too, separately from stdout', async () => {
    const port = new FakePort();
    const ch = new SshChannel(0, port);
    ch.onData(new Uint8Array(100), true);
    ch.onData(new Uint8Array(50), false);
    await tick();
    expect(port.credited).toBe(0);
    ch.stderr.read();
    await tick();
    expect(port.credited).toBe(100);
  });

  it('never sends beyond the peer window and holds the callback until it opens', async () => {
    const port = new FakePort();
    const ch = new SshChannel(0, port);
    port.window = 2500;
    let done = false;
    ch.write(new Uint8Array(6000), () => {
      done = true;
    });
    await tick();
    expect(port.sentBytes()).toBe(2500);
    expect(port.sent.map((s) => s.data.length)).toEqual([1000, 1000, 500]);
    expect(done).toBe(false);
    port.window += 10_000;
    ch.wake();
    await tick();
    expect(port.sentBytes()).toBe(6000);
    expect(done).toBe(true);
  });

  it('stops while the socket is backpressured', async () => {
    const port = new FakePort();
    port.window = 1 << 20;
    port.sendable = false;
    const ch = new SshChannel(0, port);
    ch.write(new Uint8Array(5000));
    await tick();
    expect(port.sentBytes()).toBe(0);
    port.sendable = true;
    ch.wake();
    expect(port.sentBytes()).toBe(5000);
  });

  it('write() reports backpressure when the peer grants no window (memory stays bounded)', async () => {
    const port = new FakePort();
    const ch = new SshChannel(0, port, 16 * 1024);
    let accepted = 0;
    while (ch.write(new Uint8Array(4096))) accepted += 4096;
    expect(accepted).toBeLessThanOrEqual(16 * 1024);
    expect(port.sentBytes()).toBe(0);
  });

  it('sends EOF only after all data, including queued stderr, then CLOSE on destroy', async () => {
    const port = new FakePort();
    const ch = new SshChannel(0, port);
    port.window = 10;
    ch.stderrOut.write(new Uint8Array(15));
    ch.end(new Uint8Array(5));
    await tick();
    expect(port.events).not.toContain('eof');
    port.window = 100;
    ch.wake();
    await tick();
    expect(port.events.filter((e) => e === 'eof')).toHaveLength(1);
    expect(port.events.lastIndexOf('eof')).toBeGreaterThan(port.events.lastIndexOf('data'));
    expect(port.events.lastIndexOf('eof')).toBeGreaterThan(port.events.lastIndexOf('stderr'));
    ch.destroy();
    expect(port.events.at(-1)).toBe('close');
  });

  it('ends the readable on peer EOF and closes without sending CLOSE again after peer CLOSE', async () => {
    const port = new FakePort();
    const ch = new SshChannel(0, port);
    const chunks: Buffer[] = [];
    ch.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => ch.once('end', r));
    const closed = new Promise((r) => ch.once('close', r));
    ch.onData(new TextEncoder().encode('hello'), false);
    ch.onEof();
    await ended;
    expect(Buffer.concat(chunks).toString()).toBe('hello');
    ch.onClose();
    await closed;
    expect(port.events).not.toContain('close');
  });

  it('fails pending writes quietly when the connection dies and keeps the reason', async () => {
    const port = new FakePort();
    const ch = new SshChannel(0, port);
    const errors: Error[] = [];
    ch.on('error', (e) => errors.push(e));
    const err = new Promise<Error | null | undefined>((r) => ch.write(new Uint8Array(10), (e) => r(e)));
    ch.onClose(new Error('connection lost'));
    expect(await err).toBeInstanceOf(Error);
    expect(ch.destroyed).toBe(true);
    expect(ch.closeError?.message).toBe('connection lost');
    await tick();
    expect(errors).toEqual([]);
  });

  it('a write that races the peer CLOSE fails its callback without an uncaught error', async () => {
    const port = new FakePort();
    port.window = 1 << 20;
    const ch = new SshChannel(0, port);
    ch.resume();
    ch.onClose();
    // Without a listener of ours, an 'error' event here would be thrown out of the event loop.
    const results = await Promise.all(
      [ch, ch.stderrOut].map((w) => new Promise<Error | null | undefined>((r) => w.write(new Uint8Array(10), (e) => r(e)))),
    );
    for (const e of results) expect(e).toBeInstanceOf(Error);
    await tick();
    expect(port.sentBytes()).toBe(0);
  });

  it('closeWhenFlushed sends the exit status behind every queued byte of stdout and stderr, then EOF and CLOSE', async () => {
    const port = new FakePort();
    const ch = new SshChannel(0, port, 1024);
    port.window = 100;
    // More stderr than stderrOut's own highWaterMark: part of it waits in the Writable's buffer.
    for (let i = 0; i < 4; i++) ch.stderrOut.write(new Uint8Array(600));
    ch.write(new Uint8Array(700));
    ch.closeWhenFlushed({ status: 3 });
    ch.closeWhenFlushed({ status: 9 }); // idempotent: the first exit is the one sent
    await tick();
    expect(port.events.filter((e) => e.startsWith('exit') || e === 'eof' || e === 'close')).toEqual([]);
    port.window = 1 << 20;
    ch.wake();
    await new Promise<void>((r) => ch.once('close', () => r()));
    const tail = port.events.filter((e) => e !== 'data' && e !== 'stderr');
    expect(tail).toEqual(['exit-status 3', 'eof', 'close']);
    expect(port.events.indexOf('exit-status 3')).toBeGreaterThan(port.events.lastIndexOf('stderr'));
    expect(port.events.indexOf('exit-status 3')).toBeGreaterThan(port.events.lastIndexOf('data'));
    expect(port.sent.filter((x) => x.stderr).reduce((a, x) => a + x.data.length, 0)).toBe(2400);
    expect(port.sent.filter((x) => !x.stderr).reduce((a, x) => a + x.data.length, 0)).toBe(700);
  });

  it('a channel we opened stays open after the peer CLOSE until a paused stderr reader took everything', async () => {
    const port = new FakePort();
    const ch = new SshChannel(0, port, 1024, true);
    const out: number[] = [];
    const err: number[] = [];
    ch.on('data', (c: Buffer) => out.push(c.length));
    ch.stderr.on('data', (c: Buffer) => err.push(c.length));
    ch.stderr.pause(); // a relay paused on a full client window
    ch.onData(new Uint8Array(300), false);
    for (let i = 0; i < 5; i++) ch.onData(new Uint8Array(500), true);
    ch.onEof();
    ch.onClose();
    let closed = false;
    ch.once('close', () => {
      closed = true;
    });
    await tick();
    await tick();
    expect(out).toEqual([300]);
    expect(closed).toBe(false);
    ch.stderr.resume();
    await new Promise<void>((r) => (closed ? r() : ch.once('close', () => r())));
    expect(err.reduce((a, n) => a + n, 0)).toBe(2500);
  });

  it('a channel we opened whose stderr nobody reads still closes after the peer CLOSE', async () => {
    const port = new FakePort();
    const ch = new SshChannel(0, port, 1024, true);
    ch.resume();
    ch.onData(new Uint8Array(100), true);
    ch.onEof();
    ch.onClose();
    await new Promise<void>((r) => ch.once('close', () => r()));
  });

  it('a channel we opened that got EOF and CLOSE before anyone read it emits close only once a reader took the end', async () => {
    // A client that awaits its exec reply before it resumes the channel: the reply, EOF and
    // CLOSE of a short command can all arrive in one read.
    const port = new FakePort();
    const ch = new SshChannel(0, port, 1024, true);
    let closed = false;
    ch.once('close', () => {
      closed = true;
    });
    ch.onEof();
    ch.onClose();
    await tick();
    await tick();
    expect(closed).toBe(false);
    ch.resume();
    ch.stderr.resume();
    await tick();
    await tick();
    expect(closed).toBe(true);
  });

  it('closeWhenFlushed after EOF already went out still sends the exit, then CLOSE', async () => {
    const port = new FakePort();
    const ch = new SshChannel(0, port);
    port.window = 100;
    ch.end(new Uint8Array(10));
    await tick();
    expect(port.events).toContain('eof');
    ch.closeWhenFlushed({ signal: 'TERM' });
    await new Promise<void>((r) => ch.once('close', () => r()));
    expect(port.events.filter((e) => e !== 'data')).toEqual(['eof', 'exit-signal TERM', 'close']);
  });
});
