/**
 * Adapts loaded private keys (src/keys) to the transport's HostKeySigner port.
 */
import { createHostKeySigner } from '../keys/host-key-signer.js';
import type { PrivateKey } from '../keys/private-key.js';
import type { HostKeySigner } from '../transport/host-key.js';

/** True for a PrivateKey (has `material`), false for a ready HostKeySigner. */
export function isPrivateKey(k: HostKeySigner | PrivateKey): k is PrivateKey {
  return 'material' in k;
}

/** A plain private key becomes a signer for every algorithm it serves (createHostKeySigner). */
export function toHostKeySigner(k: HostKeySigner | PrivateKey): HostKeySigner {
  return isPrivateKey(k) ? createHostKeySigner(k) : k;
}
