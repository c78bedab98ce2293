/**
 * Fuzzing every parser in src/keys with random and mutated inputs (deterministic PRNG, bounded
 * iterations): each must return or throw KeyFormatError, never anything else, and the
 * never-throwing checks (verifySignature, verifyCertificate, authorizeKey, KnownHosts.check)
 * must not throw at all.
 */
import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authorizeKey, parseAuthorizedKeyLine, parseAuthorizedKeys } from '../../src/keys/authorized-keys.js';
import { encodeBase64 } from '../../src/keys/base64.js';
import { signCertificate, verifyCertificate } from '../../src/keys/certificate.js';
import { KeyFormatError } from '../../src/keys/errors.js';
import { KnownHosts, hashKnownHostName } from '../../src/keys/known-hosts.js';
import { decodePem, encodePem } from '../../src/keys/pem.js';
import { generatePrivateKey, parsePrivateKey, serializeOpenSshPrivateKey } from '../../src/keys/private-key.js';
import { formatPublicKeyLine, parsePublicKeyBlob, parsePublicKeyLine } from '../../src/keys/public-key.js';
import { verifySignature } from '../../src/keys/signature.js';

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function mutate(input: Uint8Array, rnd: () => number): Uint8Array {
  const b = Array.from(input);
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 6)) {
      case 0:
        if (b.length > 0) b[at % b.length] = Math.floor(rnd() * 256);
        break;
      case 1:
        if (b.length > 0) b[at % b.length] = (b[at % b.length] ?? 0) ^ (1 << Math.floor(rnd() * 8));
        break;
      case 2:
        b.length = at;
        break;
      case 3:
        b.splice(at, 0, ...Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => Math.floor(rnd() * 256)));
        break;
      case 4:
        b.splice(at, Math.floor(rnd() * 16));
        break;
      default:
        // a length field blown up: the classic over-allocation probe
        if (b.length >= 4) b.splice(at % (b.length - 3), 4, 0x7f, 0xff, 0xff, Math.floor(rnd() * 256));
    }
  }
  return Uint8Array.from(b);
}

function randomBytes(rnd: () => number, max: number): Uint8Array {
  return Uint8Array.from({ length: Math.floor(rnd() * max) }, () => Math.floor(rnd() * 256));
}

/** Runs fn; anything thrown must be a KeyFormatError. Returns the count of successful parses. */
function expectTyped(fn: () => unknown, describeInput: () => string): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (!(e instanceof KeyFormatError)) throw new Error(`untyped ${String(e)} for input ${describeInput()}`, { cause: e });
    return false;
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const ed = generatePrivateKey('ssh-ed25519', undefined, 'ed');
const ec = generatePrivateKey('ecdsa-sha2-nistp384', undefined, 'ec');
const rsa = generatePrivateKey('ssh-rsa', 2048, 'rsa');
const cert = signCertificate(
  {
    key: ec.publicKey,
    type: 'user',
    keyId: 'fuzz',
    principals: ['a', 'b'],
    validAfter: 0,
    validBefore: 2 ** 40,
    criticalOptions: { 'force-command': 'x', 'source-address': '10.0.0.0/8' },
    extensions: { 'permit-pty': '' },
  },
  rsa,
);
const BLOBS = [ed.publicKeyBlob, ec.publicKeyBlob, rsa.publicKeyBlob, cert.blob];

