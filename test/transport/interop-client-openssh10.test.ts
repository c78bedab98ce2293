/**
 * Our client against OpenSSH 10.0's sshd (bookworm-backports, unpacked in .openssh10), for every
 * combination of the matrix, including mlkem768x25519-sha256.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshdHandle, requireBinaries, requireOpenssh10 } from '../support/index.js';
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

const req = requireBinaries('ssh-keygen');
const o10 = requireOpenssh10();

describe.skipIf(req.skip || o10.skip)(`our client against sshd 10.0${req.reason}${o10.reason}`, () => {
  let sshd: SshdHandle;
  const userKey = testUserKey();
  beforeAll(async () => {
    // a small RekeyLimit so sshd starts rekeys of its own
    sshd = await startMatrixSshd('10.0', ['RekeyLimit 6K'], [userKey.authorizedKey]);
  }, 30_000);
  afterAll(async () => {
    await sshd?.stop();
  });

  it('default offer settles on mlkem768x25519-sha256 with strict KEX', async () => {
    const r = await clientHandshake(sshd.port, null);
    expect(r.detail).toBe('SERVICE_ACCEPT');
    expect(r.algorithms?.kex).toBe('mlkem768x25519-sha256');
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
    const certSshd = await startCertSshd('10.0');
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
    await runClientMatrix(sshd, matrix('10.0'));
  }, 90_000);
});
