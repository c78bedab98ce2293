/**
 * The connection protocol (RFC 4254) as a synchronous, I/O-free machine: payloads in through
 * handle(), events out as its return value, payloads out through the sink. One machine per
 * SSH connection, both roles.
 *
 * Flow control (RFC 4254 §5.2) is the backpressure of the whole stack: we never send past the
 * peer's window, and we only re-open our own window for bytes the consumer reports with
 * consumed(), so a reader that stops costs at most one window of memory, on its channel only.
 */
import { Msg } from '../wire/index.js';
import { type ChannelOpen, ChannelOpenFailure, type ChannelOpenFailureCode } from './channel-opens.js';
import { type ChannelRequest, channelRequestName } from './channel-requests.js';
import { channelSnapshot } from './channel-state.js';
import { ChannelTable } from './channel-table.js';
import {
  type ChannelId,
  type ChannelInfo,
  ChannelStateError,
  type ConnectionEvent,
  type ConnectionOptions,
  type RequestToken,
} from './connection-types.js';
import { GlobalRequestState } from './global-request-state.js';
import { type GlobalRequest, globalRequestName } from './global-requests.js';
import {
  type ConnectionMessage,
  decodeConnectionMessage,
  encodeChannelDataHeader,
  encodeChannelExtendedDataHeader,
  encodeConnectionMessage,
} from './messages.js';
import { protocolError } from './protocol-error.js';
import { channelRequestRefusal, globalRequestAction, openRefusal } from './request-policy.js';

const MAX_WINDOW = 0xffffffff;
/**
 * The maximum packet we advertise. OpenSSH fills packets up to it when it has the data (a bulk
 * upload through `ssh -J` arrived on the gateway's inner session as 32 KiB packets with the
 * RFC's 32 KiB, about a third fewer and mostly 128 KiB ones with this): every packet costs a
 * cipher context and a pass through the framing and channel code, whatever its size. It stays
 * well inside the transport's 256 KiB packet cap, and buffered input is bounded by the window.
 * (At most half the window: see the constructor.)
 */
const DEFAULT_MAX_PACKET = 128 * 1024;

/** The relay hot path: CHANNEL_DATA read in place, without the general decoder's reader. */
function decodeData(payload: Uint8Array): ConnectionMessage | undefined {
  if (payload[0] !== Msg.CHANNEL_DATA || payload.length < 9) return undefined;
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (v.getUint32(5) !== payload.length - 9) return undefined; // the general decoder says why
  return { type: 'channel-data', recipientChannel: v.getUint32(1), data: payload.subarray(9) };
}

export class SshConnection {
  readonly role: 'client' | 'server';
  private readonly sink: (payload: Uint8Array) => void;
  private readonly sinkData: (header: Uint8Array, data: Uint8Array) => void;
  private readonly maxChannels: number;
  private readonly windowSize: number;
  private readonly maxPacket: number;
  private readonly maxSendPacket: number;
  private readonly maxPending: number;
  private readonly channels: ChannelTable;
  private readonly global: GlobalRequestState;
  /** One counter for channel and global request tokens, so they never collide. */
  private nextToken = 1;
  private sessionsForbidden = false;

  constructor(opts: ConnectionOptions) {
    this.role = opts.role;
    this.sink = opts.sink;
    const sink = opts.sink;
    this.sinkData = opts.sinkData ?? ((header, data) => sink(concatBytes(header, data)));
    this.maxChannels = opts.maxChannels ?? 256;
    this.windowSize = Math.min(opts.windowSize ?? 2 * 1024 * 1024, MAX_WINDOW);
    // A packet at most half the window, so that the peer can stream while we re-credit (and a
    // small configured window keeps the RFC's 32 KiB, as before).
    this.maxPacket = opts.maxPacket ?? Math.min(DEFAULT_MAX_PACKET, Math.max(32 * 1024, Math.floor(this.windowSize / 2)));
    this.maxSendPacket = opts.maxSendPacket ?? 32 * 1024;
    this.maxPending = opts.maxPendingRequests ?? 64;
    this.global = new GlobalRequestState(this.maxPending, this.sink);
    this.channels = new ChannelTable(this.maxChannels, this.windowSize, this.maxPending);
    if (this.maxChannels < 1 || this.windowSize < 1 || this.maxPacket < 1 || this.maxSendPacket < 1) {
      throw new RangeError('connection limits must be positive');
    }
  }

