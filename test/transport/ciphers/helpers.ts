import { randomBytes } from 'node:crypto';
import { CIPHERS, MACS, type CipherSpec, type MacSpec } from '../../../src/transport/ciphers/index.js';
import type { DirectionKeys, PacketOpener } from '../../../src/transport/packet-protection.js';
import { DisconnectReason, SshProtocolError } from '../../../src/wire/index.js';

export interface Combo {
  cipher: CipherSpec;
  mac: MacSpec | null;
  label: string;
}

/** Every cipher, and every MAC for the ciphers that need one. */
export function allCombos(includeNone = true): Combo[] {
  const out: Combo[] = [];
  for (const cipher of CIPHERS) {
    if (cipher.kind === 'none' && !includeNone) continue;
    if (cipher.kind === 'stream') {
      for (const mac of MACS) out.push({ cipher, mac, label: `${cipher.name} + ${mac.name}` });
    } else out.push({ cipher, mac: null, label: cipher.name });
  }
  return out;
}

export function keysFor(c: Combo): DirectionKeys {
  return {
    encKey: new Uint8Array(randomBytes(c.cipher.keyLength)),
    iv: new Uint8Array(randomBytes(c.cipher.ivLength)),
    macKey: new Uint8Array(randomBytes(c.mac?.keyLength ?? 0)),
  };
}

export class LengthError extends Error {}

/**
 * What the framing layer does with received bytes: read the length from the header, then open
 * exactly that many bytes. A length that runs past the bytes we have is a length error (a real
 * connection would stall and then fail the MAC on the following bytes).
 */
export function receive(opener: PacketOpener, seq: number, bytes: Uint8Array): Uint8Array {
  if (bytes.length < opener.headerLength) throw new LengthError('short header');
  const len = opener.packetLength(seq, bytes.subarray(0, opener.headerLength));
  const total = 4 + len + opener.trailerLength;
  if (total > bytes.length) throw new LengthError(`length ${len} runs past the data`);
  return opener.open(seq, bytes.subarray(0, total));
}

export function reasonOf(err: unknown): number | 'length' | 'untyped' {
  if (err instanceof LengthError) return 'length';
  if (err instanceof SshProtocolError) return err.reason;
  return 'untyped';
}

export const MAC_ERROR = DisconnectReason.MAC_ERROR;
export const PROTOCOL_ERROR = DisconnectReason.PROTOCOL_ERROR;
