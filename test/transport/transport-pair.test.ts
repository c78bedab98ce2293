/**
 * In-memory client↔server pairs (test/transport/support/pair.ts) for every KEX × cipher/MAC
 * pair and every host key × KEX pair, with payloads crossing both ways afterwards.
 */
import { describe, expect, it } from 'vitest';
import { createSignatureVerifier } from '../../src/keys/signature.js';
import { Msg } from '../../src/wire/index.js';
import { ALL_KEX, CIPHER_MACS, HOST_KEY_ALGS } from './support/interop-matrix.js';
import { eventsOf, makePair } from './support/pair.js';
import type { TestKeyKind } from './support/test-host-keys.js';

const KEY_KIND: Record<string, TestKeyKind> = {
  'ssh-ed25519': 'ed25519',
  'ecdsa-sha2-nistp256': 'ecdsa-p256',
  'ecdsa-sha2-nistp384': 'ecdsa-p384',
  'ecdsa-sha2-nistp521': 'ecdsa-p521',
  'rsa-sha2-256': 'rsa',
  'rsa-sha2-512': 'rsa',
};

/**
 * One pair, then payloads both ways. With `crossCheck` the server signs with the independent
 * backend-level key and the client verifies with src/keys; otherwise the reverse.
 */
function handshake(kex: string, cipher: string, mac: string | null, hostKey: string, chunk?: number, crossCheck = false): void {
  const algorithms = { kex: [kex], cipher: [cipher], mac: [mac ?? 'hmac-sha2-256-etm@openssh.com'], hostKey: [hostKey] };
  const legacy = kex === 'diffie-hellman-group14-sha1';
  const p = makePair({
    hostKey: KEY_KIND[hostKey] ?? 'ed25519',
    rawHostKey: crossCheck,
    client: { algorithms, legacy, ...(crossCheck ? { verifySignature: createSignatureVerifier() } : {}) },
    server: { algorithms, legacy },
    ...(chunk === undefined ? {} : { chunk }),
  });
  p.client.t.start();
  p.server.t.start();
  p.pump();
  const c = eventsOf(p.client, 'kex-complete');
  const s = eventsOf(p.server, 'kex-complete');
  expect(eventsOf(p.client, 'disconnect')).toEqual([]);
  expect(c).toHaveLength(1);
  expect(s).toHaveLength(1);
  expect(c[0]?.algorithms).toEqual({
    kex,
    hostKey,
    cipherClientToServer: cipher,
    cipherServerToClient: cipher,
    macClientToServer: mac,
    macServerToClient: mac,
    compressionClientToServer: 'none',
    compressionServerToClient: 'none',
  });
  expect(c[0]?.sessionId).toEqual(s[0]?.sessionId);
  expect(c[0]?.strict && s[0]?.strict).toBe(true);
  // payloads both ways, of sizes around block and packet boundaries
  const sizes = [1, 15, 16, 17, 255, 4096, 32768];
  for (const n of sizes) {
    p.client.t.send(new Uint8Array(n).fill(n & 0xff).map((v, i) => (i === 0 ? Msg.CHANNEL_DATA : v)));
    p.server.t.send(new Uint8Array(n + 1).fill(7).map((v, i) => (i === 0 ? Msg.CHANNEL_DATA : v)));
  }
  p.pump();
  expect(p.server.payloads.map((x) => x.length)).toEqual(sizes);
  expect(p.client.payloads.map((x) => x.length)).toEqual(sizes.map((n) => n + 1));
}

