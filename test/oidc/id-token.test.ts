import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/oidc/config.js';
import { IdTokenError } from '../../src/oidc/errors.js';
import { checkIdTokenClaims, decodeJwt, type IdTokenVerifyOptions, verifyIdToken } from '../../src/oidc/id-token.js';
import { JwksCache, parseJwks } from '../../src/oidc/jwks-cache.js';
import { signJwt } from './support/jwt.js';

const NOW = 1_800_000_000;
const ISS = 'https://idp.example';
const good = { iss: ISS, sub: 'alice', aud: 'gatehouse', iat: NOW - 5, exp: NOW + 300, email: 'alice@example.com' };

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const ed = generateKeyPairSync('ed25519').privateKey;
const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

function pub(k: KeyObject, kid: string) {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest } = k.export({ format: 'jwk' });
  return { ...rest, kid, use: 'sig' };
}

// A JWKS endpoint whose key set the test can rotate.
let jwksKeys: unknown[] = [pub(rsa, 'rsa1'), pub(ec, 'ec1'), pub(ed, 'ed1')];
let jwksFetches = 0;
let jwksDown = false;
const server = createServer((_req, res) => {
  jwksFetches++;
  if (jwksDown) {
    res.statusCode = 503;
    res.end();
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ keys: jwksKeys }));
});
let jwksUri: URL;
let clock = NOW * 1000;

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  jwksUri = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`);
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function opts(over: Partial<IdTokenVerifyOptions> = {}): IdTokenVerifyOptions {
  return {
    issuer: ISS,
    clientId: 'gatehouse',
    nonce: undefined,
    nowSeconds: NOW,
    clockSkewSeconds: 60,
    maxAgeSeconds: 600,
    keys: new JwksCache({ jwksUri, timeoutMs: 5000, now: () => clock }),
    allowHmac: false,
    clientSecret: new Secret('client-secret-for-hmac-0123456789'),
    ...over,
  };
}

async function rejection(token: string, o: IdTokenVerifyOptions = opts()): Promise<IdTokenError> {
  try {
    await verifyIdToken(token, o);
  } catch (err) {
    if (err instanceof IdTokenError) return err;
    throw err;
  }
  throw new Error('token was accepted');
}

describe('verifyIdToken: signatures', () => {
  it('accepts RS256, ES256 and EdDSA tokens signed by the provider keys', async () => {
    const o = opts();
    expect((await verifyIdToken(signJwt({ alg: 'RS256', kid: 'rsa1' }, good, rsa), o)).sub).toBe('alice');
    expect((await verifyIdToken(signJwt({ alg: 'ES256', kid: 'ec1' }, good, ec), o)).sub).toBe('alice');
    expect((await verifyIdToken(signJwt({ alg: 'EdDSA', kid: 'ed1' }, good, ed), o)).sub).toBe('alice');
  });

  it('refuses alg none whatever the claims', async () => {
    expect((await rejection(signJwt({ alg: 'none' }, good))).reason).toBe('alg-none');
    expect((await rejection(signJwt({ alg: 'NONE' }, good))).reason).toBe('alg-none');
  });

  it('refuses a token signed by another key under the provider kid', async () => {
    expect((await rejection(signJwt({ alg: 'RS256', kid: 'rsa1' }, good, other))).reason).toBe('bad-signature');
  });

  it('refuses a token whose payload was altered after signing', async () => {
    const token = signJwt({ alg: 'RS256', kid: 'rsa1' }, good, rsa);
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...good, sub: 'mallory' })).toString('base64url')}.${s}`;
    expect((await rejection(forged)).reason).toBe('bad-signature');
  });

  it('refuses HS256 keyed with the client secret unless configured, then checks the MAC', async () => {
    const secret = 'client-secret-for-hmac-0123456789';
    const token = signJwt({ alg: 'HS256' }, good, secret);
    expect((await rejection(token)).reason).toBe('hmac-not-allowed');
    expect((await verifyIdToken(token, opts({ allowHmac: true }))).sub).toBe('alice');
    expect((await rejection(signJwt({ alg: 'HS256' }, good, 'wrong-secret'), opts({ allowHmac: true }))).reason).toBe('bad-signature');
  });

  it('refuses the RS256 public key used as an HMAC secret (algorithm confusion)', async () => {
    const pem = rsa.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect((await rejection(signJwt({ alg: 'HS256', kid: 'rsa1' }, good, pem))).reason).toBe('hmac-not-allowed');
  });

  it('refreshes the JWKS when a token names an unknown kid (rotation), at most once per interval', async () => {
    jwksKeys = [pub(rsa, 'rsa1')];
    const keys = new JwksCache({ jwksUri, timeoutMs: 5000, now: () => clock, minRefreshIntervalMs: 30_000 });
    const o = opts({ keys });
    await verifyIdToken(signJwt({ alg: 'RS256', kid: 'rsa1' }, good, rsa), o);
    const rotated = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    jwksKeys = [pub(rsa, 'rsa1'), pub(rotated, 'rsa2')];
    const before = jwksFetches;
    // Too soon after the last fetch: no refresh, unknown key.
    expect((await rejection(signJwt({ alg: 'RS256', kid: 'rsa2' }, good, rotated), o)).reason).toBe('unknown-key');
    expect(jwksFetches).toBe(before);
    clock += 31_000;
    expect((await verifyIdToken(signJwt({ alg: 'RS256', kid: 'rsa2' }, good, rotated), o)).sub).toBe('alice');
    expect(jwksFetches).toBe(before + 1);
    // A random kid after that does not trigger another fetch within the interval.
    expect((await rejection(signJwt({ alg: 'RS256', kid: 'random' }, good, rotated), o)).reason).toBe('unknown-key');
    expect(jwksFetches).toBe(before + 1);
    jwksKeys = [pub(rsa, 'rsa1'), pub(ec, 'ec1'), pub(ed, 'ed1')];
  });
});

