/**
 * Host keys for transport tests. testHostKey() uses src/keys (generatePrivateKey +
 * createHostKeySigner), the path production takes; rawHostKey() and testVerifier() are a
 * minimal independent implementation straight on the crypto backend (encodings per RFC 8709
 * §4/§6, RFC 5656 §3.1, RFC 8332 §3), so the transport tests also cross-check src/keys.
 */
import type { CryptoBackend, EcCurve, HashAlgorithm, RsaPrivateComponents } from '../../../src/crypto/backend.js';
import { defaultBackend } from '../../../src/crypto/index.js';
import { createHostKeySigner } from '../../../src/keys/host-key-signer.js';
import type { PlainKeyType } from '../../../src/keys/key-types.js';
import { type PrivateKey, generatePrivateKey } from '../../../src/keys/private-key-core.js';
import type { HostKeySigner, SignatureVerifier } from '../../../src/transport/host-key.js';
import { SshReader, SshWriter } from '../../../src/wire/index.js';

export type TestKeyKind = 'ed25519' | 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'rsa';

const CURVE_NAME: Record<EcCurve, string> = { p256: 'nistp256', p384: 'nistp384', p521: 'nistp521' };
const SCALAR_BYTES: Record<EcCurve, number> = { p256: 32, p384: 48, p521: 66 };
const RSA_HASH: Record<string, HashAlgorithm> = { 'rsa-sha2-256': 'sha256', 'rsa-sha2-512': 'sha512' };

const rsaCache = new Map<number, RsaPrivateComponents>();

function rsaKey(backend: CryptoBackend, bits: number): RsaPrivateComponents {
  let k = rsaCache.get(bits);
  if (k === undefined) {
    k = backend.rsaGenerate(bits);
    rsaCache.set(bits, k);
  }
  return k;
}

const PLAIN_TYPE: Record<TestKeyKind, PlainKeyType> = {
  ed25519: 'ssh-ed25519',
  'ecdsa-p256': 'ecdsa-sha2-nistp256',
  'ecdsa-p384': 'ecdsa-sha2-nistp384',
  'ecdsa-p521': 'ecdsa-sha2-nistp521',
  rsa: 'ssh-rsa',
};
let rsaPrivate: PrivateKey | undefined;

/** A host key through src/keys (RSA: one 3072-bit key per process, generation is slow). */
export function testHostKey(kind: TestKeyKind): HostKeySigner {
  if (kind === 'rsa') {
    rsaPrivate ??= generatePrivateKey('ssh-rsa', 3072);
    return createHostKeySigner(rsaPrivate);
  }
  return createHostKeySigner(generatePrivateKey(PLAIN_TYPE[kind]));
}

export function rawHostKey(kind: TestKeyKind, backend: CryptoBackend = defaultBackend): HostKeySigner {
  switch (kind) {
    case 'ed25519': {
      const seed = backend.randomBytes(32);
      const pub = backend.ed25519PublicKey(seed);
      return {
        algorithms: ['ssh-ed25519'],
        publicKeyBlob: () => new SshWriter().string('ssh-ed25519').string(pub).finish(),
        sign: (_alg, data) => new SshWriter().string('ssh-ed25519').string(backend.ed25519Sign(seed, data)).finish(),
      };
    }
    case 'ecdsa-p256':
    case 'ecdsa-p384':
    case 'ecdsa-p521': {
      const curve = kind.slice(6) as EcCurve;
      const name = `ecdsa-sha2-${CURVE_NAME[curve]}`;
      const scalar = backend.randomBytes(SCALAR_BYTES[curve]);
      if (curve === 'p521') scalar[0] = (scalar[0] ?? 0) & 0x01;
      const q = backend.ecdsaPublicKey(curve, scalar);
      return {
        algorithms: [name],
        publicKeyBlob: () => new SshWriter().string(name).string(CURVE_NAME[curve]).string(q).finish(),
        sign: (_alg, data) => {
          const { r, s } = backend.ecdsaSign(curve, scalar, data);
          const inner = new SshWriter().mpintFromBytes(r).mpintFromBytes(s).finish();
          return new SshWriter().string(name).string(inner).finish();
        },
      };
    }
    case 'rsa': {
      const key = rsaKey(backend, 3072);
      return {
        algorithms: ['rsa-sha2-512', 'rsa-sha2-256'],
        publicKeyBlob: () => new SshWriter().string('ssh-rsa').mpintFromBytes(key.e).mpintFromBytes(key.n).finish(),
        sign: (alg, data) => {
          const hash = RSA_HASH[alg];
          if (hash === undefined) throw new Error(`cannot sign ${alg}`);
          return new SshWriter().string(alg).string(backend.rsaSign(key, hash, data)).finish();
        },
      };
    }
    default: {
      const never: never = kind;
      throw new Error(String(never));
    }
  }
}

/** Verifies the signature blobs made above (and by real OpenSSH servers for the same algorithms). */
export function testVerifier(backend: CryptoBackend = defaultBackend): SignatureVerifier {
  return (algorithm, blob, signature, data) => {
    try {
      const k = new SshReader(blob);
      const keyType = k.ascii(64);
      const s = new SshReader(signature);
      const sigAlg = s.ascii(64);
      const sig = s.bytes();
      if (sigAlg !== algorithm) return false;
      if (keyType === 'ssh-ed25519' && algorithm === 'ssh-ed25519') return backend.ed25519Verify(k.bytes(), data, sig);
      if (keyType.startsWith('ecdsa-sha2-') && algorithm === keyType) {
        const curve = (Object.keys(CURVE_NAME) as EcCurve[]).find((c) => CURVE_NAME[c] === keyType.slice(11));
        if (curve === undefined || k.ascii(16) !== CURVE_NAME[curve]) return false;
        const q = k.bytes();
        const rs = new SshReader(sig);
        return backend.ecdsaVerify(curve, q, data, rs.mpintBytes(), rs.mpintBytes());
      }
      const hash = RSA_HASH[algorithm];
      if (keyType === 'ssh-rsa' && hash !== undefined) {
        const e = k.mpintBytes();
        const n = k.mpintBytes();
        return backend.rsaVerify({ e, n }, hash, data, sig);
      }
      return false;
    } catch {
      return false;
    }
  };
}
