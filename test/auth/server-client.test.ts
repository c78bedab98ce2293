import { describe, expect, it } from 'vitest';
import {
  AuthServer,
  type AuthServerEvent,
  encodeAuthMessage,
  HOSTBOUND_METHOD,
  ProvenKey,
  publickeySignedData,
} from '../../src/auth/index.js';
import { isCertificateKey, parsePublicKeyBlob } from '../../src/keys/public-key.js';
import { defaultSignatureVerifier } from '../../src/keys/signature.js';
import { bytesEqual, DisconnectReason, SshProtocolError } from '../../src/wire/index.js';
import { AuthPair, ed25519Cert, ed25519Key, HOST_KEY, SESSION_ID, type TestKey } from './auth-pair.js';

const accept = { type: 'accept' } as const;
const reject = { type: 'reject', reason: 'no' } as const;

function signerFor(...keys: TestKey[]) {
  return (blob: Uint8Array, data: Uint8Array) => {
    const k = keys.find((x) => bytesEqual(x.blob, blob));
    return k === undefined ? null : k.sign(data);
  };
}

/** The server's answer: accept `key` (queried or signed), reject anything else. */
function acceptOnly(key: TestKey): ConstructorParameters<typeof AuthPair>[2] {
  return (e) => {
    const k = e.check.kind === 'publickey' || e.check.kind === 'publickey-query' ? e.check.key : undefined;
    return k !== undefined && bytesEqual(k.blob, key.blob) ? accept : reject;
  };
}

/** The key the server's first step proved. */
function provenKey(p: AuthPair): ProvenKey {
  const step = p.server.result?.steps[0];
  if (step?.method !== 'publickey') throw new Error('no publickey step');
  return step.key;
}

function pk(key: TestKey, algorithms = ['ssh-ed25519']) {
  return { type: 'publickey', publicKeyBlob: key.blob, algorithms } as const;
}

