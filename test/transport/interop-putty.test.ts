/**
 * PuTTY's plink (putty-tools) against our server with its default offer: it must share an
 * algorithm of every kind with the clean set and complete the key exchange. The host key is
 * pinned with -hostkey (its SHA256 fingerprint), as -batch refuses unknown keys.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TransportEvent } from '../../src/transport/transport-types.js';
import { requireBinaries, run, which } from '../support/index.js';
import { listenTransport } from './support/tcp-driver.js';
import { testHostKey } from './support/test-host-keys.js';

const req = requireBinaries('plink');
const plink = which('plink') ?? 'plink';

describe.skipIf(req.skip)(`plink against our server${req.reason}`, () => {
  it('completes the key exchange with our default server offer', async () => {
    const hostKey = testHostKey('ed25519');
    const fingerprint = `SHA256:${createHash('sha256').update(hostKey.publicKeyBlob('ssh-ed25519')).digest('base64').replace(/=+$/, '')}`;
    const l = await listenTransport(
      () => ({ role: 'server', hostKeys: [hostKey] }),
      (ev, d) => {
        if (ev.type === 'payload') d.transport.disconnect(11, 'interop test done');
      },
    );
    let events: TransportEvent[] = [];
    let stderr = '';
    try {
      const r = await run(plink, ['-ssh', '-batch', '-v', '-hostkey', fingerprint, '-P', String(l.port), 'root@127.0.0.1', 'true'], {
        timeoutMs: 20_000,
        env: { HOME: '/nonexistent' },
      });
      stderr = r.stderr;
      await Promise.all(l.connections.map((c) => c.closed));
      events = l.connections.flatMap((c) => c.events);
    } finally {
      await l.close();
    }
    const peer = events.find((e) => e.type === 'peer-version');
    expect(peer?.type === 'peer-version' && peer.version, stderr).toMatch(/PuTTY|Plink/i);
    const done = events.find((e) => e.type === 'kex-complete');
    expect(done, stderr).toBeDefined();
    // our SERVICE_REQUEST answer is a DISCONNECT that plink could only read with the right keys
    expect(stderr).toMatch(/interop test done/);
  }, 30_000);
});
