/**
 * Typed channel-open payloads (RFC 4254 §6.1 session, §6.3.2 x11, §7.2 direct-tcpip and
 * forwarded-tcpip; OpenSSH PROTOCOL §2.4 streamlocal; PROTOCOL.agent auth-agent@openssh.com),
 * and the CHANNEL_OPEN_FAILURE reason codes (§5.1).
 */
import type { SshReader, SshWriter } from '../wire/index.js';

const MAX_HOST = 1024;
const MAX_PATH = 4096;

export const ChannelOpenFailure = {
  ADMINISTRATIVELY_PROHIBITED: 1,
  CONNECT_FAILED: 2,
  UNKNOWN_CHANNEL_TYPE: 3,
  RESOURCE_SHORTAGE: 4,
} as const;
export type ChannelOpenFailureCode = (typeof ChannelOpenFailure)[keyof typeof ChannelOpenFailure];

export type ChannelOpen =
  | { readonly type: 'session' }
  | {
      readonly type: 'direct-tcpip';
      readonly host: string;
      readonly port: number;
      readonly originHost: string;
      readonly originPort: number;
    }
  | {
      readonly type: 'forwarded-tcpip';
      /** The address and port that were connected (the forward's bind address). */
      readonly connectedHost: string;
      readonly connectedPort: number;
      readonly originHost: string;
      readonly originPort: number;
    }
  | { readonly type: 'x11'; readonly originHost: string; readonly originPort: number }
  | { readonly type: 'auth-agent@openssh.com' }
  | { readonly type: 'direct-streamlocal@openssh.com'; readonly socketPath: string }
  | { readonly type: 'forwarded-streamlocal@openssh.com'; readonly socketPath: string }
  | { readonly type: 'unknown'; readonly channelType: string; readonly data: Uint8Array };

export type ChannelType = ChannelOpen['type'];

export function channelTypeName(open: ChannelOpen): string {
  return open.type === 'unknown' ? open.channelType : open.type;
}

/** Decodes the type-specific data after the four common CHANNEL_OPEN fields. */
export function readChannelOpen(channelType: string, r: SshReader): ChannelOpen {
  switch (channelType) {
    case 'session':
      return { type: 'session' };
    case 'direct-tcpip':
      return {
        type: 'direct-tcpip',
        host: r.string(MAX_HOST),
        port: r.uint32(),
        originHost: r.string(MAX_HOST),
        originPort: r.uint32(),
      };
    case 'forwarded-tcpip':
      return {
        type: 'forwarded-tcpip',
        connectedHost: r.string(MAX_HOST),
        connectedPort: r.uint32(),
        originHost: r.string(MAX_HOST),
        originPort: r.uint32(),
      };
    case 'x11':
      return { type: 'x11', originHost: r.string(MAX_HOST), originPort: r.uint32() };
    case 'auth-agent@openssh.com':
      return { type: 'auth-agent@openssh.com' };
    case 'direct-streamlocal@openssh.com': {
      const socketPath = r.string(MAX_PATH);
      r.bytes(MAX_HOST); // reserved
      r.uint32(); // reserved
      return { type: 'direct-streamlocal@openssh.com', socketPath };
    }
    case 'forwarded-streamlocal@openssh.com': {
      const socketPath = r.string(MAX_PATH);
      r.bytes(MAX_HOST); // reserved
      return { type: 'forwarded-streamlocal@openssh.com', socketPath };
    }
    default:
      return { type: 'unknown', channelType, data: r.rest() };
  }
}

export function writeChannelOpen(w: SshWriter, open: ChannelOpen): void {
  switch (open.type) {
    case 'session':
    case 'auth-agent@openssh.com':
      return;
    case 'direct-tcpip':
      w.string(open.host).uint32(open.port).string(open.originHost).uint32(open.originPort);
      return;
    case 'forwarded-tcpip':
      w.string(open.connectedHost).uint32(open.connectedPort).string(open.originHost).uint32(open.originPort);
      return;
    case 'x11':
      w.string(open.originHost).uint32(open.originPort);
      return;
    case 'direct-streamlocal@openssh.com':
      w.string(open.socketPath).string('').uint32(0);
      return;
    case 'forwarded-streamlocal@openssh.com':
      w.string(open.socketPath).string('');
      return;
    case 'unknown':
      w.raw(open.data);
      return;
    default: {
      const never: never = open;
      throw new Error(`unhandled channel type ${String(never)}`);
    }
  }
}
