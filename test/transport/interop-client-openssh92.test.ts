/**
 * Our client against Debian 12's sshd (OpenSSH 9.2p1), for every combination of the matrix
 * (test/transport/support/interop-matrix.ts). Needs openssh-server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdHandle, requireBinaries } from '../support/index.js';
import {
  CERT_HOST_KEY_ALGS,
  certHandshake,
  clientHandshake,
  rekeyRoundTrips,
  runClientMatrix,
  startCertSshd,
  startMatrixSshd,
  testUserKey,
} from './support/client-vs-sshd.js';
import { matrix } from './support/interop-matrix.js';

const req = requireBinaries('sshd', 'ssh-keygen');

describe.skipIf(req.skip)(`our client against sshd 9.2${req.reason}`, () => {
  let sshd: SshdHandle;
  const userKey = testUserKey();
  beforeAll(async () => {
    // a small RekeyLimit so sshd starts rekeys of its own
    sshd = await startMatrixSshd('9.2', ['RekeyLimit 6K'], [userKey.authorizedKey]);
  }, 30_000);
  afterAll(async () => {
    await sshd?.stop();
  });

  it('default offer settles on curve25519-sha256 (9.2 has no ML-KEM) with strict KEX', async () => {
    const r = await clientHandshake(sshd.port, null);
    expect(r.detail).toBe('SERVICE_ACCEPT');
    expect(r.algorithms?.kex).toBe('curve25519-sha256');
    expect(r.strict).toBe(true);
  });

  it('rekeys started by us and by sshd keep messages flowing both ways', async () => {
    const ours = await rekeyRoundTrips(sshd.port, userKey, 4, true);
    expect(ours.replies).toBe(4);
    expect(ours.kexCount).toBeGreaterThanOrEqual(3);
    // without rekey() calls, only sshd's RekeyLimit can start the second exchange
    const theirs = await rekeyRoundTrips(sshd.port, userKey, 4, false);
    expect(theirs.replies).toBe(4);
    expect(theirs.kexCount).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it('host certificates (-cert-v01@openssh.com, signed by ssh-keygen -s -h) verify and reach SERVICE_ACCEPT', async () => {
    const certSshd = await startCertSshd('9.2');
    try {
      for (const alg of CERT_HOST_KEY_ALGS) {
        const r = await certHandshake(certSshd.port, alg);
        expect(r.detail, alg).toBe('SERVICE_ACCEPT');
        expect(r.keyType).toBe(alg.startsWith('rsa-') ? 'ssh-rsa-cert-v01@openssh.com' : alg);
      }
    } finally {
      await certSshd.stop();
    }
  }, 40_000);

  it('every KEX × cipher × MAC × host key combination reaches SERVICE_ACCEPT', async () => {
    await runClientMatrix(sshd, matrix('9.2'));
  }, 90_000);
});