describe('in-memory pairs', () => {
  it('every KEX × cipher/MAC combination (ed25519 host key)', () => {
    for (const kex of ALL_KEX) for (const cm of CIPHER_MACS) handshake(kex, cm.cipher, cm.mac, 'ssh-ed25519');
  }, 60_000);

  it('every host key × KEX combination, signed and verified by src/keys and by an independent implementation', () => {
    for (const hk of HOST_KEY_ALGS) for (const [i, kex] of ALL_KEX.entries()) {
      const cm = CIPHER_MACS[(i * 5) % CIPHER_MACS.length] ?? { cipher: 'aes128-ctr', mac: 'hmac-sha2-256' };
      handshake(kex, cm.cipher, cm.mac, hk);
      handshake(kex, cm.cipher, cm.mac, hk, undefined, true);
    }
  }, 60_000);

  it('borrowed input (one read buffer reused and scribbled over after every receive): every cipher, any split', () => {
    for (const [i, cm] of CIPHER_MACS.entries()) {
      for (const chunk of [undefined, 7, 100, 4093, 40_000]) {
        const algorithms = { cipher: [cm.cipher], mac: [cm.mac ?? 'hmac-sha2-256-etm@openssh.com'] };
        const p = makePair({ client: { algorithms }, server: { algorithms }, borrowed: true, ...(chunk === undefined ? {} : { chunk }) });
        p.client.t.start();
        p.server.t.start();
        p.pump();
        expect(eventsOf(p.client, 'disconnect')).toEqual([]);
        expect(eventsOf(p.server, 'kex-complete')).toHaveLength(1);
        const sent: Uint8Array[] = [];
        for (const n of [1, 31, 32, 33, 1000, 32768, 70_000]) {
          const payload = new Uint8Array(n).map((_, j) => (j === 0 ? Msg.CHANNEL_DATA : (j * 31 + n + i) & 0xff));
          sent.push(payload);
          p.client.t.send(payload);
        }
        p.pump();
        expect(eventsOf(p.server, 'disconnect')).toEqual([]);
        expect(p.server.payloads.map((x) => Buffer.from(x).toString('hex'))).toEqual(sent.map((x) => Buffer.from(x).toString('hex')));
      }
    }
  }, 60_000);

  it('borrowed input held while the host key is checked is copied before the buffer is reused', () => {
    const p = makePair({ autoAccept: false, borrowed: true });
    p.client.t.start();
    p.server.t.start();
    p.pump();
    // the server's NEWKEYS (and what follows) waited in the client's reader across scribbles
    expect(eventsOf(p.client, 'host-key')).toHaveLength(1);
    expect(eventsOf(p.client, 'kex-complete')).toEqual([]);
    p.client.t.acceptHostKey();
    p.server.t.send(Uint8Array.of(Msg.CHANNEL_DATA, 1, 2, 3));
    p.pump();
    expect(eventsOf(p.client, 'disconnect')).toEqual([]);
    expect(eventsOf(p.client, 'kex-complete')).toHaveLength(1);
    expect(p.client.payloads).toEqual([Uint8Array.of(Msg.CHANNEL_DATA, 1, 2, 3)]);
  });

  it('works when the byte stream arrives one byte at a time', () => {
    handshake('curve25519-sha256', 'aes256-ctr', 'hmac-sha2-512', 'ssh-ed25519', 1);
    handshake('mlkem768x25519-sha256', 'chacha20-poly1305@openssh.com', null, 'ssh-ed25519', 7);
  });

  it('default offers agree: mlkem768x25519-sha256, aes128-gcm (client preference), ssh-ed25519, strict', () => {
    const p = makePair();
    p.client.t.start();
    p.server.t.start();
    p.pump();
    const c = eventsOf(p.client, 'kex-complete')[0];
    expect(c?.algorithms.kex).toBe('mlkem768x25519-sha256');
    expect(c?.algorithms.cipherClientToServer).toBe('aes128-gcm@openssh.com');
    expect(c?.algorithms.hostKey).toBe('ssh-ed25519');
    expect(c?.initial).toBe(true);
    expect(p.client.t.sessionId).toEqual(c?.sessionId);
  });

  it('holds payloads sent before the first key exchange completes and releases them in order', () => {
    const p = makePair();
    p.client.t.start();
    p.client.t.send(Uint8Array.of(Msg.SERVICE_REQUEST, 1));
    p.client.t.send(Uint8Array.of(Msg.SERVICE_REQUEST, 2, 3));
    expect(p.client.t.pendingBytes).toBe(5);
    p.server.t.start();
    p.pump();
    expect(p.client.t.pendingBytes).toBe(0);
    expect(p.server.payloads).toEqual([Uint8Array.of(Msg.SERVICE_REQUEST, 1), Uint8Array.of(Msg.SERVICE_REQUEST, 2, 3)]);
  });

  it('refuses transport-range messages through send()', () => {
    const p = makePair();
    expect(() => p.client.t.send(Uint8Array.of(Msg.KEXINIT))).toThrow(RangeError);
    expect(() => p.client.t.send(Uint8Array.of(Msg.DISCONNECT))).toThrow(RangeError);
    expect(() => p.client.t.send(new Uint8Array(0))).toThrow(RangeError);
  });
});