describe('none and publickey', () => {
  it('authenticates with none when the server allows it', () => {
    const p = new AuthPair({ methods: ['none'] }, { credentials: [] }, () => accept).start();
    expect(p.clientEventsOf('success')).toHaveLength(1);
    expect(p.server.result?.steps).toEqual([{ method: 'none' }]);
    expect(p.server.phase).toBe('connection');
    expect(p.client.phase).toBe('connection');
  });

  it('queries, signs and proves a key; the identity is the proven key', () => {
    const key = ed25519Key();
    const kinds: string[] = [];
    const p = new AuthPair(
      {},
      { credentials: [pk(key)] },
      (e) => {
        kinds.push(e.check.kind);
        return accept;
      },
      signerFor(key),
    ).start();
    expect(kinds).toEqual(['publickey-query', 'publickey']);
    expect(p.clientEventsOf('key-accepted')).toHaveLength(1);
    const step = p.server.result?.steps[0];
    expect(step?.method).toBe('publickey');
    if (step?.method !== 'publickey') throw new Error('no publickey step');
    expect(step.key).toBeInstanceOf(ProvenKey);
    expect(bytesEqual(step.key.blob, key.blob)).toBe(true);
    expect(step.key.hostbound).toBe(false);
  });

  it('a query never authenticates, even when the driver accepts it', () => {
    const key = ed25519Key();
    const p = new AuthPair({}, { credentials: [pk(key)] }, () => accept, () => null).start();
    // the client refused to sign: the query's PK_OK was all it got
    expect(p.clientEventsOf('key-accepted')).toHaveLength(1);
    expect(p.server.result).toBeUndefined();
    expect(p.serverEventsOf('success')).toHaveLength(0);
    expect(p.clientEventsOf('exhausted')).toHaveLength(1);
  });

  it('rejects a key the driver refuses and moves on to the next credential', () => {
    const bad = ed25519Key();
    const good = ed25519Key();
    const p = new AuthPair(
      {},
      { credentials: [pk(bad), pk(good)] },
      acceptOnly(good),
      signerFor(bad, good),
    ).start();
    expect(bytesEqual(provenKey(p).blob, good.blob)).toBe(true);
    expect(p.serverEventsOf('failure').map((e) => e.reason)).toEqual(['method none not allowed', 'no']);
  });

  it('skips the query when asked and signs straight away', () => {
    const key = ed25519Key();
    const kinds: string[] = [];
    const p = new AuthPair({}, { credentials: [{ ...pk(key), query: false }] }, (e) => {
      kinds.push(e.check.kind);
      return accept;
    }, signerFor(key)).start();
    expect(kinds).toEqual(['publickey']);
    expect(p.server.result).toBeDefined();
  });

  it('noneFirst: false sends the signed key as the first request: no "none", no query', () => {
    const key = ed25519Key();
    const kinds: string[] = [];
    const p = new AuthPair({}, { credentials: [{ ...pk(key), query: false }], noneFirst: false }, (e) => {
      kinds.push(e.check.kind);
      return accept;
    }, signerFor(key)).start();
    expect(kinds).toEqual(['publickey']);
    // the server saw no failure at all: "none" was never sent
    expect(p.serverEventsOf('failure')).toHaveLength(0);
    expect(p.clientEventsOf('methods')).toHaveLength(0);
    expect(p.clientEventsOf('success')).toHaveLength(1);
  });

  it('noneFirst: false learns the methods from the first failure and goes on with what is allowed', () => {
    const bad = ed25519Key();
    const good = ed25519Key();
    const p = new AuthPair(
      { methods: ['publickey'] },
      { credentials: [{ ...pk(bad), query: false }, { type: 'password', password: 'never sent' }, pk(good)], noneFirst: false },
      acceptOnly(good),
      signerFor(bad, good),
    ).start();
    expect(bytesEqual(provenKey(p).blob, good.blob)).toBe(true);
    // the password was skipped once the server said publickey only; no "none" anywhere
    expect(p.serverEventsOf('failure').map((e) => e.reason)).toEqual(['no']);
    expect(p.clientEventsOf('methods').map((e) => e.methods)).toEqual([['publickey']]);
  });

  it('noneFirst: false with nothing to offer reports exhaustion at once', () => {
    const p = new AuthPair({}, { credentials: [], noneFirst: false }, () => accept).start();
    expect(p.clientEventsOf('exhausted')).toHaveLength(1);
    expect(p.server.result).toBeUndefined();
  });
});

/** A hand-driven server for requests a well-behaved client would not send. */
function rawServer(opts: { methods?: ('none' | 'publickey' | 'password' | 'keyboard-interactive')[]; maxAttempts?: number } = {}) {
  const out: Uint8Array[] = [];
  const events: AuthServerEvent[] = [];
  const server = new AuthServer({
    sink: (p) => out.push(p),
    sessionId: SESSION_ID,
    hostKeyBlob: HOST_KEY,
    verify: defaultSignatureVerifier,
    now: 0,
    ...opts,
  });
  server.handle(encodeAuthMessage({ type: 'service-request', service: 'ssh-userauth' }));
  const send = (user: string, request: Parameters<typeof encodeAuthMessage>[0] extends infer M ? M extends { type: 'userauth-request'; request: infer R } ? R : never : never) => {
    const evs = server.handle(encodeAuthMessage({ type: 'userauth-request', user, service: 'ssh-connection', request }));
    events.push(...evs);
    return evs;
  };
  return { server, out, events, send };
}

function signedRequest(offered: TestKey, signer: TestKey, user = 'alice', sessionId = SESSION_ID) {
  const data = publickeySignedData({ sessionId, user, service: 'ssh-connection', algorithm: 'ssh-ed25519', publicKey: offered.blob });
  return { method: 'publickey', algorithm: 'ssh-ed25519', publicKey: offered.blob, signature: signer.sign(data) } as const;
}