  /** Channels in the table (opening, pending or open). */
  get channelCount(): number {
    return this.channels.size;
  }

  /** True once no-more-sessions@openssh.com was received (server) . */
  get sessionsRefused(): boolean {
    return this.sessionsForbidden;
  }

  // ---------------------------------------------------------------- incoming

  /** Handles one connection-protocol payload (ids 80–127). Throws SshProtocolError on violations. */
  handle(payload: Uint8Array): ConnectionEvent[] {
    const events: ConnectionEvent[] = [];
    this.dispatch(decodeData(payload) ?? decodeConnectionMessage(payload), events);
    return events;
  }

  private dispatch(m: ConnectionMessage, events: ConnectionEvent[]): void {
    switch (m.type) {
      case 'global-request':
        this.onGlobalRequest(m.request, m.wantReply, events);
        return;
      case 'request-success':
        events.push(this.global.replied(true, m.data));
        return;
      case 'request-failure':
        events.push(this.global.replied(false, new Uint8Array(0)));
        return;
      case 'channel-open':
        this.onChannelOpen(m, events);
        return;
      case 'channel-open-confirmation': {
        const ch = this.channels.lookup(m.recipientChannel, 'opening');
        if (m.maxPacket === 0) throw protocolError('channel confirmed with maximum packet size 0');
        ch.state = 'open';
        ch.remoteId = m.senderChannel;
        ch.remoteWindow = m.initialWindow;
        ch.remoteMaxPacket = m.maxPacket;
        if (ch.abandoned) {
          // Closed by us before it opened: finish the CLOSE handshake; 'close' follows.
          ch.closeSent = true;
          this.sink(encodeConnectionMessage({ type: 'channel-close', recipientChannel: ch.remoteId }));
          return;
        }
        events.push({ type: 'open-confirmed', channel: ch.id });
        return;
      }
      case 'channel-open-failure': {
        const ch = this.channels.lookup(m.recipientChannel, 'opening');
        this.channels.forget(ch);
        events.push({ type: 'open-failed', channel: ch.id, reason: m.reason, description: m.description });
        return;
      }
      case 'channel-window-adjust': {
        const ch = this.channels.lookup(m.recipientChannel, 'open');
        if (ch.closeSent) return;
        if (ch.remoteWindow + m.bytes > MAX_WINDOW) throw protocolError('window adjust beyond 2^32-1 (RFC 4254 §5.2)');
        ch.remoteWindow += m.bytes;
        if (m.bytes > 0 && !ch.eofSent) events.push({ type: 'window', channel: ch.id, available: ch.remoteWindow });
        return;
      }
      case 'channel-data':
      case 'channel-extended-data': {
        const ch = this.channels.lookup(m.recipientChannel, 'open');
        if (ch.closeSent) return; // in flight when we closed; nobody will read it
        if (ch.eofReceived) throw protocolError(`data after EOF on channel ${ch.id}`);
        if (m.data.length > ch.localWindow) throw protocolError(`peer exceeded the window of channel ${ch.id}`);
        if (m.data.length > this.maxPacket) throw protocolError(`peer exceeded the maximum packet of channel ${ch.id}`);
        ch.localWindow -= m.data.length;
        ch.unconsumed += m.data.length;
        if (m.data.length === 0) return;
        if (m.type === 'channel-data') events.push({ type: 'data', channel: ch.id, data: m.data });
        else events.push({ type: 'extended-data', channel: ch.id, dataType: m.dataType, data: m.data });
        return;
      }
      case 'channel-eof': {
        const ch = this.channels.lookup(m.recipientChannel, 'open');
        if (ch.closeSent) return;
        if (ch.eofReceived) throw protocolError(`second EOF on channel ${ch.id}`);
        ch.eofReceived = true;
        events.push({ type: 'eof', channel: ch.id });
        return;
      }
      case 'channel-close': {
        const ch = this.channels.lookup(m.recipientChannel, 'open');
        // RFC 4254 §5.3: answer CLOSE with CLOSE unless we already sent ours; then the id is free.
        if (!ch.closeSent) this.sink(encodeConnectionMessage({ type: 'channel-close', recipientChannel: ch.remoteId }));
        this.channels.forget(ch);
        events.push({ type: 'close', channel: ch.id });
        return;
      }
      case 'channel-request':
        this.onChannelRequest(m.recipientChannel, m.request, m.wantReply, events);
        return;
      case 'channel-success':
      case 'channel-failure': {
        const ch = this.channels.lookup(m.recipientChannel, 'open');
        const request = ch.sentRequests.shift();
        if (request === undefined) throw protocolError(`channel reply without a request on channel ${ch.id}`);
        if (ch.closeSent) return;
        events.push({ type: 'channel-reply', channel: ch.id, request, ok: m.type === 'channel-success' });
        return;
      }
      default: {
        const never: never = m;
        throw new Error(`unhandled connection message ${String(never)}`);
      }
    }
  }

