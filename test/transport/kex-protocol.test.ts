/**
 * Key exchange protocol rules: strict KEX (OpenSSH PROTOCOL "kex-strict-*-v00@openssh.com"),
 * first_kex_packet_follows guesses (RFC 4253 §7), ext-info (RFC 8308), the client's host key
 * decision, and DISCONNECT in both directions.
 */
import { describe, expect, it } from 'vitest';
import { NoneSealer } from '../../src/transport/ciphers/none-cipher.js';
import { DisconnectReason, Msg } from '../../src/wire/index.js';
import type { HostKeySigner } from '../../src/transport/host-key.js';
import { eventsOf, makePair } from './support/pair.js';
import { testHostKey } from './support/test-host-keys.js';

const ignorePacket = (): Uint8Array => new NoneSealer().seal(0, Uint8Array.of(Msg.IGNORE, 0, 0, 0, 0));
const debugPacket = (): Uint8Array => new NoneSealer().seal(0, Uint8Array.of(Msg.DEBUG, 0, 0, 0, 0, 0, 0, 0, 0, 0));

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

describe('strict KEX', () => {
  it('is negotiated when both offer it, and not when one side does not', () => {
    const p = makePair();
    p.client.t.start();
    p.server.t.start();
    p.pump();
    expect(eventsOf(p.server, 'kex-complete')[0]?.strict).toBe(true);
    const q = makePair({ server: { strictKex: false } });
    q.client.t.start();
    q.server.t.start();
    q.pump();
    expect(eventsOf(q.client, 'kex-complete')[0]?.strict).toBe(false);
  });

  it.each([
    ['IGNORE', ignorePacket],
    ['DEBUG', debugPacket],
  ])('an %s injected after the client KEXINIT ends the connection on the server', (_name, make) => {
    const p = makePair();
    p.client.t.start();
    p.server.t.start();
    let injected = false;
    p.pump((from, chunk) => {
      if (from === 'client' && !injected) {
        injected = true;
        return concat(chunk, make()); // chunk = version line + KEXINIT
      }
      return chunk;
    });
    const d = eventsOf(p.server, 'disconnect');
    expect(d).toHaveLength(1);
    expect(d[0]?.reason).toBe(DisconnectReason.PROTOCOL_ERROR);
    expect(d[0]?.description).toMatch(/strict KEX violation/);
    expect(eventsOf(p.server, 'kex-complete')).toEqual([]);
    // the client hears the DISCONNECT
    expect(eventsOf(p.client, 'disconnect')[0]?.byPeer).toBe(true);
  });

  it('an IGNORE before the server KEXINIT makes KEXINIT not the first packet: the client ends it', () => {
    const p = makePair();
    p.client.t.start();
    p.server.t.start();
    let injected = false;
    p.pump((from, chunk) => {
      if (from === 'server' && !injected) {
        injected = true;
        const text = Buffer.from(chunk).toString('latin1');
        const eol = text.indexOf('\n') + 1;
        return concat(chunk.subarray(0, eol), ignorePacket(), chunk.subarray(eol));
      }
      return chunk;
    });
    const d = eventsOf(p.client, 'disconnect');
    expect(d[0]?.description).toMatch(/KEXINIT was not the first packet/);
    expect(d[0]?.byPeer).toBe(false);
  });

  it('without strict KEX an injected IGNORE passes the exchange but shifts the sequence number: the next packet fails its MAC', () => {
    // EtM leaves the length in clear and MACs the sequence number (AES-GCM's nonce would not see it)
    const algorithms = { cipher: ['aes128-ctr'], mac: ['hmac-sha2-256-etm@openssh.com'] };
    const p = makePair({ client: { strictKex: false, algorithms }, server: { strictKex: false, algorithms } });
    p.client.t.start();
    p.server.t.start();
    let injected = false;
    p.pump((from, chunk) => {
      if (from === 'client' && !injected) {
        injected = true;
        return concat(chunk, ignorePacket());
      }
      return chunk;
    });
    // NEWKEYS itself travels under the old (none) protection; the first protected packet fails
    expect(eventsOf(p.server, 'kex-complete')).toHaveLength(1);
    p.client.t.send(Uint8Array.of(Msg.SERVICE_REQUEST));
    p.pump();
    const d = eventsOf(p.server, 'disconnect');
    expect(d[0]?.reason).toBe(DisconnectReason.MAC_ERROR);
  });
});