describe('sendBatch', () => {
  it('seals several payloads into one write, in order, and holds them like send() during a key exchange', () => {
    const algorithms = { cipher: ['aes256-ctr'], mac: ['hmac-sha2-512'] };
    const p = makePair({ client: { algorithms }, server: { algorithms } });
    p.client.t.start();
    p.server.t.start();
    p.pump();
    const batch = [1, 2, 3, 4].map((i) => new Uint8Array(1000 * i).fill(i).map((v, j) => (j === 0 ? Msg.CHANNEL_DATA : v)));
    p.client.t.sendBatch(batch);
    expect(p.client.outbox).toHaveLength(1);
    p.client.t.rekey();
    p.client.t.sendBatch(batch.slice(0, 2));
    expect(p.client.t.pendingBytes).toBe(3000);
    p.pump();
    expect(p.server.payloads.map((x) => x.length)).toEqual([1000, 2000, 3000, 4000, 1000, 2000]);
    expect(p.server.payloads[3]?.[5]).toBe(4);
  });
});

describe('a sink that takes parts (writeParts)', () => {
  it.each(['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com'])('gets %s packets as parts, several packets in one call, and the peer reads them', (cipher) => {
    const algorithms = { cipher: [cipher] };
    const p = makePair({ client: { algorithms }, server: { algorithms }, writeParts: true });
    p.client.t.start();
    p.server.t.start();
    p.pump();
    // the unencrypted key exchange went through write(): the none cipher seals into one buffer
    const before = p.client.partsWrites;
    const batch = [1, 2, 3].map((i) => new Uint8Array(20000 * i).fill(i).map((v, j) => (j === 0 ? Msg.CHANNEL_DATA : v)));
    p.client.t.sendBatch(batch);
    expect(p.client.partsWrites).toBe(before + 1);
    expect(p.client.outbox).toHaveLength(1);
    p.client.t.send(Uint8Array.of(Msg.CHANNEL_DATA, 9), new Uint8Array(5000).fill(9));
    p.pump();
    expect(p.server.payloads.map((x) => x.length)).toEqual([20000, 40000, 60000, 5002]);
    expect(p.server.payloads[2]?.[59999]).toBe(3);
    expect(p.server.payloads[3]?.[5001]).toBe(9);
  });

  it('falls back to write() for a cipher that seals into one buffer', () => {
    const algorithms = { cipher: ['aes128-ctr'], mac: ['hmac-sha2-256-etm@openssh.com'] };
    const p = makePair({ client: { algorithms }, server: { algorithms }, writeParts: true });
    p.client.t.start();
    p.server.t.start();
    p.pump();
    const before = p.client.partsWrites;
    p.client.t.sendBatch([Uint8Array.of(Msg.CHANNEL_DATA, 1), Uint8Array.of(Msg.CHANNEL_DATA, 2)]);
    expect(p.client.partsWrites).toBe(before);
    p.pump();
    expect(p.server.payloads).toEqual([Uint8Array.of(Msg.CHANNEL_DATA, 1), Uint8Array.of(Msg.CHANNEL_DATA, 2)]);
  });
});