describe('proof of possession (CVE-2024-45337 class)', () => {
  it('rejects a signature made by another key than the one offered', () => {
    const a = ed25519Key();
    const b = ed25519Key();
    const { send, events } = rawServer();
    const evs = send('alice', signedRequest(a, b));
    expect(evs.some((e) => e.type === 'check')).toBe(false);
    expect(events.find((e) => e.type === 'failure')).toMatchObject({ reason: 'signature did not verify' });
  });

  it('rejects a signature over another session id, and a corrupted signature', () => {
    const a = ed25519Key();
    const { send } = rawServer();
    expect(send('alice', signedRequest(a, a, 'alice', new Uint8Array(32))).map((e) => e.type)).toEqual(['failure']);
    const good = signedRequest(a, a);
    const sig = good.signature.slice();
    sig[sig.length - 1] = (sig[sig.length - 1] ?? 0) ^ 1;
    expect(send('alice', { ...good, signature: sig }).map((e) => e.type)).toEqual(['failure']);
    // a signature for user "bob" does not log in "alice"
    expect(send('alice', signedRequest(a, a, 'bob')).map((e) => e.type)).toEqual(['failure']);
  });

  it('a key queried and accepted does not become the identity when another key signs', () => {
    const a = ed25519Key();
    const b = ed25519Key();
    const { server, send } = rawServer();
    const q = send('alice', { method: 'publickey', algorithm: 'ssh-ed25519', publicKey: a.blob, signature: undefined });
    const qc = q.find((e) => e.type === 'check');
    if (qc?.type !== 'check') throw new Error('no query check');
    expect(qc.check.kind).toBe('publickey-query');
    server.respond(qc.id, accept);
    const s = send('alice', signedRequest(b, b));
    const sc = s.find((e) => e.type === 'check');
    if (sc?.type !== 'check' || sc.check.kind !== 'publickey') throw new Error('no publickey check');
    expect(bytesEqual(sc.check.key.blob, b.blob)).toBe(true);
    const done = server.respond(sc.id, accept);
    const success = done.find((e) => e.type === 'success');
    if (success?.type !== 'success') throw new Error('no success');
    const step = success.result.steps[0];
    if (step?.method !== 'publickey') throw new Error('no publickey step');
    expect(bytesEqual(step.key.blob, b.blob)).toBe(true);
  });

  it('refuses an algorithm that does not fit the key, and a downgraded signature algorithm', () => {
    const a = ed25519Key();
    const { send, events } = rawServer();
    send('alice', { method: 'publickey', algorithm: 'rsa-sha2-256', publicKey: a.blob, signature: undefined });
    expect(events.at(-1)).toMatchObject({ type: 'failure', reason: 'algorithm rsa-sha2-256 does not fit the key' });
  });

  it('a ProvenKey cannot be made outside the proof', () => {
    const Ctor = ProvenKey as unknown as new (...args: unknown[]) => ProvenKey;
    expect(() => new Ctor(Symbol('ProvenKey'), 'ssh-ed25519', 'ssh-ed25519', new Uint8Array(0), false, false)).toThrow(TypeError);
  });
});

