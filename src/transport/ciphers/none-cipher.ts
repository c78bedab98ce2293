/**
 * The initial "none" protection (RFC 4253 §6: before the first NEWKEYS there is no cipher and
 * no MAC; block size 8, the length counts toward alignment).
 */
import type { PacketOpener } from '../packet-protection.js';
import type { BatchSealer } from './batch-sealer.js';
import { OpenerOrderError, checkPacketLength, paddingFor, payloadOf, readU32, writePlainPacket, wrongPacketSize } from './packet-layout.js';

const BLOCK = 8;

export class NoneSealer implements BatchSealer {
  readonly cipherName = 'none';
  readonly macName = null;

  sealedLength(payloadLength: number): number {
    return 5 + payloadLength + paddingFor(payloadLength, BLOCK, true);
  }

  seal(seq: number, payload: Uint8Array, body?: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.sealedLength(payload.length + (body?.length ?? 0)));
    this.sealInto(seq, payload, out, 0, body);
    return out;
  }

  sealInto(_seq: number, payload: Uint8Array, out: Uint8Array, offset: number, body?: Uint8Array): number {
    const n = payload.length + (body?.length ?? 0);
    const pad = paddingFor(n, BLOCK, true);
    writePlainPacket(out, offset, payload, pad, body);
    return 5 + n + pad;
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
    // a copy: the framing layer reuses the packet's buffer (only the handful of packets before the first NEWKEYS come through here)
    return payloadOf(packet.subarray(4)).slice();
  }
}
