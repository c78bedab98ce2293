/**
 * Codecs for the transport's own messages: the KEX method pair (30/31, shared by every method,
 * see ./kex-methods.ts), DISCONNECT, UNIMPLEMENTED (RFC 4253 §11) and NEWKEYS.
 */
import { DisconnectReason, Msg, SshProtocolError, SshReader, SshWriter } from '../wire/index.js';
import type { KexMethod } from './kex-methods.js';

export const KEX_INIT = 30;
export const KEX_REPLY = 31;
/** Host key blobs and signatures are far below this (RSA 16384: ~2 KiB; certificates a few KiB). */
const MAX_BLOB = 16 * 1024;

function putValue(w: SshWriter, m: KexMethod, v: Uint8Array): SshWriter {
  return m.valueEncoding === 'mpint' ? w.mpintFromBytes(v) : w.string(v);
}

function getValue(r: SshReader, m: KexMethod): Uint8Array {
  // mpint values may carry one leading zero byte
  const v = m.valueEncoding === 'mpint' ? r.mpintBytes(m.maxValueLength + 1) : r.bytes(m.maxValueLength);
  if (v.length === 0) throw new SshProtocolError(DisconnectReason.KEY_EXCHANGE_FAILED, 'empty key exchange value');
  return v.slice();
}

export function encodeKexInitValue(m: KexMethod, clientValue: Uint8Array): Uint8Array {
  return putValue(new SshWriter(clientValue.length + 16).byte(KEX_INIT), m, clientValue).finish();
}

export function parseKexInitValue(m: KexMethod, payload: Uint8Array): Uint8Array {
  const r = new SshReader(payload, 1);
  const v = getValue(r, m);
  r.expectEnd('key exchange init');
  return v;
}

export interface KexReply {
  readonly hostKeyBlob: Uint8Array;
  readonly serverValue: Uint8Array;
  readonly signature: Uint8Array;
}

export function encodeKexReply(m: KexMethod, x: KexReply): Uint8Array {
  const w = new SshWriter(x.hostKeyBlob.length + x.serverValue.length + x.signature.length + 32).byte(KEX_REPLY);
  w.string(x.hostKeyBlob);
  putValue(w, m, x.serverValue);
  return w.string(x.signature).finish();
}

export function parseKexReply(m: KexMethod, payload: Uint8Array): KexReply {
  const r = new SshReader(payload, 1);
  const hostKeyBlob = r.bytes(MAX_BLOB).slice();
  const serverValue = getValue(r, m);
  const signature = r.bytes(MAX_BLOB).slice();
  r.expectEnd('key exchange reply');
  return { hostKeyBlob, serverValue, signature };
}

export function encodeDisconnect(reason: number, description: string): Uint8Array {
  return new SshWriter(64 + description.length * 3).byte(Msg.DISCONNECT).uint32(reason).string(description).string('').finish();
}

/** DISCONNECT fields; a malformed one still ends the connection, with what could be read. */
export function parseDisconnect(payload: Uint8Array): { reason: number; description: string } {
  const r = new SshReader(payload, 1);
  let reason: number = DisconnectReason.PROTOCOL_ERROR;
  let description = '';
  try {
    reason = r.uint32();
    description = r.string(4096);
  } catch {
    // keep what was read
  }
  return { reason, description };
}

export function encodeUnimplemented(seq: number): Uint8Array {
  return new SshWriter(8).byte(Msg.UNIMPLEMENTED).uint32(seq).finish();
}

export const NEWKEYS_PAYLOAD = Uint8Array.of(Msg.NEWKEYS);
