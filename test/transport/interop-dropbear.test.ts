/**
 * Dropbear's client (dbclient, dropbear-bin) against our server. Dropbear sends a guessed first
 * KEX packet (first_kex_packet_follows): when our server prefers another method the guess is
 * wrong and must be discarded (RFC 4253 §7), and the exchange must still complete.
 */
import { describe, expect, it } from 'vitest';
import type { TransportEvent, TransportOptions } from '../../src/transport/transport-types.js';
import { requireBinaries, run, which } from '../support/index.js';
import { listenTransport } from './support/tcp-driver.js';
import { testHostKey } from './support/test-host-keys.js';

const req = requireBinaries('dbclient');
const dbclient = which('dbclient') ?? 'dbclient';
const hostKey = testHostKey('ed25519');

async function dbclientAgainst(options: TransportOptions): Promise<{ stderr: string; events: TransportEvent[] }> {
  const l = await listenTransport(
    () => options,
    (ev, d) => {
      if (ev.type === 'payload') d.transport.disconnect(11, 'interop test done');
    },
  );
  try {
    // -y -y: accept and do not store the unknown host key; -v needs a debug build, so we judge by our events
    const r = await run(dbclient, ['-y', '-y', '-p', String(l.port), 'root@127.0.0.1', 'true'], {
      timeoutMs: 20_000,
      env: { HOME: '/nonexistent' },
    });
    await Promise.all(l.connections.map((c) => c.closed));
    return { stderr: r.stderr, events: l.connections.flatMap((c) => c.events) };
  } finally {
    await l.close();
  }
}

describe.skipIf(req.skip)(`dbclient against our server${req.reason}`, () => {
  it('with our default server offer completes the exchange', async () => {
    const r = await dbclientAgainst({ role: 'server', hostKeys: [hostKey] });
    const done = r.events.find((e) => e.type === 'kex-complete');
    expect(done, `${r.stderr} ${JSON.stringify(r.events)}`).toBeDefined();
    expect(r.events.find((e) => e.type === 'payload')).toBeDefined();
  }, 30_000);

  it('discards its wrong guess when we prefer a method it did not guess', async () => {
    // dbclient guesses curve25519-sha256; our server takes only ecdh-sha2-nistp256
    const r = await dbclientAgainst({ role: 'server', hostKeys: [hostKey], algorithms: { kex: ['ecdh-sha2-nistp256'] } });
    const done = r.events.find((e) => e.type === 'kex-complete');
    expect(done?.type === 'kex-complete' && done.algorithms.kex, r.stderr).toBe('ecdh-sha2-nistp256');
    expect(r.events.find((e) => e.type === 'peer-version' && e.version.includes('dropbear'))).toBeDefined();
  }, 30_000);
});
