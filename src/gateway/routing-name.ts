/**
 * The inbound SSH user name, parsed exactly once per connection.
 *
 *   "alice"          → the gateway user alice (ProxyJump or the target menu)
 *   "root@db1"       → login "root" on target "db1"; the identity comes from the credential
 *   "root@db1:2200"  → the same, naming the target's port
 *
 * The identity is never taken from the name: it only selects where to go. Anything ambiguous
 * is refused rather than guessed (CONVENTIONS: security decisions are typed values).
 */
export type RoutingName =
  | { readonly kind: 'gateway-user'; readonly user: string }
  | { readonly kind: 'target'; readonly login: string; readonly target: string; readonly port: number | undefined };

export class RoutingNameError extends Error {
  override readonly name = 'RoutingNameError';
}

const MAX_NAME = 256;
/** POSIX portable login names, plus the characters real logins use (dots, dashes, '$' for Samba machine accounts). */
const LOGIN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\$?$/;
/** Target names: DNS labels or inventory names, or an IPv4 address. */
const TARGET = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,252})$/;
/** Gateway user names may be e-mail addresses when they come from OIDC. */
const GATEWAY_USER = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/;

export function parseRoutingName(raw: string): RoutingName {
  if (raw.length === 0) throw new RoutingNameError('empty user name');
  if (raw.length > MAX_NAME) throw new RoutingNameError('user name too long');
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x21 || c === 0x7f || c > 0x7e) throw new RoutingNameError('user name contains control, space or non-ASCII characters');
  }
  const parts = raw.split('@');
  if (parts.length === 1) {
    if (!GATEWAY_USER.test(raw)) throw new RoutingNameError(`invalid user name "${raw}"`);
    return { kind: 'gateway-user', user: raw };
  }
  if (parts.length !== 2) throw new RoutingNameError('ambiguous user name: use login@target');
  const [login = '', rest = ''] = parts;
  if (!LOGIN.test(login)) throw new RoutingNameError(`invalid login "${login}"`);
  let target = rest;
  let port: number | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1) {
    target = rest.slice(0, colon);
    const p = rest.slice(colon + 1);
    if (!/^[0-9]{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw new RoutingNameError(`invalid port in "${rest}"`);
    port = Number(p);
  }
  if (!TARGET.test(target) || target.includes('..') || target.endsWith('.') || target.endsWith('-')) {
    throw new RoutingNameError(`invalid target "${target}"`);
  }
  return { kind: 'target', login, target: target.toLowerCase(), port };
}

/** Two parses name the same destination (OpenSSH may change the user name between attempts). */
export function sameRoutingName(a: RoutingName, b: RoutingName): boolean {
  if (a.kind === 'gateway-user' || b.kind === 'gateway-user') {
    return a.kind === b.kind && a.kind === 'gateway-user' && b.kind === 'gateway-user' && a.user === b.user;
  }
  return a.login === b.login && a.target === b.target && a.port === b.port;
}
