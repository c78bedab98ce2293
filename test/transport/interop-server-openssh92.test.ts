/**
 * The real ssh client of Debian 12 (OpenSSH 9.2p1) against our server Transport, for every
 * combination of the matrix, and with ssh's defaults (it asks for sntrup761 first and must fall
 * back to one of ours). Needs openssh-client.
 */
import { describe, expect, it } from 'vitest';
import { requireBinaries, which } from '../support/index.js';
import { matrix } from './support/interop-matrix.js';
import { negotiatedBySsh, authThenRekey, runSshMatrix, sshAgainstServer } from './support/ssh-vs-server.js';
import { testHostKey } from './support/test-host-keys.js';

const req = requireBinaries('ssh');
const ssh = which('ssh') ?? 'ssh';

describe.skipIf(req.skip)(`ssh 9.2 against our server${req.reason}`, () => {
  it('with default offers on both sides, falls back from sntrup761 to curve25519-sha256 with strict KEX and ext-info', async () => {
    const r = await sshAgainstServer(ssh, () => ({ role: 'server', hostKeys: [testHostKey('ed25519')] }), []);
    const n = negotiatedBySsh(r.stderr);
    expect(r.stderr).toMatch(/peer server KEXINIT proposal/);
    expect(n.kex).toBe('curve25519-sha256');
    expect(n.hostKey).toBe('ssh-ed25519');
    expect(n.newKeys).toBe(true);
    expect(r.stderr).toMatch(/kex-strict-s-v00@openssh\.com/);
    expect(r.stderr).toMatch(/SSH2_MSG_EXT_INFO received/);
    expect(r.stderr).toMatch(/server-sig-algs=<ssh-ed25519,/);
    const done = r.serverEvents.find((e) => e.type === 'kex-complete');
    expect(done?.type === 'kex-complete' && done.strict).toBe(true);
  }, 30_000);

  it('a rekey started by our server after authentication completes, and ssh reads our packets after it', async () => {
    const r = await sshAgainstServer(ssh, () => ({ role: 'server', hostKeys: [testHostKey('ed25519')] }), [], authThenRekey);
    expect(r.serverEvents.filter((e) => e.type === 'kex-complete')).toHaveLength(2);
    expect(r.stderr.match(/SSH2_MSG_NEWKEYS received/g)).toHaveLength(2);
    // our CHANNEL_OPEN_FAILURE went out under the second keys
    expect(r.stderr).toMatch(/open failed: administratively prohibited: rekeyed interop test/);
  }, 30_000);

  it('every KEX × cipher × MAC × host key combination completes key exchange', async () => {
    await runSshMatrix(ssh, matrix('9.2'));
  }, 120_000);
});
