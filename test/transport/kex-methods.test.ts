/**
 * The KEM shape of every key exchange method, and the key derivation of RFC 4253 §7.2
 * (including the K1||K2 extension for keys longer than one hash).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultBackend, nobleBackend } from '../../src/crypto/index.js';
import { deriveKey, encodeSharedSecret } from '../../src/transport/kex-hash.js';
import { KEX_METHODS, findKexMethod } from '../../src/transport/kex-methods.js';
import { DisconnectReason, SshProtocolError } from '../../src/wire/index.js';

describe('KEX methods (keypair → encapsulate → decapsulate)', () => {
  for (const m of KEX_METHODS) {
    it(`${m.name}: both sides derive the same secret, across backends`, () => {
      const client = m.keypair(defaultBackend);
      expect(client.publicValue.length).toBeLessThanOrEqual(m.maxValueLength);
      // the server side on noble (bigint MODP is slow, so node:crypto there)
      const serverBackend = m.valueEncoding === 'mpint' ? defaultBackend : nobleBackend;
      const { reply, sharedSecret } = m.encapsulate(serverBackend, client.publicValue);
      expect(reply.length).toBeLessThanOrEqual(m.maxValueLength);
      expect(client.decapsulate(reply)).toEqual(sharedSecret);
    });

    it(`${m.name}: a wrong-sized or degenerate peer value fails with KEY_EXCHANGE_FAILED`, () => {
      const client = m.keypair(defaultBackend);
      for (const bad of [new Uint8Array(3), new Uint8Array(m.maxValueLength).fill(0), new Uint8Array(m.maxValueLength + 1).fill(0xff)]) {
        let err: unknown;
        try {
          client.decapsulate(bad);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(SshProtocolError);
        expect((err as SshProtocolError).reason).toBe(DisconnectReason.KEY_EXCHANGE_FAILED);
      }
    });
  }

  it('the hybrid K is SHA-256(mlkem_ss || x25519_ss) encoded as a string, the others as mpints', () => {
    const hybrid = findKexMethod('mlkem768x25519-sha256');
    const c25519 = findKexMethod('curve25519-sha256');
    if (hybrid === undefined || c25519 === undefined) throw new Error('missing methods');
    const k = new Uint8Array(32).fill(0x80);
    expect(encodeSharedSecret(hybrid, k)).toEqual(Uint8Array.from([0, 0, 0, 32, ...k]));
    // mpint: a leading zero byte keeps it positive (RFC 4251 §5)
    expect(encodeSharedSecret(c25519, k)).toEqual(Uint8Array.from([0, 0, 0, 33, 0, ...k]));
  });
});

describe('deriveKey (RFC 4253 §7.2)', () => {
  it('is HASH(K || H || letter || session_id), extended with HASH(K || H || K1) for long keys', () => {
    const m = findKexMethod('curve25519-sha256');
    if (m === undefined) throw new Error('missing');
    const K = Uint8Array.from([0, 0, 0, 1, 7]);
    const H = new Uint8Array(32).fill(3);
    const sid = new Uint8Array(32).fill(4);
    const sha = (...parts: Uint8Array[]): Buffer => {
      const h = createHash('sha256');
      for (const p of parts) h.update(p);
      return h.digest();
    };
    const k1 = sha(K, H, Uint8Array.of(0x43), sid);
    const k2 = sha(K, H, k1);
    expect(deriveKey(defaultBackend, m, K, H, sid, 'C', 16)).toEqual(new Uint8Array(k1.subarray(0, 16)));
    expect(deriveKey(defaultBackend, m, K, H, sid, 'C', 64)).toEqual(new Uint8Array(Buffer.concat([k1, k2])));
    expect(deriveKey(defaultBackend, m, K, H, sid, 'C', 0)).toEqual(new Uint8Array(0));
  });
});
