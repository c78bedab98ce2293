/**
 * KEXINIT codec round-trips and negotiation as a pure function of two KEXINITs (RFC 4253 §7.1),
 * the algorithm registry and the default offers by role.
 */
import { describe, expect, it } from 'vitest';
import { AlgorithmConfigError, checkPreferences, defaultAlgorithms, supportedAlgorithms } from '../../src/transport/algorithms.js';
import { type KexInit, encodeKexInit, isGuessRight, negotiate, parseKexInit } from '../../src/transport/kexinit.js';
import { DisconnectReason, SshProtocolError } from '../../src/wire/index.js';
import { seededRandom } from './support/pair.js';

function init(over: Partial<KexInit> = {}): KexInit {
  return {
    cookie: new Uint8Array(16).fill(1),
    kex: ['curve25519-sha256', 'ext-info-c', 'kex-strict-c-v00@openssh.com'],
    hostKey: ['ssh-ed25519', 'rsa-sha2-512'],
    cipherClientToServer: ['aes128-ctr', 'chacha20-poly1305@openssh.com'],
    cipherServerToClient: ['aes256-gcm@openssh.com'],
    macClientToServer: ['hmac-sha2-256-etm@openssh.com'],
    macServerToClient: ['hmac-sha2-512'],
    compressionClientToServer: ['none'],
    compressionServerToClient: ['none'],
    languagesClientToServer: [],
    languagesServerToClient: [],
    firstKexPacketFollows: false,
    ...over,
  };
}

describe('KEXINIT codec', () => {
  it('round-trips, random lists included', () => {
    const rnd = seededRandom(9);
    const names = supportedAlgorithms('kex', true).concat(supportedAlgorithms('cipher', true));
    for (let i = 0; i < 200; i++) {
      const b = rnd(12);
      const pick = (k: number): string[] => names.filter((_, j) => ((b[(j + k) % 12] ?? 0) >> (j % 8)) & 1);
      const k = init({ cookie: rnd(16), kex: pick(0), hostKey: pick(1), macServerToClient: pick(2), firstKexPacketFollows: ((b[0] ?? 0) & 1) === 1 });
      expect(parseKexInit(encodeKexInit(k))).toEqual(k);
    }
  });

  it('rejects truncation and malformed name-lists with a typed error', () => {
    const bytes = encodeKexInit(init());
    for (let n = 0; n < bytes.length - 4; n += 7) expect(() => parseKexInit(bytes.subarray(0, n))).toThrow();
    const bad = Uint8Array.from(bytes);
    bad[1 + 16 + 4] = 0x01; // control byte inside the first name-list
    expect(() => parseKexInit(bad)).toThrow(/non-printable/);
  });
});