describe('fuzz: public key blobs, lines and signatures', () => {
  it('parsePublicKeyBlob and verifySignature on random and mutated blobs', () => {
    const rnd = prng(1);
    const data = new Uint8Array([1, 2, 3]);
    const sig = ed.sign('ssh-ed25519', data);
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const seed = BLOBS[i % BLOBS.length] ?? ed.publicKeyBlob;
      const input = i % 10 === 0 ? randomBytes(rnd, 300) : mutate(seed, rnd);
      if (expectTyped(() => parsePublicKeyBlob(input), () => hex(input))) parsed++;
      expect(typeof verifySignature('ssh-ed25519', input, sig, data)).toBe('boolean');
      const badSig = mutate(sig, rnd);
      if (hex(badSig) !== hex(sig)) expect(verifySignature('ssh-ed25519', ed.publicKeyBlob, badSig, data)).toBe(false);
      expect(typeof verifyCertificate(input, { type: 'user', caKeys: [rsa.publicKeyBlob] }).ok).toBe('boolean');
    }
    expect(parsed).toBeGreaterThan(0);
  });

  it('parsePublicKeyLine on mutated lines', () => {
    const rnd = prng(2);
    const lines = BLOBS.map((b) => formatPublicKeyLine(b, 'comment here'));
    for (let i = 0; i < 2000; i++) {
      const l = new TextDecoder().decode(mutate(new TextEncoder().encode(lines[i % lines.length] ?? ''), rnd));
      expectTyped(() => parsePublicKeyLine(l), () => JSON.stringify(l));
    }
  });
});

