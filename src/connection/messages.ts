/**
 * Messages of the connection protocol (RFC 4254, ids 80–100) as a literal union with
 * bounds-checked codecs. Typed payloads: channel-opens.ts, channel-requests.ts,
 * global-requests.ts. Data fields of decoded CHANNEL_DATA / EXTENDED_DATA are views into the
 * payload (no copy): copy them if the payload buffer is reused.
 */
import { Msg, SshReader, SshWriter, WireError } from '../wire/index.js';
import { type ChannelOpen, channelTypeName, readChannelOpen, writeChannelOpen } from './channel-opens.js';
import { type ChannelRequest, channelRequestName, readChannelRequest, writeChannelRequest } from './channel-requests.js';
import { type GlobalRequest, globalRequestName, readGlobalRequest, writeGlobalRequest } from './global-requests.js';

const MAX_NAME = 256;
const MAX_TEXT = 8 * 1024;

export type ConnectionMessage =
  | { readonly type: 'global-request'; readonly wantReply: boolean; readonly request: GlobalRequest }
  /** Request-specific data follows; its meaning depends on the request it answers. */
  | { readonly type: 'request-success'; readonly data: Uint8Array }
  | { readonly type: 'request-failure' }
  | {
      readonly type: 'channel-open';
      readonly senderChannel: number;
      readonly initialWindow: number;
      readonly maxPacket: number;
      readonly open: ChannelOpen;
    }
  | {
      readonly type: 'channel-open-confirmation';
      readonly recipientChannel: number;
      readonly senderChannel: number;
      readonly initialWindow: number;
      readonly maxPacket: number;
      readonly data: Uint8Array;
    }
  | {
      readonly type: 'channel-open-failure';
      readonly recipientChannel: number;
      readonly reason: number;
      readonly description: string;
      readonly language: string;
    }
  | { readonly type: 'channel-window-adjust'; readonly recipientChannel: number; readonly bytes: number }
  | { readonly type: 'channel-data'; readonly recipientChannel: number; readonly data: Uint8Array }
  | {
      readonly type: 'channel-extended-data';
      readonly recipientChannel: number;
      readonly dataType: number;
      readonly data: Uint8Array;
    }
  | { readonly type: 'channel-eof'; readonly recipientChannel: number }
  | { readonly type: 'channel-close'; readonly recipientChannel: number }
  | {
      readonly type: 'channel-request';
      readonly recipientChannel: number;
      readonly wantReply: boolean;
      readonly request: ChannelRequest;
    }
  | { readonly type: 'channel-success'; readonly recipientChannel: number }
  | { readonly type: 'channel-failure'; readonly recipientChannel: number };

export type ConnectionMessageType = ConnectionMessage['type'];

/** Decodes one connection-protocol payload; throws WireError on anything malformed. */
export function decodeConnectionMessage(payload: Uint8Array): ConnectionMessage {
  const r = new SshReader(payload);
  const id = r.byte();
  let m: ConnectionMessage;
  switch (id) {
    case Msg.GLOBAL_REQUEST: {
      const name = r.ascii(MAX_NAME);
      const wantReply = r.bool();
      m = { type: 'global-request', wantReply, request: readGlobalRequest(name, r) };
      break;
    }
    case Msg.REQUEST_SUCCESS:
      m = { type: 'request-success', data: r.rest() };
      break;
    case Msg.REQUEST_FAILURE:
      m = { type: 'request-failure' };
      break;
    case Msg.CHANNEL_OPEN: {
      const channelType = r.ascii(MAX_NAME);
      const senderChannel = r.uint32();
      const initialWindow = r.uint32();
      const maxPacket = r.uint32();
      m = { type: 'channel-open', senderChannel, initialWindow, maxPacket, open: readChannelOpen(channelType, r) };
      break;
    }
    case Msg.CHANNEL_OPEN_CONFIRMATION:
      m = {
        type: 'channel-open-confirmation',
        recipientChannel: r.uint32(),
        senderChannel: r.uint32(),
        initialWindow: r.uint32(),
        maxPacket: r.uint32(),
        data: r.rest(),
      };
      break;
    case Msg.CHANNEL_OPEN_FAILURE: {
      const recipientChannel = r.uint32();
      const reason = r.uint32();
      const description = r.string(MAX_TEXT);
      // Some implementations omit the language tag; it carries nothing we use.
      const language = r.done ? '' : r.ascii(MAX_NAME);
      m = { type: 'channel-open-failure', recipientChannel, reason, description, language };
      break;
    }
    case Msg.CHANNEL_WINDOW_ADJUST:
      m = { type: 'channel-window-adjust', recipientChannel: r.uint32(), bytes: r.uint32() };
      break;
    case Msg.CHANNEL_DATA:
      m = { type: 'channel-data', recipientChannel: r.uint32(), data: r.bytes() };
      break;
    case Msg.CHANNEL_EXTENDED_DATA:
      m = { type: 'channel-extended-data', recipientChannel: r.uint32(), dataType: r.uint32(), data: r.bytes() };
      break;
    case Msg.CHANNEL_EOF:
      m = { type: 'channel-eof', recipientChannel: r.uint32() };
      break;
    case Msg.CHANNEL_CLOSE:
      m = { type: 'channel-close', recipientChannel: r.uint32() };
      break;
    case Msg.CHANNEL_REQUEST: {
      const recipientChannel = r.uint32();
      const name = r.ascii(MAX_NAME);
      const wantReply = r.bool();
      m = { type: 'channel-request', recipientChannel, wantReply, request: readChannelRequest(name, r) };
      break;
    }
    case Msg.CHANNEL_SUCCESS:
      m = { type: 'channel-success', recipientChannel: r.uint32() };
      break;
    case Msg.CHANNEL_FAILURE:
      m = { type: 'channel-failure', recipientChannel: r.uint32() };
      break;
    default:
      throw new WireError(`message ${id} is not a connection-protocol message`);
  }
  r.expectEnd(m.type);
  return m;
}