describe('certificates and hostbound', () => {
  it('verifies a certificate request with the certified key; the driver sees the certificate', () => {
    const key = ed25519Key();
    const ca = ed25519Key();
    const cert = ed25519Cert(key, ca, ['alice']);
    let principals: readonly string[] = [];
    const p = new AuthPair(
      {},
      { credentials: [{ type: 'publickey', publicKeyBlob: cert, algorithms: ['ssh-ed25519-cert-v01@openssh.com'] }] },
      (e) => {
        if (e.check.kind === 'publickey') {
          expect(e.check.key.isCertificate).toBe(true);
          const parsed = parsePublicKeyBlob(e.check.key.blob);
          if (!isCertificateKey(parsed)) throw new Error('not a certificate');
          principals = parsed.certificate.principals;
        }
        return accept;
      },
      (_blob, data) => key.sign(data),
    ).start();
    expect(p.server.result).toBeDefined();
    expect(principals).toEqual(['alice']);
  });

  it('a certificate signed over by the CA key instead of the certified key is rejected', () => {
    const key = ed25519Key();
    const ca = ed25519Key();
    const cert = ed25519Cert(key, ca, ['alice']);
    const p = new AuthPair(
      {},
      { credentials: [{ type: 'publickey', publicKeyBlob: cert, algorithms: ['ssh-ed25519-cert-v01@openssh.com'] }] },
      () => accept,
      (_blob, data) => ca.sign(data),
    ).start();
    expect(p.server.result).toBeUndefined();
    expect(p.serverEventsOf('failure').map((e) => e.reason)).toContain('signature did not verify');
  });

  it('uses publickey-hostbound when announced and binds to our host key', () => {
    const key = ed25519Key();
    const p = new AuthPair({}, { credentials: [pk(key)] }, () => accept, signerFor(key));
    p.client.setServerExtensions({ publickeyHostbound: true, serverSigAlgs: ['ssh-ed25519'] });
    p.start();
    const step = p.server.result?.steps[0];
    if (step?.method !== 'publickey') throw new Error('no publickey step');
    expect(step.key.hostbound).toBe(true);
  });

  it('refuses a hostbound request that names another host key', () => {
    const key = ed25519Key();
    const p = new AuthPair({}, { credentials: [pk(key)], hostKeyBlob: ed25519Key().blob }, () => accept, signerFor(key));
    p.client.setServerExtensions({ publickeyHostbound: true });
    p.start();
    expect(p.server.result).toBeUndefined();
    expect(p.serverEventsOf('failure').map((e) => e.reason)).toContain('publickey-hostbound names another host key');
  });

  it('refuses a hostbound signature that covers another host key than the request names', () => {
    const key = ed25519Key();
    const { send, events } = rawServer();
    const data = publickeySignedData({
      sessionId: SESSION_ID, user: 'alice', service: 'ssh-connection', algorithm: 'ssh-ed25519', publicKey: key.blob,
      hostKey: ed25519Key().blob,
    });
    send('alice', { method: HOSTBOUND_METHOD, algorithm: 'ssh-ed25519', publicKey: key.blob, hostKey: HOST_KEY, signature: key.sign(data) });
    expect(events.at(-1)).toMatchObject({ type: 'failure', reason: 'signature did not verify' });
  });
});

describe('keyboard-interactive and password', () => {
  it('runs several rounds produced by the driver, including a zero-prompt round', () => {
    const seen: (readonly string[])[] = [];
    const p = new AuthPair(
      {},
      { credentials: [{ type: 'keyboard-interactive' }] },
      (e) => {
        if (e.check.kind === 'keyboard-interactive') {
          return { type: 'prompt', name: 'OIDC', instruction: 'visit https://idp/device', prompts: [] };
        }
        if (e.check.kind === 'keyboard-interactive-answers') {
          seen.push(e.check.responses);
          if (e.check.round === 1) return { type: 'prompt', name: '', instruction: '', prompts: [{ prompt: 'Code: ', echo: true }, { prompt: 'PIN: ', echo: false }] };
          return e.check.responses[1] === '1234' ? accept : reject;
        }
        return reject;
      },
      () => null,
      (prompts) => prompts.map((x) => (x === 'PIN: ' ? '1234' : 'abcd')),
    ).start();
    expect(seen).toEqual([[], ['abcd', '1234']]);
    expect(p.server.result?.steps).toEqual([{ method: 'keyboard-interactive' }]);
  });

  it('bounds the number of rounds', () => {
    const p = new AuthPair(
      { maxKbdRounds: 3 },
      { credentials: [{ type: 'keyboard-interactive' }] },
      () => ({ type: 'prompt', name: '', instruction: '', prompts: [{ prompt: 'again', echo: true }] }),
      () => null,
      () => ['x'],
    ).start();
    expect(p.serverEventsOf('failure').map((e) => e.reason)).toContain('too many keyboard-interactive rounds');
    expect(p.clientEventsOf('prompt')).toHaveLength(3);
  });

  it('an INFO_RESPONSE with the wrong number of answers ends the connection', () => {
    const { server, send } = rawServer();
    const evs = send('alice', { method: 'keyboard-interactive', language: '', submethods: '' });
    const c = evs.find((e) => e.type === 'check');
    if (c?.type !== 'check') throw new Error('no check');
    server.respond(c.id, { type: 'prompt', name: '', instruction: '', prompts: [{ prompt: 'a', echo: false }] });
    expect(() => server.handle(encodeAuthMessage({ type: 'info-response', responses: ['1', '2'] }))).toThrow(SshProtocolError);
  });

  it('password is off by default', () => {
    const p = new AuthPair({}, { credentials: [{ type: 'password', password: 'pw' }] }, () => accept).start();
    expect(p.server.result).toBeUndefined();
    expect(p.clientEventsOf('exhausted')[0]?.methods).toEqual(['publickey', 'keyboard-interactive']);
  });

  it('password when enabled: wrong then right', () => {
    const p = new AuthPair(
      { methods: ['password'] },
      { credentials: [{ type: 'password', password: 'wrong' }, { type: 'password', password: 'right' }] },
      (e) => (e.check.kind === 'password' && e.check.password === 'right' ? accept : reject),
    ).start();
    expect(p.server.result?.steps).toEqual([{ method: 'password' }]);
    expect(p.server.attempts).toBe(1);
  });
});