  private onChannelOpen(m: Extract<ConnectionMessage, { type: 'channel-open' }>, events: ConnectionEvent[]): void {
    const refuse = (reason: ChannelOpenFailureCode, description: string) => {
      this.sink(
        encodeConnectionMessage({
          type: 'channel-open-failure',
          recipientChannel: m.senderChannel,
          reason,
          description,
          language: '',
        }),
      );
      events.push({ type: 'open-refused', open: m.open, reason, description });
    };
    if (m.maxPacket === 0) throw protocolError('channel open with maximum packet size 0');
    const refusal = openRefusal(this.role, m.open, this.sessionsForbidden);
    if (refusal !== undefined) {
      refuse(refusal.reason, refusal.description);
      return;
    }
    const id = this.channels.allocate();
    if (id === undefined) {
      refuse(ChannelOpenFailure.RESOURCE_SHORTAGE, 'too many channels');
      return;
    }
    const ch = this.channels.add(id, m.open, 'peer', 'pending');
    ch.remoteId = m.senderChannel;
    ch.remoteWindow = m.initialWindow;
    ch.remoteMaxPacket = m.maxPacket;
    events.push({ type: 'open-request', channel: id, open: m.open });
  }

  private onChannelRequest(recipient: number, request: ChannelRequest, wantReply: boolean, events: ConnectionEvent[]): void {
    const ch = this.channels.lookup(recipient, 'open');
    if (ch.closeSent) return;
    const token = wantReply ? this.issueToken() : null;
    if (token !== null) this.channels.awaitReply(ch, token);
    const refusal = channelRequestRefusal(request, ch.open);
    if (refusal !== undefined) {
      events.push({ type: 'request-refused', scope: 'channel', channel: ch.id, name: channelRequestName(request), reason: refusal });
      if (token !== null) this.replyRequest(token, false);
      return;
    }
    events.push({ type: 'channel-request', channel: ch.id, request, token });
  }

  private onGlobalRequest(request: GlobalRequest, wantReply: boolean, events: ConnectionEvent[]): void {
    const token = wantReply ? this.issueToken() : null;
    if (token !== null) this.global.received(token, request);
    const decision = globalRequestAction(this.role, request);
    switch (decision.action) {
      case 'driver':
        events.push({ type: 'global-request', request, token });
        return;
      case 'no-more-sessions':
        this.sessionsForbidden = true;
        events.push({ type: 'no-more-sessions' });
        if (token !== null) this.replyGlobalRequest(token, true);
        return;
      case 'refuse':
        if (decision.log) {
          const name = globalRequestName(request);
          events.push({ type: 'request-refused', scope: 'global', channel: undefined, name, reason: decision.reason });
        }
        if (token !== null) this.replyGlobalRequest(token, false);
        return;
      default: {
        const never: never = decision;
        throw new Error(`unhandled global request action ${String(never)}`);
      }
    }
  }

  private issueToken(): RequestToken {
    return this.nextToken++ as RequestToken;
  }

  // ---------------------------------------------------------------- channel lifecycle

