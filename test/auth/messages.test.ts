import { describe, expect, it } from 'vitest';
import { type AuthMessage, decodeAuthMessage, encodeAuthMessage, HOSTBOUND_METHOD, type Msg60Meaning } from '../../src/auth/messages.js';
import { SshProtocolError, WireError } from '../../src/wire/index.js';
import { mutate, randomBytes, rng } from './fuzz-util.js';

const blob = Uint8Array.from([0, 0, 0, 11, ...new TextEncoder().encode('ssh-ed25519'), 0, 0, 0, 2, 1, 2]);
const sig = Uint8Array.from([0, 0, 0, 1, 0x41, 0, 0, 0, 1, 9]);

const SAMPLES: [AuthMessage, Msg60Meaning | undefined][] = [
  [{ type: 'service-request', service: 'ssh-userauth' }, undefined],
  [{ type: 'service-accept', service: 'ssh-userauth' }, undefined],
  [{ type: 'userauth-request', user: 'älice', service: 'ssh-connection', request: { method: 'none' } }, undefined],
  [{ type: 'userauth-request', user: 'a', service: 'ssh-connection', request: { method: 'publickey', algorithm: 'ssh-ed25519', publicKey: blob, signature: undefined } }, undefined],
  [{ type: 'userauth-request', user: 'a', service: 'ssh-connection', request: { method: 'publickey', algorithm: 'ssh-ed25519', publicKey: blob, signature: sig } }, undefined],
  [{ type: 'userauth-request', user: 'a', service: 'ssh-connection', request: { method: HOSTBOUND_METHOD, algorithm: 'ssh-ed25519', publicKey: blob, hostKey: blob, signature: sig } }, undefined],
  [{ type: 'userauth-request', user: 'a', service: 'ssh-connection', request: { method: HOSTBOUND_METHOD, algorithm: 'ssh-ed25519', publicKey: blob, hostKey: blob, signature: undefined } }, undefined],
  [{ type: 'userauth-request', user: 'a', service: 'ssh-connection', request: { method: 'password', password: 'pw', newPassword: undefined } }, undefined],
  [{ type: 'userauth-request', user: 'a', service: 'ssh-connection', request: { method: 'password', password: 'pw', newPassword: 'new' } }, undefined],
  [{ type: 'userauth-request', user: 'a', service: 'ssh-connection', request: { method: 'keyboard-interactive', language: '', submethods: 'pam' } }, undefined],
  [{ type: 'userauth-request', user: 'a', service: 'ssh-connection', request: { method: 'unknown', name: 'hostbased', data: Uint8Array.of(1, 2, 3) } }, undefined],
  [{ type: 'userauth-failure', methods: ['publickey', 'keyboard-interactive'], partialSuccess: true }, undefined],
  [{ type: 'userauth-failure', methods: [], partialSuccess: false }, undefined],
  [{ type: 'userauth-success' }, undefined],
  [{ type: 'userauth-banner', message: 'hello\r\n', language: 'en' }, undefined],
  [{ type: 'pk-ok', algorithm: 'ssh-ed25519', publicKey: blob }, 'pk-ok'],
  [{ type: 'passwd-changereq', prompt: 'expired', language: '' }, 'passwd-changereq'],
  [{ type: 'info-request', name: 'n', instruction: 'i', language: '', prompts: [{ prompt: 'a', echo: true }, { prompt: 'b', echo: false }] }, 'info-request'],
  [{ type: 'info-request', name: '', instruction: '', language: '', prompts: [] }, 'info-request'],
  [{ type: 'info-response', responses: ['x', 'ÿ'] }, undefined],
];

describe('auth message codecs', () => {
  it.each(SAMPLES.map((s, i) => [i, ...s] as const))('round-trips sample %i', (_i, m, ctx) => {
    const enc = encodeAuthMessage(m);
    expect(decodeAuthMessage(enc, ctx)).toEqual(m);
    expect(encodeAuthMessage(decodeAuthMessage(enc, ctx))).toEqual(enc);
  });

  it('rejects message 60 without context, trailing bytes and oversized counts', () => {
    expect(() => decodeAuthMessage(Uint8Array.of(60, 0, 0, 0, 0), undefined)).toThrow(WireError);
    const ok = encodeAuthMessage({ type: 'userauth-success' });
    expect(() => decodeAuthMessage(Uint8Array.of(...ok, 0))).toThrow(WireError);
    expect(() => decodeAuthMessage(Uint8Array.of(61, 0xff, 0xff, 0xff, 0xff))).toThrow(WireError);
    expect(() => decodeAuthMessage(Uint8Array.of(80))).toThrow(WireError);
  });

  it('fuzz: random and mutated inputs only ever raise typed errors', () => {
    const rand = rng(4252);
    const contexts: (Msg60Meaning | undefined)[] = [undefined, 'pk-ok', 'info-request', 'passwd-changereq'];
    const valid = SAMPLES.map(([m]) => encodeAuthMessage(m));
    for (let i = 0; i < 20_000; i++) {
      const base = valid[i % valid.length] ?? new Uint8Array(0);
      const input = i % 4 === 0 ? Uint8Array.of(base[0] ?? 50, ...randomBytes(rand, Math.floor(rand() * 64))) : mutate(rand, base);
      const ctx = contexts[i % contexts.length];
      try {
        const m = decodeAuthMessage(input, ctx);
        // whatever decodes re-encodes to something that decodes the same (booleans normalise)
        expect(decodeAuthMessage(encodeAuthMessage(m), ctx)).toEqual(m);
      } catch (e) {
        if (!(e instanceof WireError) && !(e instanceof SshProtocolError)) throw e;
      }
    }
  });
});
