/**
 * Packet protection factories: the transport asks for a sealer/opener by negotiated names.
 * Unknown names and missing MACs are programming errors (negotiation only yields registry rows).
 * The primitives come from `backend` (default: node:crypto with the WebAssembly Poly1305).
 */
import { defaultSymmetric } from '../../crypto/index.js';
import type { SymmetricBackend } from '../../crypto/symmetric.js';
import type { DirectionKeys, PacketOpener } from '../packet-protection.js';
import type { BatchSealer } from './batch-sealer.js';
import { AesCtrOpener, AesCtrSealer } from './aes-ctr-hmac.js';
import { AesGcmOpener, AesGcmSealer } from './aes-gcm.js';
import { ChachaPolyOpener, ChachaPolySealer } from './chacha20-poly1305.js';
import { NoneOpener, NoneSealer } from './none-cipher.js';
import { type CipherSpec, type MacSpec, findCipher, findMac } from './registry.js';

export * from './registry.js';
export type { BatchSealer } from './batch-sealer.js';
export { OpenerOrderError } from './packet-layout.js';

export class UnknownAlgorithmError extends Error {
  override readonly name = 'UnknownAlgorithmError';
}

function lookup(cipher: string, mac: string | null): { spec: CipherSpec; macSpec: MacSpec | null } {
  const spec = findCipher(cipher);
  if (spec === undefined) throw new UnknownAlgorithmError(`unknown cipher ${cipher}`);
  // AEAD modes ignore the negotiated MAC (RFC 5647 §5.1; PROTOCOL.chacha20poly1305)
  if (spec.kind !== 'stream' || mac === null) return { spec, macSpec: null };
  const macSpec = findMac(mac);
  if (macSpec === undefined) throw new UnknownAlgorithmError(`unknown MAC ${mac}`);
  return { spec, macSpec };
}

function needMac(spec: CipherSpec, macSpec: MacSpec | null): MacSpec {
  if (macSpec === null) throw new UnknownAlgorithmError(`${spec.name} needs a MAC`);
  return macSpec;
}

/** The sending half of packet protection for one direction and one key lifetime. */
export function createSealer(
  cipher: string,
  mac: string | null,
  keys: DirectionKeys,
  backend: SymmetricBackend = defaultSymmetric,
): BatchSealer {
  const { spec, macSpec } = lookup(cipher, mac);
  switch (spec.kind) {
    case 'none':
      return new NoneSealer();
    case 'chacha':
      return new ChachaPolySealer(keys, backend);
    case 'aead':
      return new AesGcmSealer(spec, keys, backend);
    case 'stream':
      return new AesCtrSealer(spec, needMac(spec, macSpec), keys, backend);
    default: {
      const never: never = spec.kind;
      throw new UnknownAlgorithmError(String(never));
    }
  }
}

/** The receiving half of packet protection for one direction and one key lifetime. */
export function createOpener(
  cipher: string,
  mac: string | null,
  keys: DirectionKeys,
  backend: SymmetricBackend = defaultSymmetric,
): PacketOpener {
  const { spec, macSpec } = lookup(cipher, mac);
  switch (spec.kind) {
    case 'none':
      return new NoneOpener();
    case 'chacha':
      return new ChachaPolyOpener(keys, backend);
    case 'aead':
      return new AesGcmOpener(spec, keys, backend);
    case 'stream':
      return new AesCtrOpener(spec, needMac(spec, macSpec), keys, backend);
    default: {
      const never: never = spec.kind;
      throw new UnknownAlgorithmError(String(never));
    }
  }
}
