/**
 * The channel table of one connection (RFC 4254 §5): ids we allocate, the record of each channel,
 * and which channel each outstanding request token answers for. Part of SshConnection
 * (connection.ts): lookups for peer messages fail as protocol errors, lookups for our own calls
 * as ChannelStateError.
 */
import type { ChannelOpen } from './channel-opens.js';
import { type Channel, createChannel } from './channel-state.js';
import { type ChannelId, ChannelStateError, type RequestToken } from './connection-types.js';
import { protocolError } from './protocol-error.js';

export class ChannelTable {
  private readonly channels = new Map<number, Channel>();
  /** token → the channel whose request it answers. */
  private readonly tokens = new Map<number, ChannelId>();

  constructor(
    private readonly maxChannels: number,
    private readonly windowSize: number,
    private readonly maxPendingRequests: number,
  ) {}

  get size(): number {
    return this.channels.size;
  }

  /** The lowest free id, or undefined when the table is full. */
  allocate(): ChannelId | undefined {
    if (this.channels.size >= this.maxChannels) return undefined;
    for (let i = 0; i < this.maxChannels; i++) if (!this.channels.has(i)) return i as ChannelId;
    return undefined;
  }

  add(id: ChannelId, open: ChannelOpen, initiatedBy: 'us' | 'peer', state: Channel['state']): Channel {
    const ch = createChannel(id, open, initiatedBy, state, this.windowSize, this.maxPendingRequests);
    this.channels.set(id, ch);
    return ch;
  }

  /** Frees the id and drops the channel's unanswered request tokens. */
  forget(ch: Channel): void {
    this.channels.delete(ch.id);
    ch.replies.clear();
    for (const [token, channel] of this.tokens) if (channel === ch.id) this.tokens.delete(token);
  }

  /** The channel with this id, if any. */
  find(channel: number): Channel | undefined {
    return this.channels.get(channel);
  }

  /** The channel a peer's message names, which must be in `state`; otherwise a protocol error. */
  lookup(recipient: number, state: 'opening' | 'open'): Channel {
    const ch = this.channels.get(recipient);
    if (ch === undefined || ch.state !== state) {
      throw protocolError(`message for channel ${recipient}, which is not ${state === 'open' ? 'open' : 'being opened'}`);
    }
    return ch;
  }

  /** The channel one of our calls names (`what`: the call, for the error). */
  get(channel: ChannelId, what: string): Channel {
    const ch = this.channels.get(channel);
    if (ch === undefined) throw new ChannelStateError(`${what}: no channel ${channel}`);
    return ch;
  }

  /** As get(), and the channel must be open and not closing. */
  getOpen(channel: ChannelId, what: string): Channel {
    const ch = this.get(channel, what);
    if (ch.state !== 'open') throw new ChannelStateError(`${what}: channel ${channel} is ${ch.state}`);
    if (ch.closeSent) throw new ChannelStateError(`${what}: channel ${channel} is closing`);
    return ch;
  }

  /** A peer's want-reply request on `ch` waits for its answer under `token`. */
  awaitReply(ch: Channel, token: RequestToken): void {
    ch.replies.push(token);
    this.tokens.set(token, ch.id);
  }

  /** The channel `token` answers for, taking the token; undefined for a stale or unknown one. */
  takeToken(token: RequestToken): Channel | undefined {
    const channel = this.tokens.get(token);
    if (channel === undefined) return undefined;
    const ch = this.channels.get(channel);
    if (ch === undefined || !ch.replies.has(token)) return undefined;
    this.tokens.delete(token);
    return ch;
  }

  ids(): ChannelId[] {
    return [...this.channels.values()].map((c) => c.id);
  }
}
