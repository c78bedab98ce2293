/**
 * Fuzzing the transport's parsers and the server machine: random and mutated input gives a typed
 * error or a typed disconnect event, never an uncaught exception, a hang or unbounded memory.
 * Bounded iterations with a seeded generator, so failures reproduce.
 */
import { describe, expect, it } from 'vitest';
import { parseExtInfo } from '../../src/transport/ext-info.js';
import { parseKexInitValue, parseKexReply } from '../../src/transport/kex-messages.js';
import { KEX_METHODS } from '../../src/transport/kex-methods.js';
import { encodeKexInit, parseKexInit } from '../../src/transport/kexinit.js';
import { Transport } from '../../src/transport/transport.js';
import { MAX_PACKET_LENGTH, type TransportEvent } from '../../src/transport/transport-types.js';
import { VersionReader } from '../../src/transport/version.js';
import { SshProtocolError, WireError } from '../../src/wire/index.js';
import { makePair, seededRandom } from './support/pair.js';
import { testHostKey } from './support/test-host-keys.js';

const rnd = seededRandom(0xfeed);
const int = (n: number): number => (rnd(4).reduce((a, b) => a * 256 + b, 0) >>> 0) % n;

function mutate(src: Uint8Array): Uint8Array {
  const b = Uint8Array.from(src);
  switch (int(4)) {
    case 0:
      for (let i = 0, n = 1 + int(4); i < n && b.length > 0; i++) b[int(b.length)] = int(256);
      return b;
    case 1:
      return b.subarray(0, int(b.length + 1));
    case 2: {
      const at = int(b.length + 1);
      return Uint8Array.from([...b.subarray(0, at), ...rnd(1 + int(16)), ...b.subarray(at)]);
    }
    default: {
      // a length field blown up
      const at = int(Math.max(1, b.length - 4));
      b.set([0xff, 0xff, int(256), int(256)].slice(0, Math.max(0, b.length - at)), at);
      return b;
    }
  }
}

function typedOnly(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof WireError || e instanceof SshProtocolError)) throw e;
  }
}

describe('parser fuzz', () => {
  const kexinit = encodeKexInit({
    cookie: new Uint8Array(16),
    kex: ['mlkem768x25519-sha256', 'curve25519-sha256', 'ext-info-c'],
    hostKey: ['ssh-ed25519'],
    cipherClientToServer: ['aes128-ctr'],
    cipherServerToClient: ['aes128-ctr'],
    macClientToServer: ['hmac-sha2-256'],
    macServerToClient: ['hmac-sha2-256'],
    compressionClientToServer: ['none'],
    compressionServerToClient: ['none'],
    languagesClientToServer: [],
    languagesServerToClient: [],
    firstKexPacketFollows: false,
  });
  const extInfo = Uint8Array.from([7, 0, 0, 0, 1, 0, 0, 0, 3, 0x61, 0x62, 0x63, 0, 0, 0, 1, 0x78]);

  it('KEXINIT, EXT_INFO, KEX init/reply and version lines: typed errors only', () => {
    for (let i = 0; i < 3000; i++) {
      typedOnly(() => parseKexInit(mutate(kexinit)));
      typedOnly(() => parseKexInit(Uint8Array.from([20, ...rnd(int(300))])));
      typedOnly(() => parseExtInfo(mutate(extInfo)));
      typedOnly(() => parseExtInfo(Uint8Array.from([7, ...rnd(int(64))])));
      const m = KEX_METHODS[i % KEX_METHODS.length];
      if (m !== undefined) {
        typedOnly(() => parseKexInitValue(m, Uint8Array.from([30, ...rnd(int(80))])));
        typedOnly(() => parseKexReply(m, mutate(Uint8Array.from([31, 0, 0, 0, 4, 1, 2, 3, 4, 0, 0, 0, 1, 9, 0, 0, 0, 2, 5, 6]))));
      }
      typedOnly(() => new VersionReader(i % 2 === 0, 5).push(mutate(new TextEncoder().encode('banner\r\nSSH-2.0-OpenSSH_9.2\r\n'))));
      typedOnly(() => new VersionReader(true, 5).push(rnd(int(400))));
    }
  });
});

describe('client transport fuzz', () => {
  it('random banner lines, version lines and packets', () => {
    for (let i = 0; i < 400; i++) {
      const events: TransportEvent[] = [];
      const t = new Transport({ write: () => {}, event: (e) => events.push(e) }, { role: 'client', verifySignature: () => true });
      t.start();
      const banner = new TextEncoder().encode(`${'x'.repeat(int(300))}\r\n`.repeat(int(4)));
      t.receive(i % 3 === 0 ? mutate(banner) : banner);
      t.receive(mutate(new TextEncoder().encode('SSH-2.0-OpenSSH_10.0\r\n')));
      for (let j = 0; j < 1 + int(4); j++) t.receive(rnd(int(1500)));
      expect(events.filter((e) => e.type === 'disconnect').length).toBeLessThanOrEqual(1);
      expect(t.bufferedInput).toBeLessThanOrEqual(MAX_PACKET_LENGTH + 64);
    }
  });
});

describe('server transport fuzz', () => {
  function server(): { t: Transport; events: TransportEvent[] } {
    const events: TransportEvent[] = [];
    const t = new Transport({ write: () => {}, event: (e) => events.push(e) }, { role: 'server', hostKeys: [hostKey] });
    t.start();
    return { t, events };
  }
  const hostKey = testHostKey('ed25519');

  function checkBounded(s: { t: Transport; events: TransportEvent[] }): void {
    const d = s.events.filter((e) => e.type === 'disconnect');
    expect(d.length).toBeLessThanOrEqual(1);
    if (d.length === 1) expect(s.t.isClosed).toBe(true);
    expect(s.t.bufferedInput).toBeLessThanOrEqual(MAX_PACKET_LENGTH + 64);
  }

  it('random bytes after a valid version line', () => {
    for (let i = 0; i < 400; i++) {
      const s = server();
      s.t.receive(new TextEncoder().encode('SSH-2.0-fuzz\r\n'));
      for (let j = 0; j < 1 + int(6); j++) s.t.receive(rnd(int(2000)));
      checkBounded(s);
    }
  });

  it('a huge declared packet length is refused before allocation', () => {
    const s = server();
    s.t.receive(new TextEncoder().encode('SSH-2.0-fuzz\r\n'));
    s.t.receive(Uint8Array.of(0x7f, 0xff, 0xff, 0xf8, 4));
    const d = s.events.find((e) => e.type === 'disconnect');
    expect(d?.type === 'disconnect' && d.description).toMatch(/packet length/);
  });

  it('mutations of a recorded client session', () => {
    // record what a real client sends in a whole session (version, KEXINIT, init, NEWKEYS, payloads)
    const p = makePair();
    p.client.t.start();
    p.server.t.start();
    const recorded: Uint8Array[] = [];
    p.pump((from, chunk) => {
      if (from === 'client') recorded.push(chunk);
      return chunk;
    });
    expect(recorded.length).toBeGreaterThan(1);
    for (let i = 0; i < 600; i++) {
      const s = server();
      for (const [j, chunk] of recorded.entries()) s.t.receive(j === i % recorded.length || int(3) === 0 ? mutate(chunk) : chunk);
      checkBounded(s);
    }
  });
});
