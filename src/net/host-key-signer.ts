/**
 * Adapts loaded private keys (src/keys) to the transport's HostKeySigner port.
 */
import type { PrivateKey } from '../keys/private-key.js';
import type { HostKeySigner } from '../transport/host-key.js';

/** A HostKeySigner for a plain private key: every algorithm it signs with, strongest first. */
export function hostKeySignerFromPrivateKey(key: PrivateKey): HostKeySigner {
  return {
    algorithms: key.algorithms,
    publicKeyBlob: () => key.publicKeyBlob,
    sign: (algorithm, data) => key.sign(algorithm, data),
  };
}

/** True for a PrivateKey (has `material`), false for a ready HostKeySigner. */
export function isPrivateKey(k: HostKeySigner | PrivateKey): k is PrivateKey {
  return 'material' in k;
}

export function toHostKeySigner(k: HostKeySigner | PrivateKey): HostKeySigner {
  return isPrivateKey(k) ? hostKeySignerFromPrivateKey(k) : k;
}
