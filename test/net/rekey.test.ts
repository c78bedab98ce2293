/**
 * Rekeying over real sockets with data in flight: our server (and our client) start a key
 * re-exchange every 2 MiB while 32 MB stream through one channel to / from real OpenSSH;
 * every byte arrives (sha256) and each side saw many exchanges.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePrivateKey } from '../../src/keys/index.js';
import { SshClient, signerFromPrivateKey } from '../../src/net/client.js';
import { hostKeyVerifier } from '../../src/net/host-key-verifier.js';
import { exec } from '../../src/net/session.js';
import type { ServerConnection } from '../../src/net/server-connection.js';
import { generateKey, makeTempDir, requireBinaries, runSsh, startSshd } from '../support/index.js';
import { startTestServer } from './test-server.js';

const req = requireBinaries('ssh', 'sshd', 'ssh-keygen');
const SIZE = 32 * 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.skipIf(req.skip)(`rekeying mid-stream with real OpenSSH${req.reason}`, () => {
  it('our server rekeys every 2 MiB under ssh cat', async () => {
    const dir = makeTempDir();
    const key = await generateKey(dir, 'u', 'ed25519');
    const ts = await startTestServer({ dir, authorizedKeys: [key.publicLine], server: { transport: { rekeyBytes: 2 * 1024 * 1024 } } });
    let rekeys = 0;
    ts.server.on('connection', (c: ServerConnection) => c.on('kex', (_a: unknown, initial: boolean) => !initial && rekeys++));
    try {
      const data = randomBytes(SIZE);
      const r = await runSsh(['root@127.0.0.1', 'cat'], { port: ts.port, identity: key.privatePath, input: data, timeoutMs: 50_000 });
      expect(r.code).toBe(0);
      expect(sha(r.stdoutBytes)).toBe(sha(data));
      expect(rekeys).toBeGreaterThanOrEqual(10);
    } finally {
      await ts.stop();
    }
  }, 60_000);

  it('our client rekeys every 2 MiB against sshd', async () => {
    const dir = makeTempDir();
    const key = await generateKey(dir, 'u', 'ed25519');
    const sshd = await startSshd({ authorizedKeys: [key.publicLine] });
    try {
      const c = await SshClient.connect({
        host: '127.0.0.1',
        port: sshd.port,
        username: 'root',
        verifyHostKey: hostKeyVerifier({ type: 'known-hosts', knownHosts: sshd.knownHosts }, '127.0.0.1', sshd.port),
        auth: [{ type: 'signer', signer: signerFromPrivateKey(parsePrivateKey(key.privatePem)) }],
        transport: { rekeyBytes: 2 * 1024 * 1024 },
      });
      let rekeys = 0;
      c.on('kex', (_a: unknown, initial: boolean) => !initial && rekeys++);
      const data = randomBytes(SIZE);
      const ch = await exec(c, 'cat');
      const parts: Buffer[] = [];
      ch.on('data', (d: Buffer) => parts.push(d));
      const done = new Promise((r) => ch.once('end', r));
      ch.end(data);
      await done;
      expect(sha(Buffer.concat(parts))).toBe(sha(data));
      expect(rekeys).toBeGreaterThanOrEqual(10);
      c.disconnect();
    } finally {
      await sshd.stop();
    }
  }, 60_000);
});
