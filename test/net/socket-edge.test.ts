import { connect, createServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SocketEdge } from '../../src/net/socket-edge.js';

/** A byte stream that is not a socket (like the SSH channel an inner connection runs over), recording each write. */
function recordingStream(): { stream: Duplex; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      writes.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, writes };
}

const noEvents = { data() {}, drain() {}, closed() {} };

describe('SocketEdge', () => {
  it('over a stream that is not a socket, hands everything queued in one tick over as ONE write', async () => {
    const { stream, writes } = recordingStream();
    const edge = new SocketEdge(stream, noEvents);
    edge.write(Uint8Array.of(1, 2));
    edge.writeParts([Uint8Array.of(3), new Uint8Array(0), Uint8Array.of(4, 5, 6)]);
    edge.write(Uint8Array.of(7));
    await Promise.resolve();
    expect(writes).toEqual([Buffer.from([1, 2, 3, 4, 5, 6, 7])]);
    expect(edge.bytesOut).toBe(7);
    // a lone part goes out as it is
    edge.writeParts([Uint8Array.of(8)]);
    await Promise.resolve();
    expect(writes[1]).toEqual(Buffer.from([8]));
  });

  it('over a TCP socket, writes the parts gathered, in order', async () => {
    const received: Buffer[] = [];
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    const server = createServer((s) => {
      s.on('data', (d: Buffer) => received.push(d));
      s.on('end', () => resolveDone());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const socket: Socket = connect(port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const edge = new SocketEdge(socket, noEvents);
    edge.writeParts([Uint8Array.of(1), Uint8Array.of(2, 3)]);
    edge.write(Uint8Array.of(4));
    edge.writeParts([Uint8Array.of(5)]);
    edge.close();
    await done;
    server.close();
    expect(Buffer.concat(received)).toEqual(Buffer.from([1, 2, 3, 4, 5]));
  });

  it('over a TCP socket, gathers what callbacks of one loop iteration queued into one write', async () => {
    const server = createServer((s) => s.resume());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    const socket: Socket = connect(typeof address === 'object' && address !== null ? address.port : 0, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const edge = new SocketEdge(socket, noEvents);
    let gatheredWrites = 0;
    const uncork = socket.uncork.bind(socket);
    socket.uncork = () => {
      gatheredWrites++;
      uncork();
    };
    // two socket reads handled in one poll: microtasks run between them, the write waits for both
    edge.writeParts([Uint8Array.of(1), Uint8Array.of(2)]);
    await Promise.resolve();
    edge.writeParts([Uint8Array.of(3), Uint8Array.of(4)]);
    expect(gatheredWrites).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(gatheredWrites).toBe(1);
    expect(edge.bytesOut).toBe(4);
    socket.destroy();
    server.close();
  });
});