describe('fuzz: private keys', () => {
  it('openssh-key-v1 (unencrypted) binary mutations', () => {
    const rnd = prng(3);
    const seeds = [ed, ec, rsa].map((k) => decodePem(serializeOpenSshPrivateKey(k)).data);
    for (let i = 0; i < 3000; i++) {
      const body = mutate(seeds[i % seeds.length] ?? new Uint8Array(0), rnd);
      const text = encodePem('OPENSSH PRIVATE KEY', body, 70);
      expectTyped(() => parsePrivateKey(text, 'pw', { maxKdfRounds: 2 }), () => hex(body));
    }
  });

  it('encrypted openssh-key-v1 mutations (KDF rounds bounded)', () => {
    const rnd = prng(4);
    const seed = decodePem(serializeOpenSshPrivateKey(ed, { passphrase: 'pw', rounds: 1 })).data;
    for (let i = 0; i < 60; i++) {
      const body = mutate(seed, rnd);
      const text = encodePem('OPENSSH PRIVATE KEY', body, 70);
      expectTyped(() => parsePrivateKey(text, 'pw', { maxKdfRounds: 2 }), () => hex(body));
    }
  });

  it('PKCS#8, PKCS#1 and SEC1 DER mutations', () => {
    const rnd = prng(5);
    // DER from Node for the seeds only (the code under test never uses node:crypto)
    const seeds: Array<[string, Uint8Array]> = [];
    const ecPem = createPrivateKey({ key: ecJwk(), format: 'jwk' });
    seeds.push(['PRIVATE KEY', ecPem.export({ format: 'der', type: 'pkcs8' })]);
    seeds.push(['EC PRIVATE KEY', ecPem.export({ format: 'der', type: 'sec1' })]);
    const rsaKey = createPrivateKey({ key: rsaJwk(), format: 'jwk' });
    seeds.push(['PRIVATE KEY', rsaKey.export({ format: 'der', type: 'pkcs8' })]);
    seeds.push(['RSA PRIVATE KEY', rsaKey.export({ format: 'der', type: 'pkcs1' })]);
    for (const [label, der] of seeds) expect(parsePrivateKey(encodePem(label, der)).publicKeyBlob.length).toBeGreaterThan(0);
    for (let i = 0; i < 2000; i++) {
      const [label, der] = seeds[i % seeds.length] ?? ['PRIVATE KEY', new Uint8Array(0)];
      const body = mutate(der, rnd);
      expectTyped(() => parsePrivateKey(encodePem(label, body)), () => `${label} ${hex(body)}`);
    }
  });

  it('random text and PEM armor', () => {
    const rnd = prng(6);
    for (let i = 0; i < 2000; i++) {
      const body = randomBytes(rnd, 200);
      const label = ['OPENSSH PRIVATE KEY', 'PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'X'][i % 6] ?? 'X';
      const text = i % 3 === 0 ? new TextDecoder().decode(body) : encodePem(label, body);
      expectTyped(() => parsePrivateKey(text, 'pw', { maxKdfRounds: 2 }), () => JSON.stringify(text));
    }
  });
});

function b64u(b: Uint8Array): string {
  return encodeBase64(b, false).replace(/\+/g, '-').replace(/\//g, '_');
}
function ecJwk() {
  if (ec.material.type === 'ssh-rsa' || ec.material.type === 'ssh-ed25519' || !('point' in ec.publicKey)) throw new Error('ec');
  const p = ec.publicKey.point;
  return { kty: 'EC', crv: 'P-384', d: b64u(ec.material.scalar), x: b64u(p.subarray(1, 49)), y: b64u(p.subarray(49)) };
}
function rsaJwk() {
  if (rsa.material.type !== 'ssh-rsa') throw new Error('rsa');
  const r = rsa.material.rsa;
  const big = (b: Uint8Array) => BigInt(`0x${hex(b)}`);
  const toB = (v: bigint) => {
    let h = v.toString(16);
    if (h.length % 2) h = `0${h}`;
    return Uint8Array.from(Buffer.from(h, 'hex'));
  };
  const d = big(r.d);
  return {
    kty: 'RSA',
    n: b64u(r.n),
    e: b64u(r.e),
    d: b64u(r.d),
    p: b64u(r.p),
    q: b64u(r.q),
    dp: b64u(toB(d % (big(r.p) - 1n))),
    dq: b64u(toB(d % (big(r.q) - 1n))),
    qi: b64u(r.iqmp),
  };
}

describe('fuzz: authorized_keys, known_hosts, certificates', () => {
  const akLines = [
    `restrict,pty,command="echo \\"x\\"",from="10.0.0.0/8,!10.1.1.1,*.ex.com" ${formatPublicKeyLine(ed.publicKeyBlob, 'c')}`,
    `cert-authority,principals="a,b",expiry-time="20300101Z",permitopen="h:22" ${formatPublicKeyLine(rsa.publicKeyBlob)}`,
  ];
  it('authorized_keys lines and decisions', () => {
    const rnd = prng(7);
    const good = parseAuthorizedKeys(akLines.join('\n'));
    for (let i = 0; i < 2000; i++) {
      const l = new TextDecoder().decode(mutate(new TextEncoder().encode(akLines[i % 2] ?? ''), rnd));
      expectTyped(() => parseAuthorizedKeyLine(l), () => JSON.stringify(l));
      const blob = mutate(BLOBS[i % BLOBS.length] ?? cert.blob, rnd);
      const d = authorizeKey(good, { keyBlob: blob, user: 'a', address: i % 2 ? '10.2.3.4' : 'not-an-ip', now: 1 });
      expect(typeof d.ok).toBe('boolean');
    }
  });

  it('known_hosts lines and lookups', () => {
    const rnd = prng(8);
    const text = [
      `${hashKnownHostName('db1')} ${formatPublicKeyLine(ed.publicKeyBlob)}`,
      `@cert-authority *.corp,[db2]:2222 ${formatPublicKeyLine(rsa.publicKeyBlob)}`,
      `@revoked !x,* ${formatPublicKeyLine(ec.publicKeyBlob)}`,
    ].join('\n');
    const bytes = new TextEncoder().encode(text);
    const kh = KnownHosts.parse(text);
    for (let i = 0; i < 2000; i++) {
      const t = new TextDecoder().decode(mutate(bytes, rnd));
      expectTyped(() => KnownHosts.parse(t), () => JSON.stringify(t));
      const blob = mutate(BLOBS[i % BLOBS.length] ?? cert.blob, rnd);
      expect(['match', 'mismatch', 'unknown', 'revoked']).toContain(kh.lookup(i % 2 ? 'db1' : 'a.corp', 22, blob));
    }
  });
});
