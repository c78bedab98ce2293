/**
 * The initial "none" protection (RFC 4253 §6: before the first NEWKEYS there is no cipher and
 * no MAC; block size 8, the length counts toward alignment).
 */
import type { PacketOpener, PacketSealer } from '../packet-protection.js';
import { OpenerOrderError, checkPacketLength, paddingFor, payloadOf, readU32, writePlainPacket, wrongPacketSize } from './packet-layout.js';

const BLOCK = 8;

export class NoneSealer implements PacketSealer {
  readonly cipherName = 'none';
  readonly macName = null;

  seal(_seq: number, payload: Uint8Array): Uint8Array {
    const pad = paddingFor(payload.length, BLOCK, true);
    const out = new Uint8Array(5 + payload.length + pad);
    writePlainPacket(out, 0, payload, pad);
    return out;
  }
}

export class NoneOpener implements PacketOpener {
  readonly cipherName = 'none';
  readonly macName = null;
  readonly headerLength = 4;
  readonly trailerLength = 0;
  private pending = -1;

  packetLength(_seq: number, header: Uint8Array): number {
    if (header.length < 4) throw new OpenerOrderError('header shorter than headerLength');
    this.pending = checkPacketLength(readU32(header, 0), BLOCK, true);
    return this.pending;
  }

  open(_seq: number, packet: Uint8Array): Uint8Array {
    const len = this.pending;
    if (len < 0) throw new OpenerOrderError('open() before packetLength()');
    this.pending = -1;
    if (packet.length !== 4 + len) throw wrongPacketSize();
    return payloadOf(packet.subarray(4));
  }
}
