/**
 * Typed payloads of SSH_MSG_CHANNEL_REQUEST (RFC 4254 §6, RFC 4335 break, OpenSSH PROTOCOL
 * §2.1 eow@openssh.com, PROTOCOL.agent auth-agent-req@openssh.com). The request type string and
 * want-reply flag live in the message (messages.ts); this file holds what follows them.
 */
import { type SshReader, type SshWriter, WireError } from '../wire/index.js';
import { decodeTerminalModes, encodeTerminalModes, type TerminalMode } from './terminal-modes.js';

const MAX_NAME = 256;
const MAX_TEXT = 8 * 1024;
const MAX_COMMAND = 64 * 1024;
const MAX_MODES = 16 * 1024;
const MAX_ENV_VALUE = 32 * 1024;

export type ChannelRequest =
  | {
      readonly type: 'pty-req';
      readonly term: string;
      readonly cols: number;
      readonly rows: number;
      readonly widthPx: number;
      readonly heightPx: number;
      readonly modes: readonly TerminalMode[];
    }
  | {
      readonly type: 'x11-req';
      readonly singleConnection: boolean;
      readonly authProtocol: string;
      readonly authCookie: string;
      readonly screen: number;
    }
  | { readonly type: 'env'; readonly name: string; readonly value: string }
  | { readonly type: 'shell' }
  /** `command` is the UTF-8 reading (invalid sequences replaced); `commandBytes` is what was sent. */
  | { readonly type: 'exec'; readonly command: string; readonly commandBytes: Uint8Array }
  | { readonly type: 'subsystem'; readonly name: string }
  | {
      readonly type: 'window-change';
      readonly cols: number;
      readonly rows: number;
      readonly widthPx: number;
      readonly heightPx: number;
    }
  | { readonly type: 'xon-xoff'; readonly clientCanDo: boolean }
  /** Signal name without the "SIG" prefix (RFC 4254 §6.10). */
  | { readonly type: 'signal'; readonly signal: string }
  /** RFC 4335: break length in milliseconds. */
  | { readonly type: 'break'; readonly lengthMs: number }
  | { readonly type: 'exit-status'; readonly status: number }
  | {
      readonly type: 'exit-signal';
      readonly signal: string;
      readonly coreDumped: boolean;
      readonly message: string;
      readonly language: string;
    }
  | { readonly type: 'eow@openssh.com' }
  | { readonly type: 'auth-agent-req@openssh.com' }
  /** Anything else; with want-reply the connection machine answers CHANNEL_FAILURE itself. */
  | { readonly type: 'unknown'; readonly name: string; readonly data: Uint8Array };

export type ChannelRequestType = ChannelRequest['type'];

/** Requests that only make sense on a "session" channel (RFC 4254 §6). */
export const SESSION_REQUEST_TYPES: ReadonlySet<string> = new Set([
  'pty-req', 'x11-req', 'env', 'shell', 'exec', 'subsystem', 'window-change', 'xon-xoff', 'signal', 'break',
  'exit-status', 'exit-signal', 'eow@openssh.com', 'auth-agent-req@openssh.com',
]);

const lenientUtf8 = new TextDecoder('utf-8');

/** Decodes what follows "string request type, boolean want reply" in a CHANNEL_REQUEST. */
export function readChannelRequest(name: string, r: SshReader): ChannelRequest {
  switch (name) {
    case 'pty-req': {
      const term = r.ascii(MAX_NAME);
      const cols = r.uint32();
      const rows = r.uint32();
      const widthPx = r.uint32();
      const heightPx = r.uint32();
      const modes = decodeTerminalModes(r.bytes(MAX_MODES));
      return { type: 'pty-req', term, cols, rows, widthPx, heightPx, modes };
    }
    case 'x11-req':
      return {
        type: 'x11-req',
        singleConnection: r.bool(),
        authProtocol: r.ascii(MAX_NAME),
        authCookie: r.ascii(MAX_NAME),
        screen: r.uint32(),
      };
    case 'env':
      // Values are bytes to a shell; a stray non-UTF-8 byte should not end the connection.
      return { type: 'env', name: r.string(MAX_NAME), value: lenientUtf8.decode(r.bytes(MAX_ENV_VALUE)) };
    case 'shell':
      return { type: 'shell' };
    case 'exec': {
      const commandBytes = r.bytes(MAX_COMMAND);
      return { type: 'exec', command: lenientUtf8.decode(commandBytes), commandBytes };
    }
    case 'subsystem':
      return { type: 'subsystem', name: r.string(MAX_NAME) };
    case 'window-change':
      return { type: 'window-change', cols: r.uint32(), rows: r.uint32(), widthPx: r.uint32(), heightPx: r.uint32() };
    case 'xon-xoff':
      return { type: 'xon-xoff', clientCanDo: r.bool() };
    case 'signal':
      return { type: 'signal', signal: r.ascii(MAX_NAME) };
    case 'break':
      return { type: 'break', lengthMs: r.uint32() };
    case 'exit-status':
      return { type: 'exit-status', status: r.uint32() };
    case 'exit-signal':
      return {
        type: 'exit-signal',
        signal: r.ascii(MAX_NAME),
        coreDumped: r.bool(),
        message: r.string(MAX_TEXT),
        language: r.ascii(MAX_NAME),
      };
    case 'eow@openssh.com':
      return { type: 'eow@openssh.com' };
    case 'auth-agent-req@openssh.com':
      return { type: 'auth-agent-req@openssh.com' };
    default:
      return { type: 'unknown', name, data: r.rest() };
  }
}

/** The wire request-type string of a request. */
export function channelRequestName(req: ChannelRequest): string {
  return req.type === 'unknown' ? req.name : req.type;
}

/** Writes what follows "string request type, boolean want reply". */
export function writeChannelRequest(w: SshWriter, req: ChannelRequest): void {
  switch (req.type) {
    case 'pty-req':
      w.string(req.term).uint32(req.cols).uint32(req.rows).uint32(req.widthPx).uint32(req.heightPx);
      w.string(encodeTerminalModes(req.modes));
      return;
    case 'x11-req':
      w.bool(req.singleConnection).string(req.authProtocol).string(req.authCookie).uint32(req.screen);
      return;
    case 'env':
      w.string(req.name).string(req.value);
      return;
    case 'shell':
    case 'eow@openssh.com':
    case 'auth-agent-req@openssh.com':
      return;
    case 'exec':
      w.string(req.commandBytes);
      return;
    case 'subsystem':
      w.string(req.name);
      return;
    case 'window-change':
      w.uint32(req.cols).uint32(req.rows).uint32(req.widthPx).uint32(req.heightPx);
      return;
    case 'xon-xoff':
      w.bool(req.clientCanDo);
      return;
    case 'signal':
      w.string(req.signal);
      return;
    case 'break':
      w.uint32(req.lengthMs);
      return;
    case 'exit-status':
      w.uint32(req.status);
      return;
    case 'exit-signal':
      w.string(req.signal).bool(req.coreDumped).string(req.message).string(req.language);
      return;
    case 'unknown':
      if (req.name.length === 0) throw new WireError('empty request name');
      w.raw(req.data);
      return;
    default: {
      const never: never = req;
      throw new Error(`unhandled channel request ${String(never)}`);
    }
  }
}

/** An exec request from a command string. */
export function execRequest(command: string): ChannelRequest {
  return { type: 'exec', command, commandBytes: new TextEncoder().encode(command) };
}
