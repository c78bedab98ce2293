/** The per-channel record the connection machine keeps (RFC 4254 §5), and its public snapshot. */
import type { ChannelOpen } from './channel-opens.js';
import type { ChannelRequest } from './channel-requests.js';
import type { ChannelId, ChannelInfo } from './connection-types.js';
import { ReplyQueue } from './reply-queue.js';

export interface Channel {
  readonly id: ChannelId;
  readonly open: ChannelOpen;
  readonly initiatedBy: 'us' | 'peer';
  state: 'opening' | 'pending' | 'open';
  remoteId: number;
  /** Bytes we may still send (the peer's window). */
  remoteWindow: number;
  remoteMaxPacket: number;
  /** Bytes the peer may still send (our window as the peer sees it). */
  localWindow: number;
  /** Received and not yet reported consumed. */
  unconsumed: number;
  /** Consumed and not yet credited back with WINDOW_ADJUST. */
  credit: number;
  eofSent: boolean;
  eofReceived: boolean;
  closeSent: boolean;
  /** close() was called while opening: CLOSE goes out as soon as the confirmation comes. */
  abandoned: boolean;
  /** Incoming want-reply requests, answered in arrival order. */
  readonly replies: ReplyQueue<boolean>;
  /** Our want-reply requests awaiting the peer's answer, in order. */
  readonly sentRequests: ChannelRequest[];
}

export function createChannel(
  id: ChannelId,
  open: ChannelOpen,
  initiatedBy: 'us' | 'peer',
  state: Channel['state'],
  windowSize: number,
  maxPendingRequests: number,
): Channel {
  return {
    id,
    open,
    initiatedBy,
    state,
    remoteId: 0,
    remoteWindow: 0,
    remoteMaxPacket: 0,
    localWindow: windowSize,
    unconsumed: 0,
    credit: 0,
    eofSent: false,
    eofReceived: false,
    closeSent: false,
    abandoned: false,
    replies: new ReplyQueue(maxPendingRequests, 'channel'),
    sentRequests: [],
  };
}

export function channelSnapshot(ch: Channel): ChannelInfo {
  return {
    channel: ch.id,
    open: ch.open,
    initiatedBy: ch.initiatedBy,
    state: ch.state,
    remoteWindow: ch.remoteWindow,
    remoteMaxPacket: ch.remoteMaxPacket,
    localWindow: ch.localWindow,
    unconsumed: ch.unconsumed,
    eofSent: ch.eofSent,
    eofReceived: ch.eofReceived,
    closeSent: ch.closeSent,
  };
}