describe('first_kex_packet_follows', () => {
  it('a wrong guess (client prefers a method the server lacks) is discarded and the exchange completes', () => {
    const p = makePair({
      client: { guessKex: true, algorithms: { kex: ['diffie-hellman-group14-sha256', 'curve25519-sha256'] } },
      server: { algorithms: { kex: ['curve25519-sha256'] } },
    });
    p.client.t.start();
    p.server.t.start();
    p.pump();
    expect(eventsOf(p.server, 'disconnect')).toEqual([]);
    expect(eventsOf(p.server, 'kex-complete')[0]?.algorithms.kex).toBe('curve25519-sha256');
  });

  it('a wrong guess of host key algorithm is discarded too', () => {
    const p = makePair({
      client: { guessKex: true, algorithms: { kex: ['curve25519-sha256'], hostKey: ['ecdsa-sha2-nistp256', 'ssh-ed25519'] } },
    });
    p.client.t.start();
    p.server.t.start();
    p.pump();
    expect(eventsOf(p.client, 'kex-complete')[0]?.algorithms.hostKey).toBe('ssh-ed25519');
  });

  it('a wrong guess where negotiation lands on the guessed method anyway (preferences differ) is still discarded', () => {
    const p = makePair({
      client: { guessKex: true, algorithms: { kex: ['curve25519-sha256'], hostKey: ['ssh-ed25519'] } },
      server: { algorithms: { kex: ['ecdh-sha2-nistp256', 'curve25519-sha256'] } },
    });
    p.client.t.start();
    p.server.t.start();
    p.pump();
    expect(eventsOf(p.server, 'kex-complete')[0]?.algorithms.kex).toBe('curve25519-sha256');
  });

  it('a right guess is used as the key exchange init (no second init is sent)', () => {
    const algorithms = { kex: ['curve25519-sha256', 'ecdh-sha2-nistp256'], hostKey: ['ssh-ed25519'] };
    const p = makePair({ client: { guessKex: true, algorithms }, server: { algorithms } });
    p.client.t.start();
    p.server.t.start();
    let clientPackets = 0;
    p.pump((from, chunk) => {
      if (from === 'client') clientPackets++;
      return chunk;
    });
    expect(eventsOf(p.server, 'kex-complete')[0]?.algorithms.kex).toBe('curve25519-sha256');
    // start (version+KEXINIT+guess), NEWKEYS after the reply
    expect(clientPackets).toBe(2);
  });
});

describe('ext-info (RFC 8308)', () => {
  it('the server sends server-sig-algs after NEWKEYS when the client offers ext-info-c', () => {
    const p = makePair({ server: { serverSigAlgs: ['ssh-ed25519', 'rsa-sha2-512'] } });
    p.client.t.start();
    p.server.t.start();
    p.pump();
    const ext = eventsOf(p.client, 'ext-info');
    expect(ext).toHaveLength(1);
    expect(Buffer.from(ext[0]?.extensions.get('server-sig-algs') ?? []).toString()).toBe('ssh-ed25519,rsa-sha2-512');
    // once: a rekey sends no second EXT_INFO
    p.client.t.rekey();
    p.pump();
    expect(eventsOf(p.client, 'kex-complete')).toHaveLength(2);
    expect(eventsOf(p.client, 'ext-info')).toHaveLength(1);
  });

  it('no EXT_INFO when the client does not offer ext-info-c', () => {
    const p = makePair({ client: { extInfo: false } });
    p.client.t.start();
    p.server.t.start();
    p.pump();
    expect(eventsOf(p.client, 'kex-complete')).toHaveLength(1);
    expect(eventsOf(p.client, 'ext-info')).toEqual([]);
  });
});

