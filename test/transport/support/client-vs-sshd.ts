/**
 * Our client Transport against a real sshd: for each combination, connect, complete the key
 * exchange, send SERVICE_REQUEST "ssh-userauth" and expect SERVICE_ACCEPT. A SERVICE_ACCEPT
 * can only be read with the right keys in both directions, so it proves the key derivation.
 */
import { expect } from 'vitest';
import { defaultBackend } from '../../../src/crypto/index.js';
import { createSignatureVerifier } from '../../../src/keys/signature.js';
import type { NegotiatedAlgorithms, TransportEvent } from '../../../src/transport/transport-types.js';
import { Msg, SshReader, SshWriter } from '../../../src/wire/index.js';
import { type SshdHandle, generateKey, makeTempDir, signCertificate, startSshd } from '../../support/index.js';
import { type Combo, type OpensshGeneration, comboName, kexFor, mapLimit } from './interop-matrix.js';
import { connectTransport, isType } from './tcp-driver.js';

/** sshd with one host key of each kind and every KEX we implement enabled (10.0 drops MODP by default). */
export function startMatrixSshd(version: OpensshGeneration, extra: readonly string[] = [], authorizedKeys: readonly string[] = []): Promise<SshdHandle> {
  return startSshd({
    version,
    authorizedKeys,
    hostKeyTypes: ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-3072'],
    extraConfig: [
      `KexAlgorithms ${kexFor(version).join(',')}`,
      'HostKeyAlgorithms ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-256,rsa-sha2-512',
      // OpenSSH >= 9.8 penalizes sources whose connections end before authentication
      ...(version === '10.0' ? ['PerSourcePenalties no'] : []),
      ...extra,
    ],
    sftp: false,
  });
}

export interface ClientResult {
  readonly combo: Combo | null;
  readonly ok: boolean;
  readonly detail: string;
  readonly algorithms?: NegotiatedAlgorithms;
  readonly strict?: boolean;
}

/** One connection; `combo` null means our client's default offer. */
export async function clientHandshake(port: number, combo: Combo | null): Promise<ClientResult> {
  const legacy = combo?.kex === 'diffie-hellman-group14-sha1';
  const d = await connectTransport(
    port,
    {
      role: 'client',
      verifySignature: createSignatureVerifier(),
      legacy,
      ...(combo === null
        ? {}
        : { algorithms: { kex: [combo.kex], cipher: [combo.cipher], mac: [combo.mac ?? 'hmac-sha2-256-etm@openssh.com'], hostKey: [combo.hostKey] } }),
    },
    (ev, dd) => {
      if (ev.type === 'host-key') dd.transport.acceptHostKey();
      if (ev.type === 'kex-complete') dd.transport.send(new SshWriter().byte(Msg.SERVICE_REQUEST).string('ssh-userauth').finish());
    },
  );
  try {
    const kex = await d.waitFor(isType('kex-complete'));
    const p = await d.waitFor(isType('payload'));
    const r = new SshReader(p.payload);
    const ok = r.byte() === Msg.SERVICE_ACCEPT && r.string() === 'ssh-userauth';
    return { combo, ok, detail: ok ? 'SERVICE_ACCEPT' : `unexpected payload ${p.payload[0]}`, algorithms: kex.algorithms, strict: kex.strict };
  } catch (e) {
    return { combo, ok: false, detail: String(e) };
  } finally {
    d.transport.disconnect(11, 'done');
    d.socket.destroy();
  }
}

/** Runs the whole matrix and asserts every combination negotiated what it asked for and got SERVICE_ACCEPT. */
export async function runClientMatrix(sshd: SshdHandle, combos: readonly Combo[]): Promise<void> {
  const results = await mapLimit(combos, 8, (c) => clientHandshake(sshd.port, c));
  const failures = results.filter((r) => {
    if (!r.ok || r.combo === null || r.algorithms === undefined) return true;
    const a = r.algorithms;
    return a.kex !== r.combo.kex || a.cipherClientToServer !== r.combo.cipher || a.macClientToServer !== r.combo.mac || a.hostKey !== r.combo.hostKey;
  });
  expect(failures.map((f) => `${f.combo === null ? 'default' : comboName(f.combo)}: ${f.detail}`)).toEqual([]);
  expect(results.every((r) => r.strict === true)).toBe(true);
}

/** An ed25519 user key on the backend, with its authorized_keys line (sshd only rekeys after authentication). */
export function testUserKey(): { seed: Uint8Array; blob: Uint8Array; authorizedKey: string } {
  const seed = defaultBackend.randomBytes(32);
  const blob = new SshWriter().string('ssh-ed25519').string(defaultBackend.ed25519PublicKey(seed)).finish();
  return { seed, blob, authorizedKey: `ssh-ed25519 ${Buffer.from(blob).toString('base64')} transport-test` };
}

/** RFC 4252 §7 publickey request, signed over the session id. */
function publickeyRequest(sessionId: Uint8Array, key: { seed: Uint8Array; blob: Uint8Array }): Uint8Array {
  const body = new SshWriter()
    .byte(Msg.USERAUTH_REQUEST)
    .string('root')
    .string('ssh-connection')
    .string('publickey')
    .bool(true)
    .string('ssh-ed25519')
    .string(key.blob)
    .finish();
  const signed = new SshWriter().string(sessionId).raw(body).finish();
  const sig = new SshWriter().string('ssh-ed25519').string(defaultBackend.ed25519Sign(key.seed, signed)).finish();
  return new SshWriter().raw(body).string(sig).finish();
}