  /** Opens a channel of ours; 'open-confirmed' or 'open-failed' follows. */
  openChannel(open: ChannelOpen): ChannelId {
    const id = this.channels.allocate();
    if (id === undefined) throw new ChannelStateError('too many channels');
    this.channels.add(id, open, 'us', 'opening');
    this.sink(
      encodeConnectionMessage({
        type: 'channel-open',
        senderChannel: id,
        initialWindow: this.windowSize,
        maxPacket: this.maxPacket,
        open,
      }),
    );
    return id;
  }

  /** Accepts a channel announced by an 'open-request' event. */
  acceptChannel(channel: ChannelId): void {
    const ch = this.channels.get(channel, 'acceptChannel');
    if (ch.state !== 'pending') throw new ChannelStateError(`acceptChannel: channel ${channel} is ${ch.state}`);
    ch.state = 'open';
    this.sink(
      encodeConnectionMessage({
        type: 'channel-open-confirmation',
        recipientChannel: ch.remoteId,
        senderChannel: ch.id,
        initialWindow: this.windowSize,
        maxPacket: this.maxPacket,
        data: new Uint8Array(0),
      }),
    );
  }

  /** Refuses a channel announced by an 'open-request' event; its id is free again. */
  rejectChannel(channel: ChannelId, reason: ChannelOpenFailureCode, description: string): void {
    const ch = this.channels.get(channel, 'rejectChannel');
    if (ch.state !== 'pending') throw new ChannelStateError(`rejectChannel: channel ${channel} is ${ch.state}`);
    this.channels.forget(ch);
    this.sink(
      encodeConnectionMessage({
        type: 'channel-open-failure',
        recipientChannel: ch.remoteId,
        reason,
        description,
        language: '',
      }),
    );
  }

  /** Bytes send() would accept now (0 once EOF or CLOSE was sent). */
  remoteWindow(channel: ChannelId): number {
    const ch = this.channels.find(channel);
    if (ch === undefined || ch.state !== 'open' || ch.eofSent || ch.closeSent) return 0;
    return ch.remoteWindow;
  }

  /** The data bytes one packet carries towards the peer: its maximum, capped by ours. */
  remoteMaxPacket(channel: ChannelId): number {
    const ch = this.channels.find(channel);
    if (ch === undefined || ch.state !== 'open') return 0;
    return Math.min(ch.remoteMaxPacket, this.maxSendPacket);
  }

  /**
   * Sends as much of `data` as the peer's window allows, split to its maximum packet size, and
   * returns how many bytes were taken. The caller keeps the rest and retries after a 'window' event.
   */
  send(channel: ChannelId, data: Uint8Array): number {
    return this.sendData(channel, data, null);
  }

  /** Like send(), as CHANNEL_EXTENDED_DATA (type 1 is stderr, RFC 4254 §5.2). */
  sendExtended(channel: ChannelId, data: Uint8Array, dataType = 1): number {
    return this.sendData(channel, data, dataType);
  }

  private sendData(channel: ChannelId, data: Uint8Array, dataType: number | null): number {
    const ch = this.channels.getOpen(channel, 'send');
    if (ch.eofSent) throw new ChannelStateError(`send: EOF already sent on channel ${channel}`);
    const n = Math.min(data.length, ch.remoteWindow);
    const chunk = Math.min(ch.remoteMaxPacket, this.maxSendPacket);
    for (let off = 0; off < n; off += chunk) {
      const part = data.subarray(off, Math.min(n, off + chunk));
      this.sinkData(
        dataType === null
          ? encodeChannelDataHeader(ch.remoteId, part.length)
          : encodeChannelExtendedDataHeader(ch.remoteId, dataType, part.length),
        part,
      );
    }
    ch.remoteWindow -= n;
    return n;
  }

