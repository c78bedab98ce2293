import { createServer, type Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectSharedReads, takeSharedReads } from '../../src/net/shared-read.js';

const servers: Server[] = [];

/** A loopback server that writes `data` to each connection as soon as it is accepted. */
async function serverSending(data: Buffer): Promise<number> {
  const srv = createServer((s) => {
    s.on('error', () => {});
    s.end(data);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('shared-buffer reads (shared-read.ts)', () => {
  it('bytes read before the consumer attaches are kept, in order, and the rest follows', async () => {
    const data = Buffer.alloc(100_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const socket = connectSharedReads('127.0.0.1', await serverSending(data));
    const closed = new Promise((r) => socket.once('close', r));
    await new Promise((r) => socket.once('connect', r));
    await new Promise((r) => setTimeout(r, 50)); // the server's bytes arrive while nobody reads
    const got: Buffer[] = [];
    expect(takeSharedReads(socket, (chunk) => got.push(Buffer.from(chunk)))).toBe(true);
    expect(Buffer.concat(got).length).toBeGreaterThan(0); // delivered at once, on attach
    await closed;
    expect(Buffer.concat(got).equals(data)).toBe(true);
  });

  it('a socket flooded before anyone reads it is destroyed, not buffered without bound', async () => {
    const socket = connectSharedReads('127.0.0.1', await serverSending(Buffer.alloc(4 * 1024 * 1024)));
    const err = await new Promise<Error | undefined>((r) => {
      socket.once('error', (e) => r(e));
      socket.once('close', () => r(undefined));
    });
    expect(err?.message).toMatch(/arrived before the connection was read/);
  });

  it('other sockets are not taken over', () => {
    expect(takeSharedReads(new Socket(), () => {})).toBe(false);
    expect(takeSharedReads({}, () => {})).toBe(false);
  });
});
