/**
 * What the connection machine answers by itself, as pure functions: channel types a role
 * accepts (RFC 4254 §6.1, §6.3.2, §7.2; PROTOCOL.agent), requests that only belong on session
 * channels (§6), and the global requests it answers without the driver (OpenSSH PROTOCOL §2.2,
 * §2.5, keepalive@openssh.com). Every refusal here still sends a failure reply when one is wanted.
 */
import { type ChannelOpen, ChannelOpenFailure, type ChannelOpenFailureCode, channelTypeName } from './channel-opens.js';
import { type ChannelRequest, channelRequestName, SESSION_REQUEST_TYPES } from './channel-requests.js';
import type { GlobalRequest } from './global-requests.js';

export type Role = 'client' | 'server';

const ACCEPTED_OPENS: Readonly<Record<Role, ReadonlySet<string>>> = {
  server: new Set(['session', 'direct-tcpip', 'direct-streamlocal@openssh.com']),
  client: new Set(['forwarded-tcpip', 'forwarded-streamlocal@openssh.com', 'x11', 'auth-agent@openssh.com']),
};

/** Why a peer's CHANNEL_OPEN is refused without asking the driver, or undefined to ask it. */
export function openRefusal(
  role: Role,
  open: ChannelOpen,
  sessionsForbidden: boolean,
): { readonly reason: ChannelOpenFailureCode; readonly description: string } | undefined {
  if (open.type === 'unknown') {
    return { reason: ChannelOpenFailure.UNKNOWN_CHANNEL_TYPE, description: `unknown channel type ${open.channelType}` };
  }
  if (!ACCEPTED_OPENS[role].has(open.type)) {
    return { reason: ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED, description: `a ${role} does not accept ${open.type} channels` };
  }
  if (open.type === 'session' && sessionsForbidden) {
    return { reason: ChannelOpenFailure.ADMINISTRATIVELY_PROHIBITED, description: 'no more sessions (no-more-sessions@openssh.com)' };
  }
  return undefined;
}

/** Why a channel request is answered with failure without asking the driver, or undefined. */
export function channelRequestRefusal(request: ChannelRequest, channel: ChannelOpen): string | undefined {
  if (request.type === 'unknown') return 'unknown channel request';
  if (SESSION_REQUEST_TYPES.has(request.type) && channel.type !== 'session') {
    return `${channelRequestName(request)} on a ${channelTypeName(channel)} channel`;
  }
  return undefined;
}

export type GlobalRequestAction =
  | { readonly action: 'driver' }
  | { readonly action: 'no-more-sessions' }
  /** Answer failure; `log` is false for the routine ones (keepalives, host key announcements). */
  | { readonly action: 'refuse'; readonly reason: string; readonly log: boolean };

export function globalRequestAction(role: Role, request: GlobalRequest): GlobalRequestAction {
  switch (request.type) {
    case 'no-more-sessions@openssh.com':
      return role === 'server' ? { action: 'no-more-sessions' } : { action: 'refuse', reason: 'no-more-sessions sent to a client', log: true };
    case 'keepalive@openssh.com':
      // OpenSSH's keepalive wants any reply; failure is the conventional one.
      return { action: 'refuse', reason: 'keepalive', log: false };
    case 'hostkeys-00@openssh.com':
      // Host key rotation (OpenSSH PROTOCOL §2.5) is not taken up; ignoring it is the polite answer.
      return { action: 'refuse', reason: 'host key rotation not supported', log: false };
    case 'hostkeys-prove-00@openssh.com':
      return { action: 'refuse', reason: 'host key proofs not supported', log: true };
    case 'tcpip-forward':
    case 'cancel-tcpip-forward':
    case 'streamlocal-forward@openssh.com':
    case 'cancel-streamlocal-forward@openssh.com':
      return role === 'server' ? { action: 'driver' } : { action: 'refuse', reason: `${request.type} sent to a client`, log: true };
    case 'unknown':
      return { action: 'refuse', reason: 'unknown global request', log: true };
    default: {
      const never: never = request;
      throw new Error(`unhandled global request ${String(never)}`);
    }
  }
}
