/**
 * Crypto benchmark: packet seal/open MB/s per cipher with 32 KiB payloads for both symmetric
 * backends, printed beside `openssl speed` for the same primitive measured in the same run, and
 * public-key / key-exchange operations per second, noble vs node:crypto.
 *
 *   npm run build && node dist/bench/crypto.js [--quick]
 *
 * A full run takes well under a minute on 2 cores. Figures are throughput of the sealing and
 * opening code alone (no sockets).
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import type { CryptoBackend } from '../src/crypto/backend.js';
import { nobleBackend, nobleSymmetric, nodeBackend, nodeSymmetric } from '../src/crypto/index.js';
import { poly1305WasmVariant } from '../src/crypto/poly1305-wasm.js';
import type { SymmetricBackend } from '../src/crypto/symmetric.js';
import { createOpener, createSealer, findCipher, findMac } from '../src/transport/ciphers/index.js';
import type { DirectionKeys } from '../src/transport/packet-protection.js';
import { fmt, measure, pad, padLeft } from './lib/measure.js';
import { haveOpenssl, opensslSpeed } from './lib/openssl-speed.js';

const quick = process.argv.includes('--quick');
const BUDGET_MS = quick ? 200 : 600;
const PAYLOAD = 32 * 1024;
const OPEN_BATCH = 128;

interface CipherCase {
  cipher: string;
  mac: string | null;
  /** The openssl speed arguments for the primitive(s) OpenSSH would run for this cipher. */
  openssl: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-128-ctr+hmac-sha256' | 'aes-256-ctr+hmac-sha256' | 'aes-128-ctr+hmac-sha512';
}

const CASES: CipherCase[] = [
  { cipher: 'chacha20-poly1305@openssh.com', mac: null, openssl: 'chacha20-poly1305' },
  { cipher: 'aes128-gcm@openssh.com', mac: null, openssl: 'aes-128-gcm' },
  { cipher: 'aes256-gcm@openssh.com', mac: null, openssl: 'aes-256-gcm' },
  { cipher: 'aes128-ctr', mac: 'hmac-sha2-256-etm@openssh.com', openssl: 'aes-128-ctr+hmac-sha256' },
  { cipher: 'aes256-ctr', mac: 'hmac-sha2-256-etm@openssh.com', openssl: 'aes-256-ctr+hmac-sha256' },
  { cipher: 'aes128-ctr', mac: 'hmac-sha2-512-etm@openssh.com', openssl: 'aes-128-ctr+hmac-sha512' },
  { cipher: 'aes128-ctr', mac: 'hmac-sha2-256', openssl: 'aes-128-ctr+hmac-sha256' },
];

function keysFor(c: CipherCase): DirectionKeys {
  const spec = findCipher(c.cipher);
  if (spec === undefined) throw new Error(`unknown cipher ${c.cipher}`);
  const mac = c.mac === null ? undefined : findMac(c.mac);
  return {
    encKey: new Uint8Array(randomBytes(spec.keyLength)),
    iv: new Uint8Array(randomBytes(spec.ivLength)),
    macKey: new Uint8Array(randomBytes(mac?.keyLength ?? 0)),
  };
}

/** MB/s of seal and open for one cipher on one backend. */
function benchCipher(c: CipherCase, backend: SymmetricBackend): { seal: number; batch: number; open: number } {
  const keys = keysFor(c);
  const payload = new Uint8Array(randomBytes(PAYLOAD));
  const sealer = createSealer(c.cipher, c.mac, keys, backend);
  let seq = 0;
  const seal = measure(() => {
    sealer.seal(seq++, payload);
  }, BUDGET_MS);
  // a batching writer: 8 packets sealed into one buffer for one socket write
  const batchOf = 8;
  const batchRate =
    backend === nodeSymmetric
      ? measure(() => {
          const out = Buffer.allocUnsafe(sealer.sealedLength(PAYLOAD) * batchOf);
          let at = 0;
          for (let i = 0; i < batchOf; i++) at += sealer.sealInto(seq++, payload, out, at);
        }, BUDGET_MS).perSecond * batchOf
      : 0;

  // Openers follow the sealer's stream state, so open a pre-sealed batch with fresh openers.
  const batchSealer = createSealer(c.cipher, c.mac, keys, backend);
  const batchSize = backend === nodeSymmetric ? OPEN_BATCH : 8;
  const batch: Uint8Array[] = [];
  for (let i = 0; i < batchSize; i++) batch.push(batchSealer.seal(i, payload));
  const open = measure(() => {
    const opener = createOpener(c.cipher, c.mac, keys, backend);
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Uint8Array;
      opener.packetLength(i, p.subarray(0, opener.headerLength));
      opener.open(i, p);
    }
  }, BUDGET_MS);
  return {
    seal: (seal.perSecond * PAYLOAD) / 1e6,
    batch: (batchRate * PAYLOAD) / 1e6,
    open: (open.perSecond * batchSize * PAYLOAD) / 1e6,
  };
}