describe('partial success, limits, users, banner, grace', () => {
  it('chains publickey then keyboard-interactive', () => {
    const key = ed25519Key();
    const p = new AuthPair(
      {},
      { credentials: [pk(key), { type: 'keyboard-interactive' }] },
      (e) => {
        if (e.check.kind === 'publickey-query') return accept;
        if (e.check.kind === 'publickey') return { type: 'partial', methods: ['keyboard-interactive'] };
        if (e.check.kind === 'keyboard-interactive') return { type: 'prompt', name: '', instruction: '', prompts: [{ prompt: 'otp', echo: false }] };
        return accept;
      },
      signerFor(key),
      () => ['000000'],
    ).start();
    expect(p.clientEventsOf('methods').map((e) => e.partialSuccess)).toEqual([false, true]);
    expect(p.server.result?.steps.map((s) => s.method)).toEqual(['publickey', 'keyboard-interactive']);
  });

  it('disconnects with NO_MORE_AUTH_METHODS_AVAILABLE after the attempt limit', () => {
    const keys = [ed25519Key(), ed25519Key(), ed25519Key(), ed25519Key()];
    const p = new AuthPair({ maxAttempts: 3 }, { credentials: keys.map((k) => pk(k)) }, () => reject).start();
    expect(p.disconnected?.reason).toBe(DisconnectReason.NO_MORE_AUTH_METHODS_AVAILABLE);
    expect(p.serverEventsOf('failure')).toHaveLength(4); // the opening none is not counted
    expect(p.server.state).toBe('closed');
  });

  it('does not count the opening none against the limit when the hook refuses it', () => {
    const keys = [ed25519Key(), ed25519Key(), ed25519Key(), ed25519Key()];
    const p = new AuthPair({ maxAttempts: 3, methods: ['none', 'publickey'] }, { credentials: keys.map((k) => pk(k)) }, () => reject).start();
    const failures = p.serverEventsOf('failure');
    expect(failures[0]).toMatchObject({ method: 'none', attempts: 0 });
    expect(failures.map((f) => f.attempts)).toEqual([0, 1, 2, 3]);
    expect(p.disconnected?.reason).toBe(DisconnectReason.NO_MORE_AUTH_METHODS_AVAILABLE);
  });

  it('tells the driver about a user change and forgets factors passed for the old user', () => {
    const a = ed25519Key();
    const { server, send } = rawServer({ methods: ['publickey', 'password'] });
    const evs = send('alice', signedRequest(a, a, 'alice'));
    const c = evs.find((e) => e.type === 'check');
    if (c?.type !== 'check') throw new Error('no check');
    server.respond(c.id, { type: 'partial', methods: ['password'] });
    const next = send('bob', { method: 'password', password: 'x', newPassword: undefined });
    expect(next[0]).toEqual({ type: 'user-changed', from: 'alice', to: 'bob' });
    const pc = next.find((e) => e.type === 'check');
    if (pc?.type !== 'check') throw new Error('no check');
    const done = server.respond(pc.id, accept);
    const success = done.find((e) => e.type === 'success');
    if (success?.type !== 'success') throw new Error('no success');
    expect(success.result).toMatchObject({ user: 'bob', steps: [{ method: 'password' }] });
  });

  it('sends the banner before the first answer', () => {
    const p = new AuthPair({ banner: 'authorized use only\n', methods: ['none'] }, { credentials: [] }, () => accept).start();
    expect(p.clientEvents[0]).toEqual({ type: 'banner', message: 'authorized use only\n', language: '' });
  });

  it('ends with the login grace time, only before success', () => {
    const { server } = rawServer();
    expect(server.tick(119_999)).toEqual([]);
    expect(server.tick(120_000)).toEqual([{ type: 'disconnect', reason: DisconnectReason.BY_APPLICATION, message: 'login grace time exceeded' }]);
    const p = new AuthPair({ methods: ['none'] }, { credentials: [] }, () => accept).start();
    expect(p.server.tick(10 ** 9)).toEqual([]);
  });

  it('waits for asynchronous decisions and answers pipelined requests in order', () => {
    const a = ed25519Key();
    const b = ed25519Key();
    const { server, send, out } = rawServer();
    const first = send('alice', { method: 'publickey', algorithm: 'ssh-ed25519', publicKey: a.blob, signature: undefined });
    expect(send('alice', { method: 'publickey', algorithm: 'ssh-ed25519', publicKey: b.blob, signature: undefined })).toEqual([]);
    const c1 = first.find((e) => e.type === 'check');
    if (c1?.type !== 'check') throw new Error('no check');
    const before = out.length;
    const next = server.respond(c1.id, reject);
    expect(out[before]?.[0]).toBe(51); // failure for the first
    const c2 = next.find((e) => e.type === 'check');
    if (c2?.type !== 'check' || c2.check.kind !== 'publickey-query') throw new Error('no second check');
    expect(bytesEqual(c2.check.key.blob, b.blob)).toBe(true);
    server.respond(c2.id, accept);
    expect(out.at(-1)?.[0]).toBe(60); // PK_OK for the second
    expect(server.respond(c1.id, accept)).toEqual([]); // stale answer ignored
  });
});

