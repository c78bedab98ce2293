/** The error for a peer that broke the connection protocol: the connection ends with PROTOCOL_ERROR. Internal to the connection machine. */
import { DisconnectReason, SshProtocolError } from '../wire/index.js';

export function protocolError(message: string): SshProtocolError {
  return new SshProtocolError(DisconnectReason.PROTOCOL_ERROR, message);
}