/** Packets per second sealing small (64-byte) payloads: the per-packet cost interactive sessions pay. */
function benchSmallPackets(c: CipherCase): number {
  const sealer = createSealer(c.cipher, c.mac, keysFor(c), nodeSymmetric);
  const payload = new Uint8Array(randomBytes(64));
  let seq = 0;
  return measure(() => {
    sealer.seal(seq++, payload);
  }, BUDGET_MS / 2).perSecond;
}

type OpensslPrimitive = '-evp aes-128-gcm' | '-evp aes-256-gcm' | '-evp chacha20-poly1305' | '-evp aes-128-ctr' | '-evp aes-256-ctr' | '-hmac sha256' | '-hmac sha512';

const OPENSSL_FOR: Record<CipherCase['openssl'], OpensslPrimitive[]> = {
  'aes-128-gcm': ['-evp aes-128-gcm'],
  'aes-256-gcm': ['-evp aes-256-gcm'],
  'chacha20-poly1305': ['-evp chacha20-poly1305'],
  'aes-128-ctr+hmac-sha256': ['-evp aes-128-ctr', '-hmac sha256'],
  'aes-256-ctr+hmac-sha256': ['-evp aes-256-ctr', '-hmac sha256'],
  'aes-128-ctr+hmac-sha512': ['-evp aes-128-ctr', '-hmac sha512'],
};

/**
 * OpenSSL's MB/s for the primitive(s) behind a cipher, all measured before ours: this process
 * idles while openssl runs, and V8 shrinks an idle heap, which would slow the next few hundred
 * milliseconds of 32 KiB allocations. CTR+HMAC combines the two rates serially (encrypting and
 * MACing the same bytes one after the other: 1/(1/a + 1/b)).
 */
class OpensslReference {
  private readonly measured = new Map<OpensslPrimitive, number | null>();
  readonly available = haveOpenssl();

  rate(kind: CipherCase['openssl']): number | null {
    if (!this.available) return null;
    let inverse = 0;
    for (const prim of OPENSSL_FOR[kind]) {
      let v = this.measured.get(prim);
      if (v === undefined) {
        v = opensslSpeed(prim.split(' '));
        this.measured.set(prim, v);
      }
      if (v === null) return null;
      inverse += 1 / v;
    }
    return 1 / inverse;
  }

  print(): void {
    console.log('openssl speed -seconds 1 -bytes 16384, measured in this run (MB/s):');
    for (const [prim, v] of this.measured) console.log(`  ${pad(prim, 26)} ${padLeft(v === null ? 'failed' : fmt(v), 8)}`);
    console.log('');
  }
}

function printCiphers(): void {
  const openssl = new OpensslReference();
  if (!openssl.available) console.log('openssl not found (Debian package openssl): ratios omitted\n');
  for (const c of CASES) openssl.rate(c.openssl);
  warmUpProcess(quick ? 500 : 1500);
  console.log(`Packet protection, ${PAYLOAD / 1024} KiB payloads (MB/s; ratio = ours / openssl speed of the same primitive):`);
  console.log(
    `  ${pad('cipher + mac', 52)}${padLeft('openssl', 8)}${padLeft('node seal', 11)}${padLeft('ratio', 7)}${padLeft('sealInto x8', 13)}${padLeft('ratio', 7)}${padLeft('node open', 11)}${padLeft('ratio', 7)}${padLeft('noble seal', 12)}${padLeft('noble open', 12)}${padLeft('node 64 B seals/s', 19)}`,
  );
  for (const c of CASES) {
    const ref = openssl.rate(c.openssl);
    const node = benchCipher(c, nodeSymmetric);
    const noble = benchCipher(c, nobleSymmetric);
    const small = benchSmallPackets(c);
    const ratio = (v: number): string => (ref === null ? '-' : `${fmt(v / ref, 2)}`);
    const label = c.mac === null ? c.cipher : `${c.cipher} + ${c.mac}`;
    console.log(
      `  ${pad(label, 52)}${padLeft(ref === null ? '-' : fmt(ref), 8)}${padLeft(fmt(node.seal), 11)}${padLeft(ratio(node.seal), 7)}${padLeft(fmt(node.batch), 13)}${padLeft(ratio(node.batch), 7)}${padLeft(fmt(node.open), 11)}${padLeft(ratio(node.open), 7)}${padLeft(fmt(noble.seal), 12)}${padLeft(fmt(noble.open), 12)}${padLeft(fmt(small), 19)}`,
    );
  }
  console.log('  (openssl column for CTR+HMAC: the aes-ctr and hmac rates combined serially, 1/(1/a+1/b))\n');
  if (openssl.available) openssl.print();
}

