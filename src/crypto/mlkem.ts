/**
 * ML-KEM-768 (FIPS 203) for both backends, behind one contract: wrong lengths and a failed
 * modulus check are KEY_EXCHANGE_FAILED protocol errors. Node 20's node:crypto has no ML-KEM:
 * the noble backend uses @noble/post-quantum, the node backend mlkem-node.ts (the same
 * algorithm with node:crypto's SHA-3, several times faster).
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { DisconnectReason, SshProtocolError } from '../wire/index.js';
import type { KemKeyPair } from './backend.js';
import { MLKEM768_CT_BYTES, MLKEM768_EK_BYTES, mlkem768NodeDecapsulate, mlkem768NodeEncapsulate, mlkem768NodeKeyGen } from './mlkem-node.js';

/** One implementation's three operations; encapsulate throws on an invalid encapsulation key. */
interface MlKem768 {
  keygen(seed?: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array };
  encapsulate(publicKey: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array };
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

const noble: MlKem768 = {
  keygen: (seed) => (seed === undefined ? ml_kem768.keygen() : ml_kem768.keygen(seed)),
  encapsulate: (publicKey) => ml_kem768.encapsulate(publicKey),
  decapsulate: (cipherText, secretKey) => ml_kem768.decapsulate(cipherText, secretKey),
};

const node: MlKem768 = {
  keygen: mlkem768NodeKeyGen,
  encapsulate: (publicKey) => mlkem768NodeEncapsulate(publicKey),
  decapsulate: mlkem768NodeDecapsulate,
};

function keyPair(impl: MlKem768, seed: Uint8Array | undefined): KemKeyPair {
  const { publicKey, secretKey } = impl.keygen(seed);
  return {
    publicKey,
    decapsulate(cipherText: Uint8Array): Uint8Array {
      if (cipherText.length !== MLKEM768_CT_BYTES) {
        throw new SshProtocolError(DisconnectReason.KEY_EXCHANGE_FAILED, 'bad ML-KEM-768 ciphertext length');
      }
      return impl.decapsulate(cipherText, secretKey);
    },
  };
}

function encapsulate(impl: MlKem768, publicKey: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  if (publicKey.length !== MLKEM768_EK_BYTES) {
    throw new SshProtocolError(DisconnectReason.KEY_EXCHANGE_FAILED, 'bad ML-KEM-768 public key length');
  }
  // FIPS 203 §7.2 modulus check: both implementations throw on a non-canonical encapsulation key
  try {
    return impl.encapsulate(publicKey);
  } catch {
    throw new SshProtocolError(DisconnectReason.KEY_EXCHANGE_FAILED, 'invalid ML-KEM-768 public key');
  }
}

/** @noble/post-quantum (the noble backend). `seed` is d ‖ z, 64 bytes, for tests. */
export function mlkem768KeyPair(seed?: Uint8Array): KemKeyPair {
  return keyPair(noble, seed);
}

export function mlkem768Encapsulate(publicKey: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  return encapsulate(noble, publicKey);
}

/** mlkem-node.ts (the node backend). */
export function mlkem768NodeBackendKeyPair(seed?: Uint8Array): KemKeyPair {
  return keyPair(node, seed);
}

export function mlkem768NodeBackendEncapsulate(publicKey: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  return encapsulate(node, publicKey);
}
