/**
 * A byte flipped anywhere in an encrypted packet ends the connection with a MAC error (or, where
 * the length is encrypted, a length error), for every cipher and MAC: never a delivered payload.
 */
import { describe, expect, it } from 'vitest';
import { DisconnectReason, Msg } from '../../src/wire/index.js';
import { CIPHER_MACS } from './support/interop-matrix.js';
import { eventsOf, makePair } from './support/pair.js';

describe('byte flips in protected packets', () => {
  for (const { cipher, mac } of CIPHER_MACS) {
    it(`${cipher}${mac === null ? '' : ` + ${mac}`}: every position`, () => {
      const algorithms = { kex: ['curve25519-sha256'], cipher: [cipher], mac: [mac ?? 'hmac-sha2-256-etm@openssh.com'] };
      const payload = new Uint8Array(40).fill(0x5a);
      payload[0] = Msg.CHANNEL_DATA;
      // learn the packet size once
      const probe = makePair({ client: { algorithms }, server: { algorithms } });
      probe.client.t.start();
      probe.server.t.start();
      probe.pump();
      probe.client.t.send(payload);
      const size = probe.client.outbox.reduce((n, c) => n + c.length, 0);
      expect(size).toBeGreaterThan(40);
      const reasons = new Set<number>();
      for (let pos = 0; pos < size; pos++) {
        const p = makePair({ client: { algorithms }, server: { algorithms } });
        p.client.t.start();
        p.server.t.start();
        p.pump();
        p.client.t.send(payload);
        const packet = Uint8Array.from(p.client.outbox.flatMap((c) => [...c]));
        p.client.outbox = [];
        packet[pos] = (packet[pos] ?? 0) ^ (1 << (pos % 8));
        p.server.t.receive(packet);
        // a flipped encrypted length may claim more bytes: feed filler until the cap forces a verdict
        for (let i = 0; i < 5 && !p.server.t.isClosed; i++) p.server.t.receive(new Uint8Array(64 * 1024));
        const d = eventsOf(p.server, 'disconnect');
        expect(p.server.payloads, `position ${pos}`).toEqual([]);
        expect(d, `position ${pos}`).toHaveLength(1);
        const reason = d[0]?.reason ?? -1;
        reasons.add(reason);
        if (reason !== DisconnectReason.MAC_ERROR) {
          expect(reason).toBe(DisconnectReason.PROTOCOL_ERROR);
          expect(d[0]?.description).toMatch(/packet length|padding/);
        }
      }
      expect(reasons.has(DisconnectReason.MAC_ERROR)).toBe(true);
    }, 30_000);
  }
});