interface PkOp {
  name: string;
  /** Builds the operation for a backend (setup such as key generation stays outside the timing). */
  make(b: CryptoBackend): () => void;
}

const MSG = new Uint8Array(randomBytes(64));

const PK_OPS: PkOp[] = [
  {
    name: 'x25519 keypair + shared secret',
    make: (b) => {
      const peer = b.x25519().publicKey;
      return () => b.x25519().computeSecret(peer);
    },
  },
  {
    name: 'ed25519 sign',
    make: (b) => {
      const seed = b.randomBytes(32);
      return () => b.ed25519Sign(seed, MSG);
    },
  },
  {
    name: 'ed25519 verify',
    make: (b) => {
      const seed = b.randomBytes(32);
      const pub = b.ed25519PublicKey(seed);
      const sig = b.ed25519Sign(seed, MSG);
      return () => b.ed25519Verify(pub, MSG, sig);
    },
  },
  {
    name: 'ecdh p256 keypair + shared secret',
    make: (b) => {
      const peer = b.ecdh('p256').publicKey;
      return () => b.ecdh('p256').computeSecret(peer);
    },
  },
  {
    name: 'ecdh p521 keypair + shared secret',
    make: (b) => {
      const peer = b.ecdh('p521').publicKey;
      return () => b.ecdh('p521').computeSecret(peer);
    },
  },
  {
    name: 'ecdsa p256 sign',
    make: (b) => {
      const d = b.randomBytes(32);
      return () => b.ecdsaSign('p256', d, MSG);
    },
  },
  {
    name: 'mlkem768 keygen',
    make: (b) => () => b.mlkem768KeyPair(),
  },
  {
    name: 'mlkem768 encaps (server side)',
    make: (b) => {
      const kp = b.mlkem768KeyPair();
      return () => b.mlkem768Encapsulate(kp.publicKey);
    },
  },
  {
    name: 'mlkem768 decaps',
    make: (b) => {
      const kp = b.mlkem768KeyPair();
      const ct = b.mlkem768Encapsulate(kp.publicKey).cipherText;
      return () => kp.decapsulate(ct);
    },
  },
  {
    name: 'modp group14 keypair + shared secret',
    make: (b) => {
      const peer = b.modp(14).publicKey;
      return () => b.modp(14).computeSecret(peer);
    },
  },
  {
    name: 'modp group16 keypair + shared secret',
    make: (b) => {
      const peer = b.modp(16).publicKey;
      return () => b.modp(16).computeSecret(peer);
    },
  },
  {
    name: 'rsa-sha2-256 sign (3072-bit key)',
    make: (b) => {
      const key = nodeBackend.rsaGenerate(3072);
      return () => b.rsaSign(key, 'sha256', MSG);
    },
  },
];

function printPublicKey(): void {
  console.log('Public-key operations (ops/s):');
  console.log(`  ${pad('operation', 40)}${padLeft('noble', 10)}${padLeft('node', 10)}${padLeft('node/noble', 12)}`);
  for (const op of PK_OPS) {
    const noble = measure(op.make(nobleBackend), BUDGET_MS / 2).perSecond;
    const node = measure(op.make(nodeBackend), BUDGET_MS / 2).perSecond;
    console.log(
      `  ${pad(op.name, 40)}${padLeft(fmt(noble), 10)}${padLeft(fmt(node), 10)}${padLeft(`${fmt(node / noble, 1)}x`, 12)}`,
    );
  }
  console.log('  (ML-KEM-768: noble is @noble/post-quantum; node is mlkem-node.ts, its SHA-3 through node:crypto, which has no ML-KEM on Node 20)\n');
}

/**
 * A fresh Node process allocates 32 KiB buffers an order of magnitude slower for its first second
 * or so (V8's heap and external-memory accounting, the allocator's arenas): seal through every
 * cipher for a while first, so the figures describe the steady state a gateway runs in.
 */
function warmUpProcess(ms: number): void {
  const payload = new Uint8Array(randomBytes(PAYLOAD));
  const sealers = CASES.map((c) => createSealer(c.cipher, c.mac, keysFor(c), nodeSymmetric));
  const until = performance.now() + ms;
  let seq = 0;
  while (performance.now() < until) for (const s of sealers) s.seal(seq++, payload);
}

const started = performance.now();
console.log(
  `gatehouse crypto benchmark: node ${process.version} (OpenSSL ${process.versions.openssl}), ${cpus().length} CPUs, ` +
    `Poly1305 in WebAssembly: the ${poly1305WasmVariant} module, ` +
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}.\nFigures are per CPU second of this process (as openssl speed reports them), best of 4 rounds.\n`,
);
printCiphers();
printPublicKey();
console.log(`total ${fmt((performance.now() - started) / 1000, 1)} s`);