describe('negotiate', () => {
  it('takes the first client algorithm the server lists, per kind and direction', () => {
    const client = init();
    const server = init({
      kex: ['ecdh-sha2-nistp256', 'curve25519-sha256', 'kex-strict-s-v00@openssh.com'],
      hostKey: ['rsa-sha2-512', 'ssh-ed25519'],
      cipherClientToServer: ['chacha20-poly1305@openssh.com', 'aes128-ctr'],
      cipherServerToClient: ['aes256-gcm@openssh.com'],
      macServerToClient: ['hmac-sha2-256', 'hmac-sha2-512'],
    });
    expect(negotiate(client, server)).toEqual({
      kex: 'curve25519-sha256',
      hostKey: 'ssh-ed25519',
      cipherClientToServer: 'aes128-ctr',
      cipherServerToClient: 'aes256-gcm@openssh.com',
      macClientToServer: 'hmac-sha2-256-etm@openssh.com',
      // AEAD: the MAC is implicit, whatever the lists say
      macServerToClient: null,
      compressionClientToServer: 'none',
      compressionServerToClient: 'none',
    });
  });

  it('never picks a pseudo-algorithm, and fails with KEY_EXCHANGE_FAILED when nothing matches', () => {
    const onlyPseudo = init({ kex: ['ext-info-c', 'kex-strict-c-v00@openssh.com'] });
    const e = (() => {
      try {
        negotiate(onlyPseudo, init({ kex: ['ext-info-c', 'kex-strict-c-v00@openssh.com'] }));
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(SshProtocolError);
    expect((e as SshProtocolError).reason).toBe(DisconnectReason.KEY_EXCHANGE_FAILED);
    expect(() => negotiate(init(), init({ macClientToServer: ['hmac-sha1'] }))).toThrow(/client->server MAC/);
  });

  it('judges a guess by both sides preferring the same first KEX and host key algorithm (RFC 4253 §7)', () => {
    expect(isGuessRight(init(), init())).toBe(true);
    expect(isGuessRight(init({ hostKey: ['rsa-sha2-512', 'ssh-ed25519'] }), init())).toBe(false);
    // negotiation would still pick curve25519-sha256, but the preferences differ: wrong guess
    expect(isGuessRight(init({ kex: ['ecdh-sha2-nistp256', 'curve25519-sha256'] }), init())).toBe(false);
    expect(isGuessRight(init({ kex: ['ext-info-c', 'curve25519-sha256'] }), init())).toBe(true);
  });
});

describe('registry and default offers', () => {
  it('the server offers only the ssh-audit-clean set', () => {
    expect(defaultAlgorithms('kex', 'server')).toEqual([
      'mlkem768x25519-sha256',
      'curve25519-sha256',
      'curve25519-sha256@libssh.org',
      'diffie-hellman-group16-sha512',
      'diffie-hellman-group18-sha512',
    ]);
    expect(defaultAlgorithms('mac', 'server')).toEqual(['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com']);
    expect(defaultAlgorithms('host-key', 'server').some((h) => h.startsWith('ecdsa'))).toBe(false);
    expect(defaultAlgorithms('cipher', 'server')).toContain('chacha20-poly1305@openssh.com');
    // the client's order decides: AES-GCM (OpenSSL's AES-NI) before our chacha20-poly1305, same set
    const clientCiphers = defaultAlgorithms('cipher', 'client');
    expect(clientCiphers.slice(0, 3)).toEqual(['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com']);
    expect([...clientCiphers].sort()).toEqual([...defaultAlgorithms('cipher', 'server')].sort());
  });

  it('the client also offers NIST curves, group14-sha256, ECDSA and non-EtM MACs, never SHA-1', () => {
    const kex = defaultAlgorithms('kex', 'client');
    expect(kex).toContain('ecdh-sha2-nistp256');
    expect(kex).toContain('diffie-hellman-group14-sha256');
    expect(kex).not.toContain('diffie-hellman-group14-sha1');
    expect(defaultAlgorithms('mac', 'client')).toContain('hmac-sha2-256');
    expect(defaultAlgorithms('mac', 'client')).not.toContain('hmac-sha1');
    expect(defaultAlgorithms('host-key', 'client')).toContain('ecdsa-sha2-nistp256');
    expect(defaultAlgorithms('host-key', 'client')).not.toContain('ssh-rsa');
  });

  it('legacy algorithms need the switch; unknown names are refused', () => {
    expect(() => checkPreferences('kex', ['diffie-hellman-group14-sha1'], false)).toThrow(AlgorithmConfigError);
    expect(checkPreferences('kex', ['diffie-hellman-group14-sha1'], true)).toEqual(['diffie-hellman-group14-sha1']);
    expect(() => checkPreferences('kex', ['diffie-hellman-group1-sha1'], true)).toThrow(AlgorithmConfigError);
    expect(() => checkPreferences('cipher', ['none'], true)).toThrow(AlgorithmConfigError);
    expect(() => checkPreferences('mac', [], false)).toThrow(AlgorithmConfigError);
  });
});
