/**
 * The real ssh client against our server Transport, for every combination of the matrix and with
 * ssh's defaults: Debian 12's OpenSSH 9.2p1 (openssh-client; it asks for sntrup761 first and must
 * fall back to one of ours) and OpenSSH 10.0 from bookworm-backports (unpacked in .openssh10),
 * which picks mlkem768x25519-sha256.
 */
import { describe, expect, it } from 'vitest';
import { openssh10, requireBinaries, requireOpenssh10, which } from '../support/index.js';
import { matrix } from './support/interop-matrix.js';
import { authThenRekey, negotiatedBySsh, runSshMatrix, sshAgainstServer } from './support/ssh-vs-server.js';
import { testHostKey } from './support/test-host-keys.js';

const ssh92 = requireBinaries('ssh');
const ssh10 = requireOpenssh10();
const generations = [
  { version: '9.2', ssh: which('ssh') ?? 'ssh', defaultKex: 'curve25519-sha256', skip: ssh92.skip, reason: ssh92.reason },
  { version: '10.0', ssh: openssh10()?.ssh ?? 'ssh', defaultKex: 'mlkem768x25519-sha256', skip: ssh10.skip, reason: ssh10.reason },
] as const;

for (const g of generations) {
  describe.skipIf(g.skip)(`ssh ${g.version} against our server${g.reason}`, () => {
    it(`with default offers on both sides, negotiates ${g.defaultKex} with strict KEX and ext-info`, async () => {
      const r = await sshAgainstServer(g.ssh, () => ({ role: 'server', hostKeys: [testHostKey('ed25519')] }), []);
      const n = negotiatedBySsh(r.stderr);
      expect(r.stderr).toMatch(/peer server KEXINIT proposal/);
      expect(n.kex).toBe(g.defaultKex);
      expect(n.hostKey).toBe('ssh-ed25519');
      expect(n.newKeys).toBe(true);
      expect(r.stderr).toMatch(/kex-strict-s-v00@openssh\.com/);
      expect(r.stderr).toMatch(/SSH2_MSG_EXT_INFO received/);
      expect(r.stderr).toMatch(/server-sig-algs=<ssh-ed25519,/);
      const done = r.serverEvents.find((e) => e.type === 'kex-complete');
      expect(done?.type === 'kex-complete' && done.strict && done.algorithms.kex === g.defaultKex).toBe(true);
    }, 30_000);

    it('a rekey started by our server after authentication completes, and ssh reads our packets after it', async () => {
      const r = await sshAgainstServer(g.ssh, () => ({ role: 'server', hostKeys: [testHostKey('ed25519')] }), [], authThenRekey);
      expect(r.serverEvents.filter((e) => e.type === 'kex-complete')).toHaveLength(2);
      expect(r.stderr.match(/SSH2_MSG_NEWKEYS received/g)).toHaveLength(2);
      // our CHANNEL_OPEN_FAILURE went out under the second keys
      expect(r.stderr).toMatch(/open failed: administratively prohibited: rekeyed interop test/);
    }, 30_000);

    it('every KEX × cipher × MAC × host key combination completes key exchange', async () => {
      await runSshMatrix(g.ssh, matrix(g.version));
    }, 120_000);
  });
}