describe('JwksCache availability', () => {
  it('keeps its keys when the periodic refresh fails, and fails clearly without any keys', async () => {
    const keys = new JwksCache({ jwksUri, timeoutMs: 5000, now: () => clock, maxAgeMs: 1000 });
    const o = opts({ keys });
    await verifyIdToken(signJwt({ alg: 'RS256', kid: 'rsa1' }, good, rsa), o);
    jwksDown = true;
    try {
      clock += 5000;
      const before = jwksFetches;
      expect((await verifyIdToken(signJwt({ alg: 'RS256', kid: 'rsa1' }, good, rsa), o)).sub).toBe('alice');
      expect(jwksFetches).toBe(before + 1);
      const empty = new JwksCache({ jwksUri, timeoutMs: 5000, now: () => clock });
      const err = await rejection(signJwt({ alg: 'RS256', kid: 'rsa1' }, good, rsa), opts({ keys: empty }));
      expect(err.reason).toBe('unknown-key');
      expect(err.message).toMatch(/cannot fetch the provider's JWKS.*HTTP 503/);
    } finally {
      jwksDown = false;
    }
  });
});

describe('checkIdTokenClaims', () => {
  const x = { issuer: ISS, clientId: 'gatehouse', nonce: undefined, nowSeconds: NOW, clockSkewSeconds: 60, maxAgeSeconds: 600 };
  const reason = (claims: Record<string, unknown>, over: Partial<typeof x> | { nonce: string } = {}) => {
    try {
      checkIdTokenClaims(claims, { ...x, ...over });
      return 'accepted';
    } catch (err) {
      return (err as IdTokenError).reason;
    }
  };
  it('accepts a good token', () => expect(reason(good)).toBe('accepted'));
  it('checks the issuer', () => expect(reason({ ...good, iss: 'https://evil.example' })).toBe('issuer'));
  it('checks the audience', () => {
    expect(reason({ ...good, aud: 'another-app' })).toBe('audience');
    expect(reason({ ...good, aud: ['another-app'] })).toBe('audience');
    expect(reason({ ...good, aud: 42 })).toBe('audience');
  });
  it('requires azp naming us when there are several audiences', () => {
    expect(reason({ ...good, aud: ['gatehouse', 'other'] })).toBe('azp');
    expect(reason({ ...good, aud: ['gatehouse', 'other'], azp: 'other' })).toBe('azp');
    expect(reason({ ...good, aud: ['gatehouse', 'other'], azp: 'gatehouse' })).toBe('accepted');
    expect(reason({ ...good, azp: 'other' })).toBe('azp');
  });
  it('checks exp, iat (with skew) and nbf', () => {
    expect(reason({ ...good, exp: NOW - 61 })).toBe('expired');
    expect(reason({ ...good, exp: NOW - 30 })).toBe('accepted');
    expect(reason({ ...good, iat: NOW + 61 })).toBe('issued-in-future');
    expect(reason({ ...good, iat: NOW + 30 })).toBe('accepted');
    expect(reason({ ...good, iat: NOW - 3600 })).toBe('too-old');
    expect(reason({ ...good, nbf: NOW + 120 })).toBe('not-yet-valid');
    expect(reason({ ...good, exp: '9999999999' })).toBe('malformed');
    const { iat: _iat, ...noIat } = good;
    expect(reason(noIat)).toBe('malformed');
  });
  it('checks the nonce: equal when sent, absent when not', () => {
    expect(reason({ ...good, nonce: 'n1' }, { nonce: 'n1' })).toBe('accepted');
    expect(reason({ ...good, nonce: 'n2' }, { nonce: 'n1' })).toBe('nonce');
    expect(reason(good, { nonce: 'n1' })).toBe('nonce');
    expect(reason({ ...good, nonce: 'n1' })).toBe('nonce');
  });
  it('requires a string subject', () => expect(reason({ ...good, sub: 7 })).toBe('subject'));
});

describe('parseJwks fuzz', () => {
  it('keeps only public, well-formed entries and fails only with IdTokenError', () => {
    const seed = JSON.stringify({ keys: [pub(rsa, 'a'), pub(ec, 'b'), { kty: 'oct', k: 'c2VjcmV0' }, { ...rsa.export({ format: 'jwk' }), kid: 'private' }] });
    expect(parseJwks(seed).map((k) => k.jwk.kid)).toEqual(['a', 'b']);
    for (let i = 0; i < 2000; i++) {
      const chars = [...seed];
      for (let e = 0; e < 1 + (i % 6); e++) chars[randomBytes(2).readUInt16BE() % chars.length] = '{}[]":,0a'[(randomBytes(1)[0] ?? 0) % 9] ?? '0';
      try {
        parseJwks(i % 7 === 0 ? randomBytes(i % 100).toString('latin1') : chars.join(''));
      } catch (err) {
        expect(err).toBeInstanceOf(IdTokenError);
      }
    }
  });
});

describe('decodeJwt fuzz', () => {
  it('gives a value or an IdTokenError for random and mutated inputs', () => {
    const seed = signJwt({ alg: 'RS256', kid: 'rsa1' }, good, rsa);
    const alphabet = 'ABCxyz019-_.=+/{}"';
    for (let i = 0; i < 3000; i++) {
      let input: string;
      if (i % 3 === 0) {
        input = randomBytes(i % 200).toString('latin1');
      } else {
        const chars = [...seed];
        const edits = 1 + (i % 8);
        for (let e = 0; e < edits; e++) {
          const pos = randomBytes(2).readUInt16BE() % chars.length;
          chars[pos] = alphabet[(randomBytes(1)[0] ?? 0) % alphabet.length] ?? 'A';
        }
        input = i % 5 === 0 ? chars.join('').slice(0, randomBytes(2).readUInt16BE() % chars.length) : chars.join('');
      }
      try {
        decodeJwt(input);
      } catch (err) {
        expect(err).toBeInstanceOf(IdTokenError);
      }
    }
  });
});
