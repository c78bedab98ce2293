/**
 * Key exchange benchmark: complete in-memory handshakes per second per KEX method (client and
 * server Transport in one process, so each handshake is both sides' work: version exchange,
 * KEXINITs, the method's keypair/encapsulate/decapsulate, an ed25519 host key signature and its
 * verification, key derivation and NEWKEYS), with the default crypto backend.
 *
 *   npm run build && node dist/bench/kex.js [--quick]
 *
 * "per CPU s" counts this process's user + system time (all its threads, GC included); "wall /s" is
 * the best wall-clock round, which on a loaded machine mostly measures the neighbours.
 */
import { cpus } from 'node:os';
import { defaultBackend } from '../src/crypto/index.js';
import { supportedAlgorithms } from '../src/transport/algorithms.js';
import type { HostKeySigner, SignatureVerifier } from '../src/transport/host-key.js';
import { Transport } from '../src/transport/transport.js';
import { SshReader, SshWriter } from '../src/wire/index.js';
import { fmt, measure, pad, padLeft } from './lib/measure.js';

const quick = process.argv.includes('--quick');
const BUDGET_MS = quick ? 400 : 1500;

// An ed25519 host key straight on the backend (RFC 8709): the bench measures the transport, not key files.
const seed = defaultBackend.randomBytes(32);
const pub = defaultBackend.ed25519PublicKey(seed);
const hostKey: HostKeySigner = {
  algorithms: ['ssh-ed25519'],
  publicKeyBlob: () => new SshWriter().string('ssh-ed25519').string(pub).finish(),
  sign: (_alg, data) => new SshWriter().string('ssh-ed25519').string(defaultBackend.ed25519Sign(seed, data)).finish(),
};
const verify: SignatureVerifier = (_alg, blob, sig, data) => {
  const k = new SshReader(blob);
  k.ascii();
  const s = new SshReader(sig);
  s.ascii();
  return defaultBackend.ed25519Verify(k.bytes(), data, s.bytes());
};

function handshake(kex: string): void {
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  let done = 0;
  const algorithms = { kex: [kex], cipher: ['aes128-gcm@openssh.com'] };
  const legacy = kex.endsWith('sha1');
  const server = new Transport(
    { write: (b) => toClient.push(b), event: (e) => void (e.type === 'kex-complete' && done++) },
    { role: 'server', hostKeys: [hostKey], algorithms, legacy },
  );
  const client: Transport = new Transport(
    {
      write: (b) => toServer.push(b),
      event: (e) => {
        if (e.type === 'host-key') client.acceptHostKey();
        if (e.type === 'kex-complete') done++;
        if (e.type === 'disconnect') throw new Error(e.description);
      },
    },
    { role: 'client', verifySignature: verify, algorithms, legacy },
  );
  client.start();
  server.start();
  while (toServer.length > 0 || toClient.length > 0) {
    for (const b of toServer.splice(0)) server.receive(b);
    for (const b of toClient.splice(0)) client.receive(b);
  }
  if (done !== 2) throw new Error(`${kex}: handshake did not complete`);
}

/**
 * Handshakes per CPU second (user + system time of this process, as openssl speed reports):
 * on a shared machine wall-clock rates mostly measure the neighbours. The wall-clock best-round
 * rate is printed beside it.
 */
function perCpuSecond(kex: string): number {
  handshake(kex);
  const start = process.cpuUsage();
  const until = performance.now() + BUDGET_MS;
  let n = 0;
  while (n < 3 || performance.now() < until) {
    handshake(kex);
    n++;
  }
  const used = process.cpuUsage(start);
  return n / ((used.user + used.system) / 1e6);
}

console.log(`KEX handshakes, in-memory client+server pair, both sides' work (${cpus()[0]?.model ?? 'cpu'}, Node ${process.version})`);
console.log(`${pad('method', 34)}${padLeft('per CPU s', 12)}${padLeft('ms CPU each', 13)}${padLeft('wall /s', 10)}`);
for (const kex of supportedAlgorithms('kex', true)) {
  const cpu = perCpuSecond(kex);
  const wall = measure(() => handshake(kex), BUDGET_MS / 2, 3);
  console.log(`${pad(kex, 34)}${padLeft(fmt(cpu, 1), 12)}${padLeft(fmt(1000 / cpu, 2), 13)}${padLeft(fmt(wall.perSecond, 1), 10)}`);
}
