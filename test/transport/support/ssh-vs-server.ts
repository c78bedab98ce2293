/**
 * The real OpenSSH client against our server Transport: `ssh -vvv -o KexAlgorithms=… -o
 * Ciphers=… -o MACs=… -o HostKeyAlgorithms=…`, with the negotiated algorithms read back from
 * ssh's debug output. Our server answers the first higher-layer message (ssh's
 * SERVICE_REQUEST) by disconnecting; by then both NEWKEYS have crossed.
 */
import { expect } from 'vitest';
import type { HostKeySigner } from '../../../src/transport/host-key.js';
import { supportedAlgorithms } from '../../../src/transport/algorithms.js';
import type { Transport } from '../../../src/transport/transport.js';
import type { TransportEvent, TransportOptions } from '../../../src/transport/transport-types.js';
import { Msg, SshReader, SshWriter } from '../../../src/wire/index.js';
import { run } from '../../support/index.js';
import { type Combo, comboName, mapLimit } from './interop-matrix.js';
import { listenTransport } from './tcp-driver.js';
import { testHostKey } from './test-host-keys.js';

let keys: HostKeySigner[] | undefined;

/** One host key of each kind (ed25519, ECDSA P-256/384/521, RSA 3072), made once per file. */
export function allHostKeys(): HostKeySigner[] {
  keys ??= [testHostKey('ed25519'), testHostKey('ecdsa-p256'), testHostKey('ecdsa-p384'), testHostKey('ecdsa-p521'), testHostKey('rsa')];
  return keys;
}

/** A server that accepts everything we implement (legacy included), so the ssh client's -o options decide. */
export function permissiveServerOptions(): TransportOptions {
  return {
    role: 'server',
    hostKeys: allHostKeys(),
    legacy: true,
    algorithms: {
      kex: supportedAlgorithms('kex', true),
      hostKey: supportedAlgorithms('host-key', true).filter((a) => !a.includes('cert')),
      cipher: supportedAlgorithms('cipher', true),
      mac: supportedAlgorithms('mac', true),
    },
  };
}

export interface SshRunResult {
  readonly stderr: string;
  readonly serverEvents: TransportEvent[];
}

/** Our server's reaction to events; the default ends the connection at the first payload. */
export type ServerHook = (ev: TransportEvent, t: Transport) => void;

const endAtFirstPayload: ServerHook = (ev, t) => {
  if (ev.type === 'payload') t.disconnect(11, 'interop test done');
};

/**
 * Server-started rekey with a real ssh. OpenSSH refuses KEXINIT during authentication, so our
 * server accepts the "none" method, rekeys right after USERAUTH_SUCCESS, and answers ssh's
 * CHANNEL_OPEN with CHANNEL_OPEN_FAILURE: ssh can only print that reason after reading our
 * packet under the second keys.
 */
export const authThenRekey: ServerHook = (ev, t) => {
  if (ev.type !== 'payload') return;
  const r = new SshReader(ev.payload);
  switch (r.byte()) {
    case Msg.SERVICE_REQUEST:
      t.send(new SshWriter().byte(Msg.SERVICE_ACCEPT).string('ssh-userauth').finish());
      return;
    case Msg.USERAUTH_REQUEST:
      t.send(Uint8Array.of(Msg.USERAUTH_SUCCESS));
      t.rekey();
      return;
    case Msg.CHANNEL_OPEN: {
      r.string();
      const sender = r.uint32();
      t.send(new SshWriter().byte(Msg.CHANNEL_OPEN_FAILURE).uint32(sender).uint32(1).string('rekeyed interop test').string('').finish());
      return;
    }
    default:
      return;
  }
};

/** Runs `ssh` once against a fresh listener with `server` options and the given -o options. */
export async function sshAgainstServer(
  sshPath: string,
  server: () => TransportOptions,
  opts: readonly string[],
  hook: ServerHook = endAtFirstPayload,
): Promise<SshRunResult> {
  const l = await listenTransport(server, (ev, d) => hook(ev, d.transport));
  try {
    const r = await run(
      sshPath,
      [
        '-vvv',
        '-F',
        '/dev/null',
        // ssh keeps the first value it sees for an option: the caller's come before the defaults
        ...opts.flatMap((o) => ['-o', o]),
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'ConnectTimeout=20',
        '-p',
        String(l.port),
        '127.0.0.1',
        'true',
      ],
      { timeoutMs: 30_000 },
    );
    await Promise.all(l.connections.map((c) => c.closed));
    return { stderr: r.stderr, serverEvents: l.connections.flatMap((c) => c.events) };
  } finally {
    await l.close();
  }
}

/** What ssh -vvv says it negotiated ("debug1: kex: algorithm: …" and friends). */
export function negotiatedBySsh(stderr: string): { kex?: string; hostKey?: string; c2s?: string; s2c?: string; newKeys: boolean } {
  const m = (re: RegExp): string | undefined => re.exec(stderr)?.[1];
  const out: { kex?: string; hostKey?: string; c2s?: string; s2c?: string; newKeys: boolean } = {
    newKeys: stderr.includes('SSH2_MSG_NEWKEYS received'),
  };
  const kex = m(/kex: algorithm: (\S+)/);
  const hostKey = m(/kex: host key algorithm: (\S+)/);
  const c2s = m(/kex: client->server cipher: (\S+ MAC: \S+)/);
  const s2c = m(/kex: server->client cipher: (\S+ MAC: \S+)/);
  if (kex !== undefined) out.kex = kex;
  if (hostKey !== undefined) out.hostKey = hostKey;
  if (c2s !== undefined) out.c2s = c2s;
  if (s2c !== undefined) out.s2c = s2c;
  return out;
}

export function sshOptionsFor(c: Combo): string[] {
  return [`KexAlgorithms=${c.kex}`, `Ciphers=${c.cipher}`, `MACs=${c.mac ?? 'hmac-sha2-256-etm@openssh.com'}`, `HostKeyAlgorithms=${c.hostKey}`];
}

/** Every combination: ssh reports the asked-for algorithms and NEWKEYS received; our server completed KEX. */
export async function runSshMatrix(sshPath: string, combos: readonly Combo[]): Promise<void> {
  const failures = await mapLimit(combos, 6, async (c) => {
    const r = await sshAgainstServer(sshPath, permissiveServerOptions, sshOptionsFor(c));
    const n = negotiatedBySsh(r.stderr);
    const want = `${c.cipher} MAC: ${c.mac ?? '<implicit>'}`;
    const ours = r.serverEvents.find((e) => e.type === 'kex-complete');
    const ok = n.kex === c.kex && n.hostKey === c.hostKey && n.c2s === want && n.s2c === want && n.newKeys && ours !== undefined;
    if (ok) return null;
    const disc = r.serverEvents.find((e) => e.type === 'disconnect');
    return `${comboName(c)}: ssh saw ${JSON.stringify(n)}; our events ${JSON.stringify(r.serverEvents.map((e) => e.type))} ${JSON.stringify(disc)}\n${r.stderr.split('\n').slice(-6).join('\n')}`;
  });
  expect(failures.filter((f) => f !== null)).toEqual([]);
}
