/**
 * Which layer a received payload belongs to, given the role and how far authentication got.
 * A pure function, so the rule that ends the Erlang/OTP CVE-2025-32433 class (connection
 * messages before authentication) is one table with its own tests.
 *
 * Ranges (RFC 4250 §4.1.2): 1–19 transport generic, 20–49 key exchange, 50–79 user
 * authentication, 80–127 connection protocol, 128–191 reserved for client protocols,
 * 192–255 local extensions.
 */
import { DisconnectReason, type DisconnectReasonCode, Msg } from '../wire/index.js';

/** 'service': before the ssh-userauth service was accepted; 'userauth': during; 'connection': after success. */
export type AuthPhase = 'service' | 'userauth' | 'connection';
export type Role = 'client' | 'server';

export type MessageRoute =
  | { readonly route: 'transport' }
  | { readonly route: 'auth' }
  | { readonly route: 'connection' }
  /** Drop without reply: a USERAUTH_REQUEST after success (RFC 4252 §5.1), a late banner. */
  | { readonly route: 'ignore' }
  /** Answer SSH_MSG_UNIMPLEMENTED (RFC 4253 §11.4): an unknown number once authenticated. */
  | { readonly route: 'unimplemented' }
  | { readonly route: 'disconnect'; readonly reason: DisconnectReasonCode; readonly message: string };

const AUTH_IDS_RECEIVED: Readonly<Record<Role, ReadonlySet<number>>> = {
  server: new Set([Msg.USERAUTH_REQUEST, Msg.USERAUTH_INFO_RESPONSE]),
  client: new Set([Msg.USERAUTH_FAILURE, Msg.USERAUTH_SUCCESS, Msg.USERAUTH_BANNER, 60]),
};

function reject(message: string): MessageRoute {
  return { route: 'disconnect', reason: DisconnectReason.PROTOCOL_ERROR, message };
}

/** Routes a payload by its first byte. An empty payload is a protocol error. */
export function routeMessage(payload: Uint8Array, role: Role, phase: AuthPhase): MessageRoute {
  const id = payload[0];
  if (id === undefined) return reject('empty payload');
  return routeMessageId(id, role, phase);
}

export function routeMessageId(id: number, role: Role, phase: AuthPhase): MessageRoute {
  if (!Number.isInteger(id) || id < 0 || id > 255) return reject(`message id ${id} out of range`);
  // Transport messages are valid in every phase; the transport checks its own state (KEX).
  if (
    (id >= Msg.DISCONNECT && id <= Msg.DEBUG) ||
    id === Msg.EXT_INFO ||
    id === Msg.NEWCOMPRESS ||
    (id >= Msg.KEXINIT && id <= Msg.KEX_METHOD_LAST)
  ) {
    return { route: 'transport' };
  }
  if (id === Msg.SERVICE_REQUEST || id === Msg.SERVICE_ACCEPT) {
    const expected = role === 'server' ? Msg.SERVICE_REQUEST : Msg.SERVICE_ACCEPT;
    if (id === expected && phase === 'service') return { route: 'auth' };
    return reject(`service message ${id} not valid for a ${role} in phase ${phase}`);
  }
  if (id >= Msg.USERAUTH_REQUEST && id <= Msg.USERAUTH_METHOD_LAST) {
    if (phase === 'userauth' && AUTH_IDS_RECEIVED[role].has(id)) return { route: 'auth' };
    if (phase === 'connection') {
      if (role === 'server' && id === Msg.USERAUTH_REQUEST) return { route: 'ignore' };
      if (role === 'client' && id === Msg.USERAUTH_BANNER) return { route: 'ignore' };
    }
    return reject(`userauth message ${id} not valid for a ${role} in phase ${phase}`);
  }
  if (id >= Msg.GLOBAL_REQUEST && id <= Msg.CHANNEL_FAILURE) {
    if (phase === 'connection') return { route: 'connection' };
    return reject(`connection message ${id} before authentication succeeded`);
  }
  // Unassigned numbers: tolerated with UNIMPLEMENTED once authenticated, fatal before.
  if (phase === 'connection') return { route: 'unimplemented' };
  return reject(`unassigned message ${id} before authentication succeeded`);
}