  /**
   * The consumer took `bytes` of this channel's received data. Our window is re-opened with
   * WINDOW_ADJUST once half of it has been consumed, so adjusts stay few and senders keep streaming.
   */
  consumed(channel: ChannelId, bytes: number): void {
    const ch = this.channels.find(channel);
    if (ch === undefined || ch.state !== 'open') return; // closed meanwhile: nothing to credit
    if (!Number.isInteger(bytes) || bytes < 0 || bytes > ch.unconsumed) {
      throw new ChannelStateError(`consumed(${bytes}) but only ${ch.unconsumed} bytes are unconsumed`);
    }
    ch.unconsumed -= bytes;
    ch.credit += bytes;
    if (ch.closeSent || ch.eofReceived) return;
    if (ch.credit >= this.windowSize / 2 || ch.localWindow + ch.unconsumed < this.maxPacket) {
      const adjust = ch.credit;
      ch.credit = 0;
      ch.localWindow += adjust;
      this.sink(encodeConnectionMessage({ type: 'channel-window-adjust', recipientChannel: ch.remoteId, bytes: adjust }));
    }
  }

  /** Sends CHANNEL_EOF: no more data from us (requests such as exit-status may still follow). */
  eof(channel: ChannelId): void {
    // Idempotent, and a no-op once the channel is closing or gone: an EOF racing a CLOSE is benign.
    const existing = this.channels.find(channel);
    if (existing === undefined || existing.closeSent || existing.eofSent) return;
    const ch = this.channels.getOpen(channel, 'eof');
    ch.eofSent = true;
    this.sink(encodeConnectionMessage({ type: 'channel-eof', recipientChannel: ch.remoteId }));
  }

  /**
   * Sends CHANNEL_CLOSE; the 'close' event follows when the peer's CLOSE arrives. Idempotent.
   * A channel still opening is closed once confirmed ('close' follows) or ends with
   * 'open-failed'; a channel still pending is refused.
   */
  close(channel: ChannelId): void {
    const ch = this.channels.find(channel);
    if (ch === undefined || ch.closeSent) return;
    if (ch.state === 'pending') {
      this.rejectChannel(channel, ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED, 'closed');
      return;
    }
    if (ch.state === 'opening') {
      ch.abandoned = true;
      return;
    }
    ch.closeSent = true;
    ch.replies.clear();
    this.sink(encodeConnectionMessage({ type: 'channel-close', recipientChannel: ch.remoteId }));
  }

  /**
   * Sends a channel request; with wantReply a 'channel-reply' event answers it, in order.
   * Returns false (and sends nothing) when the channel is already closing or gone, as when an
   * exit-status races the peer's CLOSE.
   */
  sendRequest(channel: ChannelId, request: ChannelRequest, wantReply: boolean): boolean {
    const existing = this.channels.find(channel);
    if (existing === undefined || existing.closeSent) return false;
    const ch = this.channels.getOpen(channel, 'sendRequest');
    if (wantReply) ch.sentRequests.push(request);
    this.sink(encodeConnectionMessage({ type: 'channel-request', recipientChannel: ch.remoteId, wantReply, request }));
    return true;
  }

  /** Answers a channel request; replies leave in the order the requests came. Stale tokens are ignored. */
  replyRequest(token: RequestToken, ok: boolean): void {
    const ch = this.channels.takeToken(token);
    if (ch === undefined) return;
    for (const answer of ch.replies.fill(token, ok)) {
      this.sink(
        encodeConnectionMessage({ type: answer ? 'channel-success' : 'channel-failure', recipientChannel: ch.remoteId }),
      );
    }
  }

  /** Sends a global request; with wantReply a 'global-reply' event answers it, in order. */
  sendGlobalRequest(request: GlobalRequest, wantReply: boolean): void {
    this.global.send(request, wantReply);
  }

  /**
   * Answers a global request. A successful tcpip-forward for port 0 must name the port that was
   * bound (RFC 4254 §7.1).
   */
  replyGlobalRequest(token: RequestToken, ok: boolean, boundPort?: number): void {
    this.global.reply(token, ok, boundPort);
  }

  /** A snapshot of one channel, or undefined when the id is free. */
  channelInfo(channel: ChannelId): ChannelInfo | undefined {
    const ch = this.channels.find(channel);
    if (ch === undefined) return undefined;
    return channelSnapshot(ch);
  }

  /** Ids of all channels in the table. */
  channelIds(): ChannelId[] {
    return this.channels.ids();
  }
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
