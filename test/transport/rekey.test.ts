/**
 * Rekeying (RFC 4253 §9) started by either side, by byte and packet volume and by time, with
 * payloads flowing both ways around it: nothing lost, order kept.
 */
import { describe, expect, it } from 'vitest';
import { Msg } from '../../src/wire/index.js';
import { eventsOf, makePair, type Pair } from './support/pair.js';

function data(tag: number, seq: number, size = 200): Uint8Array {
  const p = new Uint8Array(size);
  p[0] = Msg.CHANNEL_DATA;
  p[1] = tag;
  new DataView(p.buffer).setUint32(2, seq);
  return p;
}

function seqs(payloads: Uint8Array[]): number[] {
  return payloads.map((p) => new DataView(p.buffer, p.byteOffset).getUint32(2));
}

function ready(p: Pair): void {
  p.client.t.start();
  p.server.t.start();
  p.pump();
  expect(eventsOf(p.client, 'kex-complete')).toHaveLength(1);
}

/** Sends `rounds` batches both ways, pumping after each, optionally calling `between` first. */
function stream(p: Pair, rounds: number, between?: (round: number) => void): void {
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    between?.(r);
    for (let i = 0; i < 5; i++) {
      p.client.t.send(data(1, n));
      p.server.t.send(data(2, n));
      n++;
    }
    p.pump();
  }
}

describe('rekeying', () => {
  it('by bytes: a 16 KiB limit on the client rekeys repeatedly and loses nothing', () => {
    const p = makePair({ client: { rekeyBytes: 16 * 1024 } });
    ready(p);
    stream(p, 60);
    const kexes = eventsOf(p.client, 'kex-complete');
    expect(kexes.length).toBeGreaterThan(3);
    expect(kexes.slice(1).every((k) => !k.initial)).toBe(true);
    // the session id stays that of the first exchange (RFC 4253 §7.2)
    expect(new Set(kexes.map((k) => Buffer.from(k.sessionId).toString('hex'))).size).toBe(1);
    expect(seqs(p.server.payloads)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(seqs(p.client.payloads)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(eventsOf(p.server, 'disconnect')).toEqual([]);
  });

  it('by packets: a 40-packet limit on the server', () => {
    const p = makePair({ server: { rekeyPackets: 40 } });
    ready(p);
    stream(p, 40);
    expect(eventsOf(p.server, 'kex-complete').length).toBeGreaterThan(3);
    expect(seqs(p.server.payloads)).toHaveLength(200);
    expect(seqs(p.client.payloads)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('explicit rekey() from either side, with payloads sent while KEXINITs are in flight', () => {
    for (const who of ['client', 'server'] as const) {
      for (const cipher of ['chacha20-poly1305@openssh.com', 'aes128-gcm@openssh.com', 'aes256-ctr']) {
        const p = makePair({ client: { algorithms: { cipher: [cipher] } }, server: { algorithms: { cipher: [cipher] } } });
        ready(p);
        stream(p, 10, (r) => {
          if (r % 3 === 1) p[who].t.rekey();
        });
        expect(eventsOf(p.client, 'kex-complete')).toHaveLength(4);
        expect(seqs(p.server.payloads)).toEqual(Array.from({ length: 50 }, (_, i) => i));
        expect(seqs(p.client.payloads)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      }
    }
  });

  it('both sides starting a rekey at once still converge', () => {
    const p = makePair();
    ready(p);
    p.client.t.rekey();
    p.server.t.rekey();
    p.client.t.send(data(1, 0));
    p.server.t.send(data(2, 0));
    expect(p.client.t.pendingBytes).toBe(200);
    p.pump();
    expect(eventsOf(p.client, 'kex-complete')).toHaveLength(2);
    expect(eventsOf(p.server, 'kex-complete')).toHaveLength(2);
    expect(p.server.payloads).toHaveLength(1);
    expect(p.client.payloads).toHaveLength(1);
  });

  it('by time through tick(): the first tick stamps, an hour later a rekey starts', () => {
    const p = makePair();
    ready(p);
    p.client.t.tick(1_000);
    p.client.t.tick(1_000 + 59 * 60_000);
    p.pump();
    expect(eventsOf(p.client, 'kex-complete')).toHaveLength(1);
    p.client.t.tick(1_000 + 60 * 60_000);
    p.pump();
    expect(eventsOf(p.client, 'kex-complete')).toHaveLength(2);
    // the interval restarts from the last exchange
    p.client.t.tick(1_000 + 61 * 60_000);
    p.pump();
    expect(eventsOf(p.client, 'kex-complete')).toHaveLength(2);
  });

  it('rekeyIntervalMs 0 disables the time trigger', () => {
    const p = makePair({ client: { rekeyIntervalMs: 0 } });
    ready(p);
    p.client.t.tick(0);
    p.client.t.tick(10 * 3600_000);
    p.pump();
    expect(eventsOf(p.client, 'kex-complete')).toHaveLength(1);
  });
});
