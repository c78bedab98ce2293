/**
 * The ssh-agent protocol client against a real ssh-agent (openssh-client), plus fuzzing of
 * the agent message parsers.
 */
import { createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/net/agent-client.js';
import {
  AGENT_MAX_MESSAGE,
  AgentFrameReader,
  AgentProtocolError,
  decodeIdentitiesAnswer,
  decodeSignResponse,
  encodeSignRequest,
  signFlagsFor,
} from '../../src/net/agent-protocol.js';
import { SshReader, SshWriter, WireError } from '../../src/wire/index.js';
import { type AgentHandle, generateKey, makeTempDir, requireBinaries, startSshAgent } from '../support/index.js';

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** Verifies an SSH signature blob against an SSH public key blob with node:crypto (test oracle). */
function verifySshSignature(keyBlob: Uint8Array, sigBlob: Uint8Array, data: Uint8Array): string {
  const kr = new SshReader(keyBlob);
  const keyType = kr.ascii();
  const sr = new SshReader(sigBlob);
  const algo = sr.ascii();
  const sig = sr.bytes();
  if (keyType === 'ssh-ed25519') {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(kr.bytes()) }, format: 'jwk' });
    if (!verify(null, data, key, sig)) throw new Error('bad ed25519 signature');
  } else if (keyType === 'ssh-rsa') {
    const e = kr.mpintBytes();
    const n = kr.mpintBytes();
    const key = createPublicKey({ key: { kty: 'RSA', e: b64url(e), n: b64url(n) }, format: 'jwk' });
    const hash = algo === 'rsa-sha2-512' ? 'sha512' : algo === 'rsa-sha2-256' ? 'sha256' : 'sha1';
    if (!verify(hash, data, key, sig)) throw new Error('bad rsa signature');
  } else {
    throw new Error(`oracle does not handle ${keyType}`);
  }
  return algo;
}

const req = requireBinaries('ssh-agent', 'ssh-add', 'ssh-keygen');

describe.skipIf(req.skip)(`AgentClient against a real ssh-agent${req.reason}`, () => {
  let agent: AgentHandle;
  let client: AgentClient;
  beforeAll(async () => {
    const dir = makeTempDir();
    agent = await startSshAgent();
    await agent.add((await generateKey(dir, 'ed', 'ed25519', { comment: 'ed-comment' })).privatePath);
    await agent.add((await generateKey(dir, 'rsa', 'rsa-2048', { comment: 'rsa-comment' })).privatePath);
    client = await AgentClient.connect(agent.socket);
  });
  afterAll(async () => {
    client?.close();
    await agent?.stop();
  });

  it('lists the identities ssh-add loaded, with comments and types', async () => {
    const ids = await client.listIdentities();
    expect(ids.map((i) => [i.keyType, i.comment])).toEqual([
      ['ssh-ed25519', 'ed-comment'],
      ['ssh-rsa', 'rsa-comment'],
    ]);
    const lines = await agent.list();
    expect(lines.map((l) => l.split(' ')[1])).toEqual(ids.map((i) => Buffer.from(i.keyBlob).toString('base64')));
  });

  it('gets ed25519 and rsa-sha2-256/512 signatures that verify', async () => {
    const ids = await client.listIdentities();
    const data = new TextEncoder().encode('exchange hash stand-in');
    const ed = ids.find((i) => i.keyType === 'ssh-ed25519');
    const rsa = ids.find((i) => i.keyType === 'ssh-rsa');
    if (ed === undefined || rsa === undefined) throw new Error('missing identity');
    expect(verifySshSignature(ed.keyBlob, await client.sign(ed.keyBlob, data, 'ssh-ed25519'), data)).toBe('ssh-ed25519');
    expect(verifySshSignature(rsa.keyBlob, await client.sign(rsa.keyBlob, data, 'rsa-sha2-512'), data)).toBe('rsa-sha2-512');
    expect(verifySshSignature(rsa.keyBlob, await client.sign(rsa.keyBlob, data, 'rsa-sha2-256'), data)).toBe('rsa-sha2-256');
    // Requests pipelined without awaiting still get their own replies, in order.
    const [a, b] = await Promise.all([client.sign(rsa.keyBlob, data, 'rsa-sha2-256'), client.sign(ed.keyBlob, data, 'ssh-ed25519')]);
    expect(verifySshSignature(rsa.keyBlob, a, data)).toBe('rsa-sha2-256');
    expect(verifySshSignature(ed.keyBlob, b, data)).toBe('ssh-ed25519');
  });

  it('turns a refusal to sign with an unknown key into AgentProtocolError', async () => {
    const dir = makeTempDir();
    const other = await generateKey(dir, 'x', 'ed25519');
    const blob = new Uint8Array(Buffer.from(other.publicLine.split(' ')[1] ?? '', 'base64'));
    await expect(client.sign(blob, new Uint8Array(4), 'ssh-ed25519')).rejects.toBeInstanceOf(AgentProtocolError);
    // The connection stays usable after a failure reply.
    expect((await client.listIdentities()).length).toBe(2);
  });
});

describe('agent protocol codecs', () => {
  it('maps signature algorithms to sign flags', () => {
    expect(signFlagsFor('rsa-sha2-512')).toBe(4);
    expect(signFlagsFor('rsa-sha2-256-cert-v01@openssh.com')).toBe(2);
    expect(signFlagsFor('ssh-ed25519')).toBe(0);
  });

  it('frames messages and rejects oversized lengths before buffering', () => {
    const r = new AgentFrameReader();
    const msg = encodeSignRequest(Uint8Array.of(1, 2), Uint8Array.of(3), 4);
    expect(r.push(msg.subarray(0, 3))).toEqual([]);
    const out = r.push(msg.subarray(3));
    expect(out).toHaveLength(1);
    expect(out[0]?.length).toBe(msg.length - 4);
    expect(() => new AgentFrameReader().push(Uint8Array.of(0, 0x04, 0, 1))).toThrow(WireError);
    expect(AGENT_MAX_MESSAGE).toBe(262144);
  });

  it('fuzz: random and mutated replies give typed errors only', () => {
    const good = new SshWriter()
      .byte(12)
      .uint32(1)
      .string(new SshWriter().string('ssh-ed25519').string(new Uint8Array(32)).finish())
      .string('c')
      .finish();
    const goodSig = new SshWriter().byte(14).string(new SshWriter().string('ssh-ed25519').string(new Uint8Array(64)).finish()).finish();
    expect(decodeIdentitiesAnswer(good)).toHaveLength(1);
    expect(decodeSignResponse(goodSig).length).toBe(4 + 11 + 4 + 64);
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 20_000; i++) {
      const base = i % 3 === 0 ? good : i % 3 === 1 ? goodSig : new Uint8Array(rnd() % 64);
      const m = base.slice();
      for (let k = 0; k < 1 + (rnd() % 4); k++) if (m.length > 0) m[rnd() % m.length] = rnd() & 0xff;
      const cut = m.subarray(0, rnd() % (m.length + 1));
      for (const input of [m, cut]) {
        for (const f of [decodeIdentitiesAnswer, decodeSignResponse]) {
          try {
            f(input);
          } catch (e) {
            expect(e instanceof WireError || e instanceof AgentProtocolError).toBe(true);
          }
        }
        try {
          new AgentFrameReader().push(input);
        } catch (e) {
          expect(e).toBeInstanceOf(WireError);
        }
      }
    }
  });
});
