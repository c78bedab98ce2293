/** SSH_DISCONNECT reason codes, RFC 4253 §11.1. */
export const DisconnectReason = {
  HOST_NOT_ALLOWED_TO_CONNECT: 1,
  PROTOCOL_ERROR: 2,
  KEY_EXCHANGE_FAILED: 3,
  RESERVED: 4,
  MAC_ERROR: 5,
  COMPRESSION_ERROR: 6,
  SERVICE_NOT_AVAILABLE: 7,
  PROTOCOL_VERSION_NOT_SUPPORTED: 8,
  HOST_KEY_NOT_VERIFIABLE: 9,
  CONNECTION_LOST: 10,
  BY_APPLICATION: 11,
  TOO_MANY_CONNECTIONS: 12,
  AUTH_CANCELLED_BY_USER: 13,
  NO_MORE_AUTH_METHODS_AVAILABLE: 14,
  ILLEGAL_USER_NAME: 15,
} as const;
export type DisconnectReasonCode = (typeof DisconnectReason)[keyof typeof DisconnectReason];

/** Thrown by readers that run past the end of a buffer or meet a malformed field. */
export class WireError extends Error {
  override readonly name = 'WireError';
  readonly reason: DisconnectReasonCode = DisconnectReason.PROTOCOL_ERROR;
}

/** A protocol violation that must end the connection with the given DISCONNECT reason. */
export class SshProtocolError extends Error {
  override readonly name = 'SshProtocolError';
  constructor(
    readonly reason: DisconnectReasonCode,
    message: string,
  ) {
    super(message);
  }
}

/** The peer sent SSH_MSG_DISCONNECT, or the connection was closed. */
export class SshDisconnectedError extends Error {
  override readonly name = 'SshDisconnectedError';
  constructor(
    readonly reason: number,
    readonly description: string,
    readonly byPeer: boolean,
  ) {
    super(`${byPeer ? 'peer disconnected' : 'disconnected'}: ${description} (reason ${reason})`);
  }
}

/** The reason code an error maps to when it ends a connection. */
export function disconnectReasonOf(err: unknown): DisconnectReasonCode {
  if (err instanceof SshProtocolError || err instanceof WireError) return err.reason;
  return DisconnectReason.PROTOCOL_ERROR;
}
