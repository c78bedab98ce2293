/**
 * The ssh client of OpenSSH 10.0 (bookworm-backports, unpacked in .openssh10) against our
 * server Transport: every combination of the matrix, and ssh's defaults, which pick
 * mlkem768x25519-sha256.
 */
import { describe, expect, it } from 'vitest';
import { openssh10, requireOpenssh10 } from '../support/index.js';
import { matrix } from './support/interop-matrix.js';
import { negotiatedBySsh, authThenRekey, runSshMatrix, sshAgainstServer } from './support/ssh-vs-server.js';
import { testHostKey } from './support/test-host-keys.js';

const o10 = requireOpenssh10();
const ssh = openssh10()?.ssh ?? 'ssh';

describe.skipIf(o10.skip)(`ssh 10.0 against our server${o10.reason}`, () => {
  it('with default offers on both sides, negotiates mlkem768x25519-sha256 with strict KEX', async () => {
    const r = await sshAgainstServer(ssh, () => ({ role: 'server', hostKeys: [testHostKey('ed25519')] }), []);
    const n = negotiatedBySsh(r.stderr);
    expect(n.kex).toBe('mlkem768x25519-sha256');
    expect(n.newKeys).toBe(true);
    expect(r.stderr).toMatch(/SSH2_MSG_EXT_INFO received/);
    const done = r.serverEvents.find((e) => e.type === 'kex-complete');
    expect(done?.type === 'kex-complete' && done.strict && done.algorithms.kex === 'mlkem768x25519-sha256').toBe(true);
  }, 30_000);

  it('a rekey started by our server after authentication completes, and ssh reads our packets after it', async () => {
    const r = await sshAgainstServer(ssh, () => ({ role: 'server', hostKeys: [testHostKey('ed25519')] }), [], authThenRekey);
    expect(r.serverEvents.filter((e) => e.type === 'kex-complete')).toHaveLength(2);
    expect(r.stderr.match(/SSH2_MSG_NEWKEYS received/g)).toHaveLength(2);
    // our CHANNEL_OPEN_FAILURE went out under the second keys
    expect(r.stderr).toMatch(/open failed: administratively prohibited: rekeyed interop test/);
  }, 30_000);

  it('every KEX × cipher × MAC × host key combination completes key exchange', async () => {
    await runSshMatrix(ssh, matrix('10.0'));
  }, 120_000);
});