describe('out-of-state messages', () => {
  it('refuses other services and requests before the service', () => {
    const server = new AuthServer({ sink: () => {}, sessionId: SESSION_ID, hostKeyBlob: HOST_KEY, verify: defaultSignatureVerifier, now: 0 });
    const req = encodeAuthMessage({ type: 'userauth-request', user: 'a', service: 'ssh-connection', request: { method: 'none' } });
    expect(() => server.handle(req)).toThrow(SshProtocolError);
    try {
      server.handle(encodeAuthMessage({ type: 'service-request', service: 'ssh-connection' }));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SshProtocolError);
      expect((e as SshProtocolError).reason).toBe(DisconnectReason.SERVICE_NOT_AVAILABLE);
    }
  });

  it('refuses a userauth request for another service than ssh-connection, and a stray INFO_RESPONSE', () => {
    const { server } = rawServer();
    const req = encodeAuthMessage({ type: 'userauth-request', user: 'a', service: 'ssh-foo', request: { method: 'none' } });
    expect(() => server.handle(req)).toThrow(SshProtocolError);
    expect(() => server.handle(encodeAuthMessage({ type: 'info-response', responses: [] }))).toThrow(SshProtocolError);
    expect(() => server.handle(encodeAuthMessage({ type: 'userauth-success' }))).toThrow(SshProtocolError);
  });

  it('ignores userauth requests after success (RFC 4252 §5.1)', () => {
    const p = new AuthPair({ methods: ['none'] }, { credentials: [] }, () => accept).start();
    const req = encodeAuthMessage({ type: 'userauth-request', user: 'x', service: 'ssh-connection', request: { method: 'none' } });
    expect(p.server.handle(req)).toEqual([]);
    expect(p.server.result?.user).toBe('alice');
  });
});

