/**
 * The global requests of one connection (RFC 4254 §4), both ways: the requests we sent that
 * wait for a reply (answered in order), and the peer's want-reply requests, whose replies must
 * leave in the order they came whatever order the driver decides them in. Part of SshConnection
 * (connection.ts), which owns the token counter so channel and global tokens never collide.
 */
import { Msg } from '../wire/index.js';
import { ChannelStateError, type ConnectionEvent, type RequestToken } from './connection-types.js';
import { type GlobalRequest, readBoundPort } from './global-requests.js';
import { encodeConnectionMessage } from './messages.js';
import { protocolError } from './protocol-error.js';
import { ReplyQueue } from './reply-queue.js';

interface GlobalAnswer {
  readonly ok: boolean;
  readonly data: Uint8Array;
}

export class GlobalRequestState {
  /** Ours, sent with want-reply, oldest first. */
  private readonly sent: GlobalRequest[] = [];
  /** The peer's want-reply requests, in arrival order. */
  private readonly replies: ReplyQueue<GlobalAnswer>;
  /** token → the peer's request it answers (while unanswered). */
  private readonly pending = new Map<RequestToken, GlobalRequest>();

  constructor(
    maxPending: number,
    private readonly sink: (payload: Uint8Array) => void,
  ) {
    this.replies = new ReplyQueue(maxPending, 'global');
  }

  /** Sends a request of ours; with wantReply a 'global-reply' event answers it, in order. */
  send(request: GlobalRequest, wantReply: boolean): void {
    if (wantReply) this.sent.push(request);
    this.sink(encodeConnectionMessage({ type: 'global-request', wantReply, request }));
  }

  /** The peer's REQUEST_SUCCESS or REQUEST_FAILURE: the event for the oldest request of ours. */
  replied(ok: boolean, data: Uint8Array): ConnectionEvent {
    const request = this.sent.shift();
    if (request === undefined) throw protocolError('global request reply without a request');
    let boundPort: number | undefined;
    if (ok && request.type === 'tcpip-forward' && request.port === 0) {
      try {
        boundPort = readBoundPort(data);
      } catch {
        throw protocolError('tcpip-forward reply without a valid bound port');
      }
    }
    return { type: 'global-reply', request, ok, boundPort };
  }

  /** A want-reply request from the peer takes its place in the reply order under `token`. */
  received(token: RequestToken, request: GlobalRequest): void {
    this.replies.push(token);
    this.pending.set(token, request);
  }

  /**
   * Answers a request of the peer. A successful tcpip-forward for port 0 must name the port
   * that was bound (RFC 4254 §7.1). Stale or unknown tokens are ignored.
   */
  reply(token: RequestToken, ok: boolean, boundPort?: number): void {
    const request = this.pending.get(token);
    if (request === undefined || !this.replies.has(token)) return;
    let data = new Uint8Array(0);
    if (ok && request.type === 'tcpip-forward' && request.port === 0) {
      if (boundPort === undefined || !Number.isInteger(boundPort) || boundPort < 1 || boundPort > 65535) {
        throw new ChannelStateError('tcpip-forward for port 0 needs the bound port in its reply');
      }
      data = new Uint8Array(4);
      new DataView(data.buffer).setUint32(0, boundPort);
    }
    this.pending.delete(token);
    for (const answer of this.replies.fill(token, { ok, data })) {
      this.sink(answer.ok ? encodeConnectionMessage({ type: 'request-success', data: answer.data }) : Uint8Array.of(Msg.REQUEST_FAILURE));
    }
  }
}
