/**
 * SSH_MSG_EXT_INFO (RFC 8308 §2.3): uint32 nr-extensions, then (string name, string value)
 * pairs. Parsing is bounded in count and size; the packet cap bounds the rest.
 */
import { DisconnectReason, Msg, SshProtocolError, SshReader, SshWriter } from '../wire/index.js';

export const MAX_EXTENSIONS = 64;
const MAX_EXTENSION_NAME = 256;
const MAX_EXTENSION_VALUE = 16 * 1024;

export function encodeExtInfo(extensions: ReadonlyMap<string, Uint8Array | string>): Uint8Array {
  const w = new SshWriter(256).byte(Msg.EXT_INFO).uint32(extensions.size);
  for (const [name, value] of extensions) w.string(name).string(value);
  return w.finish();
}

export function parseExtInfo(payload: Uint8Array): Map<string, Uint8Array> {
  const r = new SshReader(payload);
  if (r.byte() !== Msg.EXT_INFO) throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, 'not an EXT_INFO');
  const n = r.uint32();
  if (n > MAX_EXTENSIONS) throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, `EXT_INFO with ${n} extensions`);
  const out = new Map<string, Uint8Array>();
  for (let i = 0; i < n; i++) {
    const name = r.ascii(MAX_EXTENSION_NAME);
    const value = r.bytes(MAX_EXTENSION_VALUE).slice();
    // RFC 8308 §2.3: names must be unique; keep the first and fail on a repeat
    if (out.has(name)) throw new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, `EXT_INFO repeats ${name}`);
    out.set(name, value);
  }
  return out;
}

/** The server-sig-algs value (a name-list) as names; empty when absent or malformed. */
export function serverSigAlgsOf(extensions: ReadonlyMap<string, Uint8Array>): string[] {
  const v = extensions.get('server-sig-algs');
  if (v === undefined) return [];
  const s = new TextDecoder().decode(v);
  return s === '' ? [] : s.split(',');
}
