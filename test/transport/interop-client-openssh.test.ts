/**
 * Our client against a real sshd, for every combination of the matrix
 * (test/transport/support/interop-matrix.ts): Debian 12's OpenSSH 9.2p1 (openssh-server) and
 * OpenSSH 10.0 from bookworm-backports (unpacked in .openssh10), which adds mlkem768x25519-sha256.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinaries, requireOpenssh10, type SshdHandle } from '../support/index.js';
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

const keygen = requireBinaries('ssh-keygen');
const sshd92 = requireBinaries('sshd');
const sshd10 = requireOpenssh10();
const generations = [
  // 9.2 has no ML-KEM, so the default offer settles on the next in our order
  { version: '9.2', defaultKex: 'curve25519-sha256', skip: sshd92.skip, reason: sshd92.reason },
  { version: '10.0', defaultKex: 'mlkem768x25519-sha256', skip: sshd10.skip, reason: sshd10.reason },
] as const;

for (const g of generations) {
  describe.skipIf(keygen.skip || g.skip)(`our client against sshd ${g.version}${keygen.reason}${g.reason}`, () => {
    let sshd: SshdHandle;
    const userKey = testUserKey();
    beforeAll(async () => {
      // a small RekeyLimit so sshd starts rekeys of its own
      sshd = await startMatrixSshd(g.version, ['RekeyLimit 6K'], [userKey.authorizedKey]);
    }, 30_000);
    afterAll(async () => {
      await sshd?.stop();
    });

    it(`default offer settles on ${g.defaultKex} with strict KEX`, async () => {
      const r = await clientHandshake(sshd.port, null);
      expect(r.detail).toBe('SERVICE_ACCEPT');
      expect(r.algorithms?.kex).toBe(g.defaultKex);
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
      const certSshd = await startCertSshd(g.version);
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
      await runClientMatrix(sshd, matrix(g.version));
    }, 90_000);
  });
}