describe('host key decision and disconnects', () => {
  it('holds NEWKEYS until acceptHostKey(), called later', () => {
    const p = makePair({ autoAccept: false });
    p.client.t.start();
    p.server.t.start();
    p.pump();
    const hk = eventsOf(p.client, 'host-key');
    expect(hk).toHaveLength(1);
    expect(hk[0]?.algorithm).toBe('ssh-ed25519');
    expect(eventsOf(p.client, 'kex-complete')).toEqual([]);
    p.client.t.send(Uint8Array.of(Msg.SERVICE_REQUEST));
    p.client.t.acceptHostKey();
    p.pump();
    expect(eventsOf(p.client, 'kex-complete')).toHaveLength(1);
    expect(p.server.payloads).toEqual([Uint8Array.of(Msg.SERVICE_REQUEST)]);
  });

  it('a host key that changes on rekey ends the connection (HOST_KEY_NOT_VERIFIABLE), without a second host-key event', () => {
    const first = testHostKey('ed25519');
    const second = testHostKey('ed25519');
    let exchanges = 0;
    const switching: HostKeySigner = {
      algorithms: ['ssh-ed25519'],
      publicKeyBlob: (a) => (exchanges === 0 ? first : second).publicKeyBlob(a),
      sign: (a, d) => (exchanges++ === 0 ? first : second).sign(a, d),
    };
    const p = makePair({ server: { hostKeys: [switching] } });
    p.client.t.start();
    p.server.t.start();
    p.pump();
    expect(eventsOf(p.client, 'kex-complete')).toHaveLength(1);
    p.client.t.rekey();
    p.pump();
    expect(eventsOf(p.client, 'host-key')).toHaveLength(1);
    expect(eventsOf(p.client, 'disconnect')[0]?.reason).toBe(DisconnectReason.HOST_KEY_NOT_VERIFIABLE);
  });

  it('rejectHostKey() sends HOST_KEY_NOT_VERIFIABLE', () => {
    const p = makePair({ autoAccept: false });
    p.client.t.start();
    p.server.t.start();
    p.pump();
    p.client.t.rejectHostKey('unknown host key');
    p.pump();
    expect(p.client.t.isClosed).toBe(true);
    const d = eventsOf(p.server, 'disconnect');
    expect(d).toEqual([{ type: 'disconnect', reason: DisconnectReason.HOST_KEY_NOT_VERIFIABLE, description: 'unknown host key', byPeer: true }]);
  });

  it('a bad host key signature fails the exchange (KEY_EXCHANGE_FAILED) before any host-key event', () => {
    const p = makePair({ client: { verifySignature: () => false } });
    p.client.t.start();
    p.server.t.start();
    p.pump();
    expect(eventsOf(p.client, 'host-key')).toEqual([]);
    expect(eventsOf(p.client, 'disconnect')[0]?.reason).toBe(DisconnectReason.KEY_EXCHANGE_FAILED);
  });

  it('no common algorithm ends with KEY_EXCHANGE_FAILED on both sides', () => {
    const p = makePair({ client: { algorithms: { cipher: ['aes128-ctr'] } }, server: { algorithms: { cipher: ['aes256-gcm@openssh.com'] } } });
    p.client.t.start();
    p.server.t.start();
    p.pump();
    expect(eventsOf(p.client, 'disconnect')[0]?.reason).toBe(DisconnectReason.KEY_EXCHANGE_FAILED);
    expect(eventsOf(p.server, 'disconnect')[0]?.reason).toBe(DisconnectReason.KEY_EXCHANGE_FAILED);
  });

  it('disconnect() reaches the peer as a byPeer disconnect, once, and closes both', () => {
    const p = makePair();
    p.client.t.start();
    p.server.t.start();
    p.pump();
    p.server.t.disconnect(DisconnectReason.BY_APPLICATION, 'bye');
    p.server.t.disconnect(DisconnectReason.BY_APPLICATION, 'again');
    p.pump();
    expect(eventsOf(p.server, 'disconnect')).toEqual([{ type: 'disconnect', reason: 11, description: 'bye', byPeer: false }]);
    expect(eventsOf(p.client, 'disconnect')).toEqual([{ type: 'disconnect', reason: 11, description: 'bye', byPeer: true }]);
    expect(p.client.t.isClosed && p.server.t.isClosed).toBe(true);
    // input after close is ignored
    p.client.t.receive(Uint8Array.of(1, 2, 3));
    expect(eventsOf(p.client, 'disconnect')).toHaveLength(1);
  });

  it('IGNORE and DEBUG after the exchange are skipped; higher-layer payloads keep flowing', () => {
    const p = makePair();
    p.client.t.start();
    p.server.t.start();
    p.pump();
    p.client.t.send(Uint8Array.of(Msg.IGNORE, 0, 0, 0, 1, 42));
    p.client.t.send(Uint8Array.of(Msg.CHANNEL_DATA, 1));
    p.pump();
    expect(p.server.payloads).toEqual([Uint8Array.of(Msg.CHANNEL_DATA, 1)]);
    expect(eventsOf(p.server, 'disconnect')).toEqual([]);
  });
});