describe('client algorithm choice', () => {
  it('picks the first algorithm the server announced, and reads EXT_INFO', async () => {
    const { chooseSignatureAlgorithm, serverAuthExtensionsFromExtInfo } = await import('../../src/auth/index.js');
    expect(chooseSignatureAlgorithm(['rsa-sha2-512', 'rsa-sha2-256'], ['ssh-ed25519', 'rsa-sha2-256'])).toBe('rsa-sha2-256');
    expect(chooseSignatureAlgorithm(['rsa-sha2-512-cert-v01@openssh.com', 'rsa-sha2-256-cert-v01@openssh.com'], ['rsa-sha2-256'])).toBe(
      'rsa-sha2-256-cert-v01@openssh.com',
    );
    expect(chooseSignatureAlgorithm(['rsa-sha2-512'], undefined)).toBe('rsa-sha2-512');
    const te = new TextEncoder();
    expect(
      serverAuthExtensionsFromExtInfo(
        new Map([
          ['server-sig-algs', te.encode('ssh-ed25519,rsa-sha2-512')],
          ['publickey-hostbound@openssh.com', te.encode('0')],
        ]),
      ),
    ).toEqual({ serverSigAlgs: ['ssh-ed25519', 'rsa-sha2-512'], publickeyHostbound: true });
    expect(serverAuthExtensionsFromExtInfo(new Map())).toEqual({});
  });
});

describe('server machine fuzz', () => {
  it('random and mutated userauth payloads raise only protocol errors', async () => {
    const { mutate, randomBytes, rng } = await import('./fuzz-util.js');
    const { WireError } = await import('../../src/wire/index.js');
    const rand = rng(52);
    const key = ed25519Key();
    const seeds = [
      encodeAuthMessage({ type: 'userauth-request', user: 'a', service: 'ssh-connection', request: { method: 'none' } }),
      encodeAuthMessage({ type: 'userauth-request', user: 'a', service: 'ssh-connection', request: signedRequest(key, key) }),
      encodeAuthMessage({ type: 'userauth-request', user: 'a', service: 'ssh-connection', request: { method: 'keyboard-interactive', language: '', submethods: '' } }),
      encodeAuthMessage({ type: 'info-response', responses: ['x'] }),
      encodeAuthMessage({ type: 'service-request', service: 'ssh-userauth' }),
    ];
    for (let i = 0; i < 3000; i++) {
      const { server } = rawServer({ methods: ['none', 'publickey', 'keyboard-interactive', 'password'] });
      const base = seeds[i % seeds.length] ?? new Uint8Array(0);
      const input = i % 5 === 0 ? Uint8Array.of(50, ...randomBytes(rand, Math.floor(rand() * 60))) : mutate(rand, base);
      try {
        for (const e of server.handle(input)) {
          if (e.type === 'check') {
            server.respond(e.id, e.check.kind.startsWith('keyboard') ? { type: 'prompt', name: '', instruction: '', prompts: [{ prompt: 'p', echo: false }] } : reject);
          }
        }
        server.handle(seeds[3] ?? new Uint8Array(0));
      } catch (e) {
        if (!(e instanceof WireError) && !(e instanceof SshProtocolError)) throw e;
      }
    }
  });
});

describe('method lists', () => {
  it('never lists "none" in USERAUTH_FAILURE (RFC 4252 §5.2)', () => {
    const p = new AuthPair({ methods: ['none', 'keyboard-interactive'] }, { credentials: [] }, () => reject).start();
    expect(p.clientEventsOf('methods')[0]?.methods).toEqual(['keyboard-interactive']);
  });
});

describe('late EXT_INFO', () => {
  it('a hostbound announcement between the sign event and the signature does not split request and signature', () => {
    const key = ed25519Key();
    const pending: { id: Parameters<AuthPair['client']['signed']>[0]; data: Uint8Array }[] = [];
    const p = new AuthPair({}, { credentials: [pk(key)] }, () => accept);
    // hold signatures like a slow agent would
    const realOnClient = p.onClient.bind(p);
    p.onClient = (events) => {
      for (const e of events) if (e.type === 'sign') pending.push({ id: e.id, data: e.data });
      realOnClient(events.filter((e) => e.type !== 'sign'));
    };
    p.start();
    const s = pending[0];
    if (s === undefined) throw new Error('no sign event');
    p.client.setServerExtensions({ publickeyHostbound: true });
    p.onClient(p.client.signed(s.id, key.sign(s.data)));
    p.pump();
    expect(p.server.result).toBeDefined();
  });
});
