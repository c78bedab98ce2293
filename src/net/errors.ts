/** Errors of the net layer, each with the DISCONNECT reason (RFC 4253 §11.1) it stands for. */
import { DisconnectReason, type DisconnectReasonCode } from '../wire/index.js';

/** Why a connection ended, as given to the 'close' event and to every channel still open. */
export interface CloseInfo {
  readonly reason: number;
  readonly description: string;
  /** True when the peer sent DISCONNECT or closed the socket first. */
  readonly byPeer: boolean;
}

/** The connection ended; carried by pending operations and channels that were still open. */
export class SshConnectionClosedError extends Error {
  override readonly name = 'SshConnectionClosedError';
  constructor(readonly info: CloseInfo) {
    super(`connection closed: ${info.description} (reason ${info.reason}${info.byPeer ? ', by peer' : ''})`);
  }
}

/** A channel open was refused (RFC 4254 §5.1). */
export class ChannelOpenError extends Error {
  override readonly name = 'ChannelOpenError';
  constructor(
    readonly reason: number,
    readonly description: string,
  ) {
    super(`channel open refused: ${description} (reason ${reason})`);
  }
}

/** A request with want-reply was answered with failure. */
export class RequestRefusedError extends Error {
  override readonly name = 'RequestRefusedError';
}

/** Authentication failed on the client side. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
  readonly reason: DisconnectReasonCode = DisconnectReason.NO_MORE_AUTH_METHODS_AVAILABLE;
  constructor(
    message: string,
    readonly methodsLeft: readonly string[] = [],
  ) {
    super(message);
  }
}

/** The client's host key verifier refused the server's key. */
export class HostKeyRejectedError extends Error {
  override readonly name = 'HostKeyRejectedError';
  readonly reason: DisconnectReasonCode = DisconnectReason.HOST_KEY_NOT_VERIFIABLE;
}
