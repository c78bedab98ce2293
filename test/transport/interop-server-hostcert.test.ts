/**
 * Our server with a host certificate (host key made and certified by ssh-keygen, loaded through
 * src/keys) against the real ssh 9.2 and 10.0, which trust the CA through an @cert-authority
 * known_hosts line with StrictHostKeyChecking=yes: the -cert-v01@openssh.com algorithms work
 * on the server side too.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHostKeySigner } from '../../src/keys/host-key-signer.js';
import { parsePrivateKey } from '../../src/keys/private-key.js';
import type { HostKeySigner } from '../../src/transport/host-key.js';
import { generateKey, makeTempDir, openssh10, requireBinaries, signCertificate, which } from '../support/index.js';
import { sshAgainstServer } from './support/ssh-vs-server.js';

const req = requireBinaries('ssh', 'ssh-keygen');

describe.skipIf(req.skip)(`ssh against our server with a host certificate${req.reason}`, () => {
  it('ssh 9.2 and 10.0 accept ssh-ed25519-cert-v01@openssh.com and rsa-sha2-512-cert-v01@openssh.com from a trusted CA', async () => {
    const dir = makeTempDir('gatehouse-transport-cert-');
    const ca = await generateKey(dir, 'ca', 'ed25519');
    const signers: HostKeySigner[] = [];
    for (const t of ['ed25519', 'rsa-3072'] as const) {
      const k = await generateKey(dir, `host_${t}`, t);
      const certLine = await signCertificate(ca.privatePath, k.publicPath, { identity: `gatehouse-${t}`, host: true, principals: ['127.0.0.1'] });
      const certBlob = Uint8Array.from(Buffer.from(certLine.split(' ')[1] ?? '', 'base64'));
      signers.push(createHostKeySigner(parsePrivateKey(k.privatePem), certBlob));
    }
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `@cert-authority * ${ca.publicLine}\n`);
    const clients = [which('ssh') ?? 'ssh', openssh10()?.ssh].filter((p): p is string => p !== undefined);
    for (const ssh of clients) {
      for (const alg of ['ssh-ed25519-cert-v01@openssh.com', 'rsa-sha2-512-cert-v01@openssh.com']) {
        const r = await sshAgainstServer(ssh, () => ({ role: 'server', hostKeys: signers }), [
          `HostKeyAlgorithms=${alg}`,
          'StrictHostKeyChecking=yes',
          `UserKnownHostsFile=${knownHosts}`,
        ]);
        expect(r.stderr, `${ssh} ${alg}`).toMatch(/Server host certificate: /);
        expect(r.stderr, `${ssh} ${alg}`).toMatch(/Host '\[127\.0\.0\.1\]:\d+' is known and matches the \S+ host certificate/);
        expect(r.stderr).toMatch(/SSH2_MSG_NEWKEYS received/);
        const done = r.serverEvents.find((e) => e.type === 'kex-complete');
        expect(done?.type === 'kex-complete' && done.algorithms.hostKey).toBe(alg);
      }
    }
  }, 60_000);
});
