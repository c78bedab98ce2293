import { randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createOpener, createSealer } from '../../../src/transport/ciphers/index.js';
import { allCombos, keysFor, receive } from './helpers.js';

describe('sealInto: several packets sealed into one buffer', () => {
  for (const c of allCombos()) {
    it(c.label, () => {
      const keys = keysFor(c);
      const mac = c.mac?.name ?? null;
      const sealer = createSealer(c.cipher.name, mac, keys);
      const payloads = Array.from({ length: 12 }, (_, i) => new Uint8Array(randomBytes(i === 0 ? 0 : randomInt(0, 5000))));
      const lead = randomInt(0, 9);
      const total = lead + payloads.reduce((n, p) => n + sealer.sealedLength(p.length), 0);
      const batch = new Uint8Array(total + 3).fill(0xee);
      let offset = lead;
      payloads.forEach((p, seq) => {
        const n = sealer.sealInto(seq, p, batch, offset);
        expect(n).toBe(sealer.sealedLength(p.length));
        offset += n;
      });
      // nothing written outside the packets
      expect(batch.subarray(0, lead).every((b) => b === 0xee)).toBe(true);
      expect(batch.subarray(total).every((b) => b === 0xee)).toBe(true);
      const opener = createOpener(c.cipher.name, mac, keys);
      let at = lead;
      payloads.forEach((p, seq) => {
        const rest = batch.subarray(at, total);
        const len = 4 + opener.packetLength(seq, rest.subarray(0, opener.headerLength)) + opener.trailerLength;
        expect(Buffer.from(opener.open(seq, rest.subarray(0, len)))).toEqual(Buffer.from(p));
        at += len;
      });
      expect(at).toBe(total);
      // seal() and sealInto() interleave on one stream (CTR and GCM state carries across)
      const next = sealer.seal(payloads.length, new Uint8Array([1, 2, 3]));
      expect(next.length).toBe(sealer.sealedLength(3));
      expect(Array.from(receive(opener, payloads.length, next))).toEqual([1, 2, 3]);
    });
  }
});

describe('sealing a message header and its data as two parts', () => {
  for (const c of allCombos()) {
    it(`opens to header || data, the same as one payload: ${c.label}`, () => {
      const keys = keysFor(c);
      const mac = c.mac?.name ?? null;
      const sealer = createSealer(c.cipher.name, mac, keys);
      const opener = createOpener(c.cipher.name, mac, keys);
      for (let seq = 0; seq < 6; seq++) {
        const header = new Uint8Array(randomBytes(seq === 0 ? 1 : 9));
        const data = new Uint8Array(randomBytes(seq === 5 ? 0 : randomInt(0, 40000)));
        const whole = Buffer.concat([header, data]);
        const packet = sealer.seal(seq, header, data);
        expect(packet.length).toBe(sealer.sealedLength(whole.length));
        expect(Buffer.from(receive(opener, seq, packet))).toEqual(whole);
      }
    });
  }
});

describe('sealParts: a packet as parts for a gathered write', () => {
  for (const c of allCombos()) {
    const probe = createSealer(c.cipher.name, c.mac?.name ?? null, keysFor(c));
    if (probe.sealParts === undefined) continue;
    it(`the parts concatenated open like seal()'s packet, interleaved with sealInto: ${c.label}`, () => {
      const keys = keysFor(c);
      const mac = c.mac?.name ?? null;
      const sealer = createSealer(c.cipher.name, mac, keys);
      const opener = createOpener(c.cipher.name, mac, keys);
      for (let seq = 0; seq < 8; seq++) {
        const header = new Uint8Array(randomBytes(9));
        const data = new Uint8Array(randomBytes(seq === 3 ? 0 : randomInt(0, 70000)));
        const whole = Buffer.concat([header, data]);
        let packet: Uint8Array;
        if (seq % 2 === 0) {
          const parts: Uint8Array[] = [new Uint8Array([7])];
          const n = sealer.sealParts?.(seq, header, parts, seq === 4 ? undefined : data) ?? -1;
          // appended after what the array already held; the parts are the caller's to keep
          expect(parts[0]).toEqual(new Uint8Array([7]));
          packet = Buffer.concat(parts.slice(1));
          expect(n).toBe(packet.length);
          if (seq === 4) {
            expect(Buffer.from(receive(opener, seq, packet))).toEqual(Buffer.from(header));
            continue;
          }
        } else {
          packet = new Uint8Array(sealer.sealedLength(whole.length));
          sealer.sealInto(seq, header, packet, 0, data);
        }
        expect(packet.length).toBe(sealer.sealedLength(whole.length));
        expect(Buffer.from(receive(opener, seq, packet))).toEqual(whole);
      }
    });
  }
});