/** CHANNEL_DATA without a writer: the relay hot path copies the data exactly once. */
/** CHANNEL_DATA without its data: id, recipient and the data's length (the data follows on the wire). */
export function encodeChannelDataHeader(recipientChannel: number, length: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = Msg.CHANNEL_DATA;
  writeU32(out, 1, recipientChannel);
  writeU32(out, 5, length);
  return out;
}

/** CHANNEL_EXTENDED_DATA without its data. */
export function encodeChannelExtendedDataHeader(recipientChannel: number, dataType: number, length: number): Uint8Array {
  const out = new Uint8Array(13);
  out[0] = Msg.CHANNEL_EXTENDED_DATA;
  writeU32(out, 1, recipientChannel);
  writeU32(out, 5, dataType);
  writeU32(out, 9, length);
  return out;
}

function writeU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

export function encodeChannelData(recipientChannel: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + data.length);
  const v = new DataView(out.buffer);
  out[0] = Msg.CHANNEL_DATA;
  v.setUint32(1, recipientChannel >>> 0);
  v.setUint32(5, data.length);
  out.set(data, 9);
  return out;
}

export function encodeChannelExtendedData(recipientChannel: number, dataType: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(13 + data.length);
  const v = new DataView(out.buffer);
  out[0] = Msg.CHANNEL_EXTENDED_DATA;
  v.setUint32(1, recipientChannel >>> 0);
  v.setUint32(5, dataType >>> 0);
  v.setUint32(9, data.length);
  out.set(data, 13);
  return out;
}

export function encodeConnectionMessage(m: ConnectionMessage): Uint8Array {
  switch (m.type) {
    case 'channel-data':
      return encodeChannelData(m.recipientChannel, m.data);
    case 'channel-extended-data':
      return encodeChannelExtendedData(m.recipientChannel, m.dataType, m.data);
    default:
      break;
  }
  const w = new SshWriter(64);
  switch (m.type) {
    case 'global-request':
      w.byte(Msg.GLOBAL_REQUEST).string(globalRequestName(m.request)).bool(m.wantReply);
      writeGlobalRequest(w, m.request);
      break;
    case 'request-success':
      w.byte(Msg.REQUEST_SUCCESS).raw(m.data);
      break;
    case 'request-failure':
      w.byte(Msg.REQUEST_FAILURE);
      break;
    case 'channel-open':
      w.byte(Msg.CHANNEL_OPEN).string(channelTypeName(m.open)).uint32(m.senderChannel);
      w.uint32(m.initialWindow).uint32(m.maxPacket);
      writeChannelOpen(w, m.open);
      break;
    case 'channel-open-confirmation':
      w.byte(Msg.CHANNEL_OPEN_CONFIRMATION).uint32(m.recipientChannel).uint32(m.senderChannel);
      w.uint32(m.initialWindow).uint32(m.maxPacket).raw(m.data);
      break;
    case 'channel-open-failure':
      w.byte(Msg.CHANNEL_OPEN_FAILURE).uint32(m.recipientChannel).uint32(m.reason);
      w.string(m.description).string(m.language);
      break;
    case 'channel-window-adjust':
      w.byte(Msg.CHANNEL_WINDOW_ADJUST).uint32(m.recipientChannel).uint32(m.bytes);
      break;
    case 'channel-eof':
      w.byte(Msg.CHANNEL_EOF).uint32(m.recipientChannel);
      break;
    case 'channel-close':
      w.byte(Msg.CHANNEL_CLOSE).uint32(m.recipientChannel);
      break;
    case 'channel-request':
      w.byte(Msg.CHANNEL_REQUEST).uint32(m.recipientChannel).string(channelRequestName(m.request)).bool(m.wantReply);
      writeChannelRequest(w, m.request);
      break;
    case 'channel-success':
      w.byte(Msg.CHANNEL_SUCCESS).uint32(m.recipientChannel);
      break;
    case 'channel-failure':
      w.byte(Msg.CHANNEL_FAILURE).uint32(m.recipientChannel);
      break;
    default: {
      const never: never = m;
      throw new Error(`unhandled connection message ${String(never)}`);
    }
  }
  return w.finish();
}
