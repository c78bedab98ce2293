/** Exported types of the connection machine (connection.ts): ids, options and events. */
import type { ChannelOpen, ChannelOpenFailureCode } from './channel-opens.js';
import type { ChannelRequest } from './channel-requests.js';
import type { GlobalRequest } from './global-requests.js';

/** Our (local) channel number. The peer's number never leaves the machine. */
export type ChannelId = number & { readonly __brand: 'ChannelId' };
/** Names an incoming request that wants a reply; answer it with replyRequest/replyGlobalRequest. */
export type RequestToken = number & { readonly __brand: 'RequestToken' };

export interface ConnectionOptions {
  readonly role: 'client' | 'server';
  /** Receives every payload the machine sends (to be sealed by the transport). */
  readonly sink: (payload: Uint8Array) => void;
  /**
   * When given, CHANNEL_DATA and EXTENDED_DATA go here instead of through sink: the message
   * header, and the data as a view of the caller's bytes (valid only during the call), so the
   * transport copies the data once, as it seals it, instead of after a concatenation.
   */
  readonly sinkData?: (header: Uint8Array, data: Uint8Array) => void;
  /** Channels (open or opening, both directions) at once; default 256. */
  readonly maxChannels?: number;
  /** Our receive window per channel, the most a peer may have in flight; default 2 MiB. */
  readonly windowSize?: number;
  /** Largest data payload we accept per packet (advertised as maximum packet size); default 128 KiB (32 KiB with a window under 256 KiB). */
  readonly maxPacket?: number;
  /** Largest data payload we send per packet, whatever the peer allows; default 32 KiB. */
  readonly maxSendPacket?: number;
  /** Incoming want-reply requests not yet answered, per channel and for global requests; default 64. */
  readonly maxPendingRequests?: number;
}

export type ConnectionEvent =
  /** The peer asks to open a channel; answer with acceptChannel or rejectChannel. */
  | { readonly type: 'open-request'; readonly channel: ChannelId; readonly open: ChannelOpen }
  /** The machine refused an open by itself (type not allowed for this role, limits, no-more-sessions). */
  | {
      readonly type: 'open-refused';
      readonly open: ChannelOpen;
      readonly reason: ChannelOpenFailureCode;
      readonly description: string;
    }
  /** A channel we opened was confirmed. */
  | { readonly type: 'open-confirmed'; readonly channel: ChannelId }
  /** A channel we opened was refused; its id is free again. */
  | { readonly type: 'open-failed'; readonly channel: ChannelId; readonly reason: number; readonly description: string }
  /** Data arrived; report it with consumed() once the consumer has taken it. `data` is a view into the payload. */
  | { readonly type: 'data'; readonly channel: ChannelId; readonly data: Uint8Array }
  | { readonly type: 'extended-data'; readonly channel: ChannelId; readonly dataType: number; readonly data: Uint8Array }
  | { readonly type: 'eof'; readonly channel: ChannelId }
  /** Both sides sent CHANNEL_CLOSE; the id is free. Emitted once per channel that was open. */
  | { readonly type: 'close'; readonly channel: ChannelId }
  /** The peer's window grew; `available` is what send() may now accept. */
  | { readonly type: 'window'; readonly channel: ChannelId; readonly available: number }
  /** A channel request; when `token` is not null the peer waits for replyRequest(token, ok). */
  | {
      readonly type: 'channel-request';
      readonly channel: ChannelId;
      readonly request: ChannelRequest;
      readonly token: RequestToken | null;
    }
  /** The peer answered a channel request we sent with want-reply (matched in order). */
  | { readonly type: 'channel-reply'; readonly channel: ChannelId; readonly request: ChannelRequest; readonly ok: boolean }
  /** A global request for the driver; when `token` is not null answer with replyGlobalRequest. */
  | { readonly type: 'global-request'; readonly request: GlobalRequest; readonly token: RequestToken | null }
  /** The peer answered a global request we sent; `boundPort` for tcpip-forward with port 0. */
  | {
      readonly type: 'global-reply';
      readonly request: GlobalRequest;
      readonly ok: boolean;
      readonly boundPort: number | undefined;
    }
  /** The machine answered a request with failure by itself (unknown, not allowed here), for the logs. */
  | {
      readonly type: 'request-refused';
      readonly scope: 'global' | 'channel';
      readonly channel: ChannelId | undefined;
      readonly name: string;
      readonly reason: string;
    }
  /** The client sent no-more-sessions@openssh.com: further session opens are refused. */
  | { readonly type: 'no-more-sessions' };

export type ConnectionEventType = ConnectionEvent['type'];

/** A driver called a method that the channel's state does not allow (a bug in the caller). */
export class ChannelStateError extends Error {
  override readonly name = 'ChannelStateError';
}

/** What the machine tells about one channel. */
export interface ChannelInfo {
  readonly channel: ChannelId;
  readonly open: ChannelOpen;
  readonly initiatedBy: 'us' | 'peer';
  readonly state: 'opening' | 'pending' | 'open';
  readonly remoteWindow: number;
  readonly remoteMaxPacket: number;
  readonly localWindow: number;
  /** Bytes received and not yet reported consumed. */
  readonly unconsumed: number;
  readonly eofSent: boolean;
  readonly eofReceived: boolean;
  readonly closeSent: boolean;
}
