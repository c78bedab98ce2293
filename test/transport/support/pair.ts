/**
 * An in-memory client↔server transport pair: each side's sink queues bytes for the other, and
 * pump() moves them until both are quiet. Events are recorded per side.
 */
import { Transport } from '../../../src/transport/transport.js';
import type { TransportEvent, TransportOptions } from '../../../src/transport/transport-types.js';
import { rawHostKey, type TestKeyKind, testHostKey, testVerifier } from './test-host-keys.js';

export interface Side {
  readonly t: Transport;
  readonly events: TransportEvent[];
  /** Bytes written and not yet delivered to the other side. */
  outbox: Uint8Array[];
  readonly payloads: Uint8Array[];
  /** Calls of the sink's writeParts (with PairOptions.writeParts), and the parts they carried. */
  partsWrites: number;
  parts: number;
}

export interface Pair {
  readonly client: Side;
  readonly server: Side;
  /** Delivers queued bytes both ways until nothing moves; `tap` may rewrite or drop each chunk. */
  pump(tap?: (from: 'client' | 'server', chunk: Uint8Array) => Uint8Array | null): void;
}

export interface PairOptions {
  readonly client?: Partial<TransportOptions>;
  readonly server?: Partial<TransportOptions>;
  readonly hostKey?: TestKeyKind;
  /** Use the independent backend-level host key instead of src/keys (cross-check). */
  readonly rawHostKey?: boolean;
  /** Client: accept the host key from inside the event (default true). */
  readonly autoAccept?: boolean;
  /** Chop delivered chunks into pieces of at most this many bytes. */
  readonly chunk?: number;
  /** Give both sinks writeParts (delivered concatenated, counted in Side.partsWrites). */
  readonly writeParts?: boolean;
  /**
   * Deliver every piece as a borrowed view of one reused buffer (as shared-read.ts does), which
   * is overwritten with garbage as soon as receive() returns.
   */
  readonly borrowed?: boolean;
}

/** A deterministic byte source (xorshift) for cookies, so runs are reproducible. */
export function seededRandom(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  };
}

function side(opts: TransportOptions, autoAccept: boolean, writeParts: boolean): Side {
  const s: { t?: Transport; events: TransportEvent[]; outbox: Uint8Array[]; payloads: Uint8Array[]; partsWrites: number; parts: number } = {
    events: [],
    outbox: [],
    payloads: [],
    partsWrites: 0,
    parts: 0,
  };
  const t = new Transport(
    {
      write: (b) => s.outbox.push(b.slice()),
      ...(writeParts
        ? {
            writeParts: (parts: Uint8Array[]) => {
              s.partsWrites++;
              s.parts += parts.length;
              s.outbox.push(new Uint8Array(Buffer.concat(parts)));
            },
          }
        : {}),
      event: (ev) => {
        s.events.push(ev);
        if (ev.type === 'payload') s.payloads.push(ev.payload.slice());
        if (ev.type === 'host-key' && autoAccept) t.acceptHostKey();
      },
    },
    opts,
  );
  s.t = t;
  return s as Side;
}

export function makePair(o: PairOptions = {}): Pair {
  const hostKey = o.rawHostKey === true ? rawHostKey(o.hostKey ?? 'ed25519') : testHostKey(o.hostKey ?? 'ed25519');
  const server = side({ role: 'server', hostKeys: [hostKey], random: seededRandom(1), ...o.server }, false, o.writeParts === true);
  const client = side({ role: 'client', verifySignature: testVerifier(), random: seededRandom(2), ...o.client }, o.autoAccept ?? true, o.writeParts === true);
  const reused = new Uint8Array(256 * 1024);
  const receive = (to: Side, piece: Uint8Array): void => {
    if (o.borrowed !== true || piece.length > reused.length) {
      to.t.receive(piece);
      return;
    }
    reused.set(piece);
    to.t.receive(reused.subarray(0, piece.length), true);
    reused.fill(0xa5, 0, piece.length);
  };
  const deliver = (from: Side, to: Side, name: 'client' | 'server', tap?: (f: 'client' | 'server', c: Uint8Array) => Uint8Array | null): boolean => {
    if (from.outbox.length === 0) return false;
    const chunks = from.outbox;
    from.outbox = [];
    for (const c of chunks) {
      const b = tap === undefined ? c : tap(name, c);
      if (b === null) continue;
      const step = o.chunk ?? b.length;
      for (let i = 0; i < b.length; i += step) receive(to, b.subarray(i, i + step));
    }
    return true;
  };
  return {
    client,
    server,
    pump(tap) {
      for (let guard = 0; guard < 10_000; guard++) {
        const a = deliver(client, server, 'client', tap);
        const b = deliver(server, client, 'server', tap);
        if (!a && !b) return;
      }
      throw new Error('pump did not settle');
    },
  };
}

export function eventsOf<T extends TransportEvent['type']>(s: Side, type: T): Extract<TransportEvent, { type: T }>[] {
  return s.events.filter((e): e is Extract<TransportEvent, { type: T }> => e.type === type);
}
