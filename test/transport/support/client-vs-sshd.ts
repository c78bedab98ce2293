/**
 * Our client Transport against a real sshd: for each combination, connect, complete the key
 * exchange, send SERVICE_REQUEST "ssh-userauth" and expect SERVICE_ACCEPT. A SERVICE_ACCEPT
 * can only be read with the right keys in both directions, so it proves the key derivation.
 */
import { expect } from 'vitest';
import { createSignatureVerifier } from '../../../src/keys/signature.js';
import type { NegotiatedAlgorithms } from '../../../src/transport/transport-types.js';
import { Msg, SshReader, SshWriter } from '../../../src/wire/index.js';
import { type SshdHandle, startSshd } from '../../support/index.js';
import { type Combo, type OpensshGeneration, comboName, kexFor, mapLimit } from './interop-matrix.js';
import { connectTransport, isType } from './tcp-driver.js';

/** sshd with one host key of each kind and every KEX we implement enabled (10.0 drops MODP by default). */
export function startMatrixSshd(version: OpensshGeneration): Promise<SshdHandle> {
  return startSshd({
    version,
    hostKeyTypes: ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-3072'],
    extraConfig: [
      `KexAlgorithms ${kexFor(version).join(',')}`,
      'HostKeyAlgorithms ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-256,rsa-sha2-512',
      // OpenSSH >= 9.8 penalizes sources whose connections end before authentication
      ...(version === '10.0' ? ['PerSourcePenalties no'] : []),
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
