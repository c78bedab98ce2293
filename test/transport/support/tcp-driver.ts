/**
 * A small TCP driver for interop tests: net.Socket ↔ Transport, with TCP_NODELAY and one
 * socket write per sink write. Buffer appears only here, at the socket edge.
 */
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { Transport } from '../../../src/transport/transport.js';
import type { TransportEvent, TransportOptions } from '../../../src/transport/transport-types.js';

export interface DrivenTransport {
  readonly transport: Transport;
  readonly events: TransportEvent[];
  readonly socket: Socket;
  /** Resolves with the first event matching `pred` (or rejects when the connection ends first / times out). */
  waitFor<T extends TransportEvent>(pred: (e: TransportEvent) => e is T, timeoutMs?: number): Promise<T>;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
}

export type EventHook = (ev: TransportEvent, d: DrivenTransport) => void;

function drive(socket: Socket, options: TransportOptions, hook: EventHook | undefined): DrivenTransport {
  socket.setNoDelay(true);
  const events: TransportEvent[] = [];
  const waiters: Array<() => void> = [];
  let closed = false;
  const d = {} as { transport: Transport; events: TransportEvent[]; socket: Socket; waitFor: DrivenTransport['waitFor']; closed: Promise<void> };
  const transport = new Transport(
    {
      write: (b) => {
        if (!socket.destroyed) socket.write(b);
      },
      event: (ev) => {
        events.push(ev);
        hook?.(ev, d);
        if (ev.type === 'disconnect') socket.end();
        for (const w of waiters.splice(0)) w();
      },
    },
    options,
  );
  d.transport = transport;
  d.events = events;
  d.socket = socket;
  d.closed = new Promise((resolve) => {
    socket.once('close', () => {
      closed = true;
      for (const w of waiters.splice(0)) w();
      resolve();
    });
  });
  socket.on('data', (b: Buffer) => transport.receive(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
  socket.on('error', () => socket.destroy());
  d.waitFor = <T extends TransportEvent>(pred: (e: TransportEvent) => e is T, timeoutMs = 20_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; events: ${JSON.stringify(events.map((e) => e.type))}`)), timeoutMs);
      const check = (): void => {
        const hit = events.find(pred);
        if (hit !== undefined) {
          clearTimeout(timer);
          resolve(hit);
        } else if (closed || transport.isClosed) {
          clearTimeout(timer);
          const disc = events.find((e) => e.type === 'disconnect');
          reject(new Error(`connection ended first: ${JSON.stringify(disc ?? 'socket closed')}`));
        } else waiters.push(check);
      };
      check();
    });
  return d as DrivenTransport;
}

/** Listens on 127.0.0.1:0; each accepted socket gets a server Transport made from `options()`. */
export async function listenTransport(
  options: () => TransportOptions,
  hook?: EventHook,
): Promise<{ port: number; server: Server; connections: DrivenTransport[]; close(): Promise<void> }> {
  const connections: DrivenTransport[] = [];
  const server = createServer((socket) => {
    const d = drive(socket, options(), hook);
    connections.push(d);
    d.transport.start();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    server,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Connects to 127.0.0.1:port and starts a client Transport. */
export async function connectTransport(port: number, options: TransportOptions, hook?: EventHook): Promise<DrivenTransport> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const d = drive(socket, options, hook);
  d.transport.start();
  return d;
}

export const isType =
  <K extends TransportEvent['type']>(type: K) =>
  (e: TransportEvent): e is Extract<TransportEvent, { type: K }> =>
    e.type === type;
