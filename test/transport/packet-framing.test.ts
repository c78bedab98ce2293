/**
 * Packet framing: the chunk queue (each byte copied at most once per packet), sequence numbers
 * wrapping at 2^32 (RFC 4253 §6.4) and the 256 KiB cap checked before allocation.
 */
import { describe, expect, it } from 'vitest';
import { createOpener, createSealer } from '../../src/transport/ciphers/index.js';
import { NoneOpener, NoneSealer } from '../../src/transport/ciphers/none-cipher.js';
import { ByteQueue, PacketReader } from '../../src/transport/packet-framing.js';
import { SshProtocolError } from '../../src/wire/index.js';
import { allCombos, keysFor } from './ciphers/helpers.js';
import { seededRandom } from './support/pair.js';

describe('ByteQueue', () => {
  it('takes across chunk boundaries in order, as a view when one chunk holds the bytes', () => {
    const q = new ByteQueue();
    q.push(Uint8Array.of(1, 2, 3));
    q.push(new Uint8Array(0));
    q.push(Uint8Array.of(4, 5));
    q.push(Uint8Array.of(6));
    expect(q.length).toBe(6);
    const first = q.take(2);
    expect(first).toEqual(Uint8Array.of(1, 2));
    expect(q.take(3)).toEqual(Uint8Array.of(3, 4, 5));
    expect(q.takeAll()).toEqual(Uint8Array.of(6));
    expect(q.length).toBe(0);
    expect(() => q.take(1)).toThrow(RangeError);
  });

  it('matches a plain concatenation for random chunkings', () => {
    const rnd = seededRandom(5);
    for (let i = 0; i < 200; i++) {
      const all = rnd(500);
      const q = new ByteQueue();
      let o = 0;
      while (o < all.length) {
        const n = ((rnd(1)[0] ?? 0) % 40) + 1;
        q.push(all.subarray(o, o + n));
        o += n;
      }
      const out: number[] = [];
      while (q.length > 0) out.push(...q.take(Math.min(q.length, ((rnd(1)[0] ?? 0) % 50) + 1)));
      expect(Uint8Array.from(out)).toEqual(all);
    }
  });
});

describe('PacketReader', () => {
  it('yields whole packets fed a byte at a time, with wrapping sequence numbers', () => {
    const sealer = new NoneSealer();
    const r = new PacketReader(new NoneOpener());
    r.seq = 0xffff_fffe;
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const pkt = sealer.seal(0, Uint8Array.of(94, i));
      for (const b of pkt) {
        r.push(Uint8Array.of(b));
        const got = r.next();
        if (got !== null) {
          expect(got.payload).toEqual(Uint8Array.of(94, i));
          seqs.push(got.seq);
        }
      }
    }
    expect(seqs).toEqual([0xffff_fffe, 0xffff_ffff, 0]);
  });

  // Packets inside one read are opened as views, packets split over reads from a scratch buffer
  // shared by all readers: every payload handed out must stay intact after later packets.
  for (const combo of allCombos()) {
    it(`keeps every payload intact across chunkings and interleaved readers: ${combo.label}`, () => {
      const rnd = seededRandom(combo.label.length);
      const keys = keysFor(combo);
      const mac = combo.mac?.name ?? null;
      const sealer = createSealer(combo.cipher.name, mac, keys);
      const payloads: Uint8Array[] = [];
      const wire: Uint8Array[] = [];
      for (let i = 0; i < 40; i++) {
        const size = i % 5 === 0 ? 40000 + i : ((rnd(2)[0] ?? 0) << 4) + 1;
        const p = rnd(size);
        p[0] = 94;
        payloads.push(p);
        wire.push(sealer.seal(i, p));
      }
      const all = Buffer.concat(wire);
      const reader = new PacketReader(createOpener(combo.cipher.name, mac, keys));
      // a second reader opening split packets in between, so the shared scratch is reused
      const other = new PacketReader(new NoneOpener());
      const otherSealer = new NoneSealer();
      const got: Uint8Array[] = [];
      let o = 0;
      while (o < all.length) {
        const n = Math.min(all.length - o, ((rnd(2)[0] ?? 0) * 3) + 1);
        reader.push(all.subarray(o, o + n));
        o += n;
        for (let p = reader.next(); p !== null; p = reader.next()) got.push(p.payload);
        const filler = otherSealer.seal(0, rnd(3000));
        other.push(filler.subarray(0, 100));
        other.push(filler.subarray(100));
        expect(other.next()).not.toBeNull();
      }
      expect(got.length).toBe(payloads.length);
      for (const [i, p] of got.entries()) expect(Buffer.compare(p, payloads[i] ?? new Uint8Array(0))).toBe(0);
      expect(reader.buffered).toBe(0);
    });
  }

  it('refuses a packet_length above 256 KiB from the header alone', () => {
    const r = new PacketReader(new NoneOpener());
    r.push(Uint8Array.of(0x00, 0x04, 0x00, 0x04)); // 262148: aligned, just over the cap
    expect(() => r.next()).toThrow(SshProtocolError);
  });
});
