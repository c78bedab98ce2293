/**
 * Typed SSH_MSG_GLOBAL_REQUEST payloads (RFC 4254 §4, §7.1; OpenSSH PROTOCOL §2.2
 * no-more-sessions, §2.5 hostkeys-00/hostkeys-prove-00, §2.4 streamlocal-forward,
 * keepalive@openssh.com).
 */
import { SshReader, type SshWriter, WireError } from '../wire/index.js';

const MAX_HOST = 1024;
const MAX_PATH = 4096;
const MAX_HOSTKEYS = 64;

export type GlobalRequest =
  | { readonly type: 'tcpip-forward'; readonly address: string; readonly port: number }
  | { readonly type: 'cancel-tcpip-forward'; readonly address: string; readonly port: number }
  | { readonly type: 'streamlocal-forward@openssh.com'; readonly socketPath: string }
  | { readonly type: 'cancel-streamlocal-forward@openssh.com'; readonly socketPath: string }
  | { readonly type: 'keepalive@openssh.com' }
  | { readonly type: 'no-more-sessions@openssh.com' }
  | { readonly type: 'hostkeys-00@openssh.com'; readonly hostKeys: readonly Uint8Array[] }
  | { readonly type: 'hostkeys-prove-00@openssh.com'; readonly hostKeys: readonly Uint8Array[] }
  | { readonly type: 'unknown'; readonly name: string; readonly data: Uint8Array };

export type GlobalRequestType = GlobalRequest['type'];

export function globalRequestName(req: GlobalRequest): string {
  return req.type === 'unknown' ? req.name : req.type;
}

function readKeyList(r: SshReader): Uint8Array[] {
  const keys: Uint8Array[] = [];
  while (!r.done) {
    if (keys.length >= MAX_HOSTKEYS) throw new WireError('too many host keys');
    keys.push(r.bytes());
  }
  return keys;
}

/** Decodes what follows "string request name, boolean want reply". */
export function readGlobalRequest(name: string, r: SshReader): GlobalRequest {
  switch (name) {
    case 'tcpip-forward':
      return { type: 'tcpip-forward', address: r.string(MAX_HOST), port: r.uint32() };
    case 'cancel-tcpip-forward':
      return { type: 'cancel-tcpip-forward', address: r.string(MAX_HOST), port: r.uint32() };
    case 'streamlocal-forward@openssh.com':
      return { type: 'streamlocal-forward@openssh.com', socketPath: r.string(MAX_PATH) };
    case 'cancel-streamlocal-forward@openssh.com':
      return { type: 'cancel-streamlocal-forward@openssh.com', socketPath: r.string(MAX_PATH) };
    case 'keepalive@openssh.com':
      return { type: 'keepalive@openssh.com' };
    case 'no-more-sessions@openssh.com':
      return { type: 'no-more-sessions@openssh.com' };
    case 'hostkeys-00@openssh.com':
      return { type: 'hostkeys-00@openssh.com', hostKeys: readKeyList(r) };
    case 'hostkeys-prove-00@openssh.com':
      return { type: 'hostkeys-prove-00@openssh.com', hostKeys: readKeyList(r) };
    default:
      return { type: 'unknown', name, data: r.rest() };
  }
}

export function writeGlobalRequest(w: SshWriter, req: GlobalRequest): void {
  switch (req.type) {
    case 'tcpip-forward':
    case 'cancel-tcpip-forward':
      w.string(req.address).uint32(req.port);
      return;
    case 'streamlocal-forward@openssh.com':
    case 'cancel-streamlocal-forward@openssh.com':
      w.string(req.socketPath);
      return;
    case 'keepalive@openssh.com':
    case 'no-more-sessions@openssh.com':
      return;
    case 'hostkeys-00@openssh.com':
    case 'hostkeys-prove-00@openssh.com':
      for (const k of req.hostKeys) w.string(k);
      return;
    case 'unknown':
      w.raw(req.data);
      return;
    default: {
      const never: never = req;
      throw new Error(`unhandled global request ${String(never)}`);
    }
  }
}

/** The bound port in a REQUEST_SUCCESS answering "tcpip-forward" with port 0 (RFC 4254 §7.1). */
export function readBoundPort(data: Uint8Array): number {
  const r = new SshReader(data);
  const port = r.uint32();
  r.expectEnd('tcpip-forward reply');
  if (port === 0 || port > 65535) throw new WireError(`bound port ${port} out of range`);
  return port;
}