/**
 * Rekeying against a real sshd (which rekeys only after authentication): publickey auth, then
 * IGNORE padding (so an sshd with a small RekeyLimit starts rekeys of its own) and
 * "keepalive@openssh.com" global requests; with `clientRekeys` our client also starts a rekey
 * before every other probe. Every request must get its REQUEST_FAILURE back across all the
 * exchanges. Returns the count of completed exchanges.
 */
export async function rekeyRoundTrips(
  port: number,
  key: { seed: Uint8Array; blob: Uint8Array },
  probes: number,
  clientRekeys: boolean,
): Promise<{ kexCount: number; replies: number }> {
  let kexCount = 0;
  const d = await connectTransport(port, { role: 'client', verifySignature: createSignatureVerifier() }, (ev, dd) => {
    if (ev.type === 'host-key') dd.transport.acceptHostKey();
    if (ev.type === 'kex-complete') {
      kexCount++;
      if (ev.initial) dd.transport.send(new SshWriter().byte(Msg.SERVICE_REQUEST).string('ssh-userauth').finish());
    }
  });
  const count = (id: number): number => d.events.filter((x) => x.type === 'payload' && x.payload[0] === id).length;
  const atLeast =
    (id: number, n: number) =>
    (e: TransportEvent): e is Extract<TransportEvent, { type: 'payload' }> =>
      e.type === 'payload' && count(id) >= n;
  const padding = new Uint8Array(4096);
  padding[0] = Msg.IGNORE;
  try {
    await d.waitFor(atLeast(Msg.SERVICE_ACCEPT, 1));
    const sessionId = d.transport.sessionId;
    if (sessionId === undefined) throw new Error('no session id');
    d.transport.send(publickeyRequest(sessionId, key));
    await d.waitFor(atLeast(Msg.USERAUTH_SUCCESS, 1));
    for (let i = 1; i <= probes; i++) {
      if (clientRekeys && i % 2 === 1) d.transport.rekey();
      d.transport.send(padding);
      d.transport.send(new SshWriter().byte(Msg.GLOBAL_REQUEST).string('keepalive@openssh.com').bool(true).finish());
      await d.waitFor(atLeast(Msg.REQUEST_FAILURE, i));
    }
    return { kexCount, replies: count(Msg.REQUEST_FAILURE) };
  } finally {
    d.transport.disconnect(11, 'done');
    d.socket.destroy();
  }
}

/** Host certificate algorithms our client negotiates with an sshd that has HostCertificate lines. */
export const CERT_HOST_KEY_ALGS = [
  'ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'rsa-sha2-512-cert-v01@openssh.com',
  'rsa-sha2-256-cert-v01@openssh.com',
];

/**
 * sshd whose host keys (ed25519, ECDSA P-256, RSA 3072) carry host certificates signed by an
 * ed25519 CA with ssh-keygen -s -h.
 */
export async function startCertSshd(version: OpensshGeneration): Promise<SshdHandle & { keysDir: string }> {
  const keysDir = makeTempDir('gatehouse-hostcert-');
  const ca = await generateKey(keysDir, 'host_ca', 'ed25519');
  const lines: string[] = [];
  for (const t of ['ed25519', 'ecdsa-256', 'rsa-3072'] as const) {
    const k = await generateKey(keysDir, `host_${t}`, t);
    await signCertificate(ca.privatePath, k.publicPath, { identity: `host-${t}`, host: true, principals: ['127.0.0.1'] });
    lines.push(`HostKey ${k.privatePath}`, `HostCertificate ${k.publicPath.replace(/\.pub$/, '-cert.pub')}`);
  }
  const sshd = await startSshd({
    version,
    hostKeyTypes: [],
    extraConfig: [...lines, ...(version === '10.0' ? ['PerSourcePenalties no'] : [])],
    sftp: false,
  });
  return Object.assign(sshd, { keysDir });
}

/** One connection offering only `hostKey` (a -cert-v01 algorithm); returns the K_S type and the reply. */
export async function certHandshake(port: number, hostKey: string): Promise<{ keyType: string; detail: string }> {
  let keyType = '';
  const d = await connectTransport(
    port,
    { role: 'client', verifySignature: createSignatureVerifier(), algorithms: { hostKey: [hostKey] } },
    (ev, dd) => {
      if (ev.type === 'host-key') {
        keyType = new SshReader(ev.publicKey).ascii(64);
        dd.transport.acceptHostKey();
      }
      if (ev.type === 'kex-complete') dd.transport.send(new SshWriter().byte(Msg.SERVICE_REQUEST).string('ssh-userauth').finish());
    },
  );
  try {
    const p = await d.waitFor(isType('payload'));
    return { keyType, detail: p.payload[0] === Msg.SERVICE_ACCEPT ? 'SERVICE_ACCEPT' : `message ${p.payload[0]}` };
  } catch (e) {
    return { keyType, detail: String(e) };
  } finally {
    d.transport.disconnect(11, 'done');
    d.socket.destroy();
  }
}
