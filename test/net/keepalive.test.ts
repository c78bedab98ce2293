/**
 * Keepalives: our server probes an idle OpenSSH client with keepalive@openssh.com; a live
 * client answers and stays connected, a frozen one (SIGSTOP) is dropped after
 * keepaliveCountMax unanswered probes, through the one teardown path, with the reason logged.
 */
import { describe, expect, it } from 'vitest';
import { generateKey, makeTempDir, requireBinaries, spawnSsh, stopChild, waitFor } from '../support/index.js';
import { startTestServer } from './test-server.js';

const req = requireBinaries('ssh', 'ssh-keygen');

describe.skipIf(req.skip)(`server keepalives against the OpenSSH client${req.reason}`, () => {
  it('keeps a live client and drops a frozen one', async () => {
    const dir = makeTempDir();
    const key = await generateKey(dir, 'u', 'ed25519');
    const ts = await startTestServer({
      dir,
      authorizedKeys: [key.publicLine],
      server: { keepaliveIntervalMs: 1000, keepaliveCountMax: 2 },
    });
    const child = spawnSsh(['-N', 'root@127.0.0.1'], { port: ts.port, identity: key.privatePath, knownHosts: ts.knownHosts });
    try {
      await waitFor(() => (ts.server.activeConnections.some((c) => c.user === 'root') ? true : undefined), 'login');
      // Several intervals pass: the client answers every probe and stays.
      await new Promise((r) => setTimeout(r, 3500));
      expect(ts.server.activeConnections.length).toBe(1);
      child.kill('SIGSTOP');
      await waitFor(() => (ts.denials.some((d) => d.reason === 'keepalive timeout') ? true : undefined), 'keepalive timeout', 15_000);
      expect(ts.server.activeConnections.length).toBe(0);
    } finally {
      child.kill('SIGCONT');
      await stopChild(child);
      await ts.stop();
    }
  });
});
