/**
 * ML-KEM-768 (FIPS 203) from @noble/post-quantum, shared by both backends: Node 20's
 * node:crypto has no ML-KEM, so this is the only implementation either backend can use.
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { DisconnectReason, SshProtocolError } from '../wire/index.js';
import type { KemKeyPair } from './backend.js';

/** FIPS 203 §8 Table 3: ML-KEM-768 encapsulation key and ciphertext sizes. */
export const MLKEM768_PUBLIC_KEY_BYTES = 1184;
export const MLKEM768_CIPHERTEXT_BYTES = 1088;

export function mlkem768KeyPair(seed?: Uint8Array): KemKeyPair {
  const { publicKey, secretKey } = seed === undefined ? ml_kem768.keygen() : ml_kem768.keygen(seed);
  return {
    publicKey,
    decapsulate(cipherText: Uint8Array): Uint8Array {
      if (cipherText.length !== MLKEM768_CIPHERTEXT_BYTES) {
        throw new SshProtocolError(DisconnectReason.KEY_EXCHANGE_FAILED, 'bad ML-KEM-768 ciphertext length');
      }
      return ml_kem768.decapsulate(cipherText, secretKey);
    },
  };
}

export function mlkem768Encapsulate(publicKey: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  if (publicKey.length !== MLKEM768_PUBLIC_KEY_BYTES) {
    throw new SshProtocolError(DisconnectReason.KEY_EXCHANGE_FAILED, 'bad ML-KEM-768 public key length');
  }
  // FIPS 203 §7.2 modulus check: noble throws on a non-canonical encapsulation key
  try {
    return ml_kem768.encapsulate(publicKey);
  } catch {
    throw new SshProtocolError(DisconnectReason.KEY_EXCHANGE_FAILED, 'invalid ML-KEM-768 public key');
  }
}
