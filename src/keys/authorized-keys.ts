/**
 * authorized_keys (sshd(8) "AUTHORIZED_KEYS FILE FORMAT"): lines of `[options] keytype base64
 * [comment]`, and the decision sshd makes with them (auth2-pubkey.c, auth-options.c): is this
 * key, or this certificate through a cert-authority line, allowed from this address, and with
 * which effective restrictions.
 */
import { matchPatternList } from './address-match.js';
import { verifyCertificate } from './certificate.js';
import { KeyFormatError } from './errors.js';
import { type PublicKey, isCertKeyType, isCertificateKey, isPlainKeyType } from './key-types.js';
import { MAX_KEY_LINE, encodePublicKeyBlob, parsePublicKeyBlob, parsePublicKeyLine } from './public-key.js';

export interface Permissions {
  readonly pty: boolean;
  readonly portForwarding: boolean;
  readonly agentForwarding: boolean;
  readonly x11Forwarding: boolean;
  readonly userRc: boolean;
}

export interface AuthorizedKeyOptions {
  readonly restrict: boolean;
  readonly certAuthority: boolean;
  readonly command: string | null;
  /** from= pattern-list, or null. */
  readonly from: string | null;
  /** principals= list (cert-authority lines), or null. */
  readonly principals: readonly string[] | null;
  readonly environment: readonly string[];
  /** expiry-time as seconds since the epoch, or null. */
  readonly expiryTime: number | null;
  readonly permitOpen: readonly string[];
  readonly permitListen: readonly string[];
  readonly tunnel: string | null;
  readonly verifyRequired: boolean;
  /** After restrict / no-* / re-enabling options, applied in order. */
  readonly permissions: Permissions;
}

export interface AuthorizedKeyEntry {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly options: AuthorizedKeyOptions;
  readonly key: PublicKey;
  readonly blob: Uint8Array;
  readonly comment: string;
}

const MAX_OPTIONS = 64;
const ALL_ON: Permissions = { pty: true, portForwarding: true, agentForwarding: true, x11Forwarding: true, userRc: true };
const ALL_OFF: Permissions = { pty: false, portForwarding: false, agentForwarding: false, x11Forwarding: false, userRc: false };
const FLAG_PERMS: Readonly<Record<string, [keyof Permissions, boolean]>> = {
  'no-pty': ['pty', false],
  pty: ['pty', true],
  'no-port-forwarding': ['portForwarding', false],
  'port-forwarding': ['portForwarding', true],
  'no-agent-forwarding': ['agentForwarding', false],
  'agent-forwarding': ['agentForwarding', true],
  'no-x11-forwarding': ['x11Forwarding', false],
  'x11-forwarding': ['x11Forwarding', true],
  'no-user-rc': ['userRc', false],
  'user-rc': ['userRc', true],
};
const VALUE_OPTIONS = new Set(['command', 'from', 'principals', 'environment', 'expiry-time', 'permitopen', 'permitlisten', 'tunnel']);

/** Parses an options field into [name, value|null] pairs; returns them and the rest of the line. */
function tokenizeOptions(s: string): { options: Array<[string, string | null]>; rest: string } {
  const options: Array<[string, string | null]> = [];
  let i = 0;
  for (;;) {
    if (options.length >= MAX_OPTIONS) throw new KeyFormatError(`more than ${MAX_OPTIONS} options`);
    const m = /^[A-Za-z0-9-]+/.exec(s.slice(i, i + 64));
    if (m === null) throw new KeyFormatError(`bad option syntax at column ${i + 1}`);
    const name = m[0].toLowerCase();
    i += m[0].length;
    let value: string | null = null;
    if (s[i] === '=') {
      if (s[i + 1] !== '"') throw new KeyFormatError(`option ${name} value must be double-quoted`);
      i += 2;
      let v = '';
      for (;;) {
        if (i >= s.length) throw new KeyFormatError(`option ${name} has an unterminated quote`);
        const c = s[i];
        if (c === '\\' && s[i + 1] === '"') {
          v += '"';
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          v += c;
          i++;
        }
      }
      value = v;
    }
    options.push([name, value]);
    if (s[i] === ',') {
      i++;
      continue;
    }
    if (s[i] === ' ' || s[i] === '\t') return { options, rest: s.slice(i) };
    throw new KeyFormatError(`unexpected character after option ${name}`);
  }
}

/** expiry-time="YYYYMMDD[HHMM[SS]][Z]": local time unless Z (sshd(8)). */
export function parseExpiryTime(v: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z?)$/.exec(v);
  if (m === null) throw new KeyFormatError(`invalid expiry-time ${JSON.stringify(v)}`);
  const [, y, mo, d, h = '0', mi = '0', sec = '0', z] = m;
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)] as const;
  if (parts[1] > 11 || parts[2] < 1 || parts[2] > 31 || parts[3] > 23 || parts[4] > 59 || parts[5] > 60) {
    throw new KeyFormatError(`invalid expiry-time ${JSON.stringify(v)}`);
  }
  const ms = z === 'Z' ? Date.UTC(...parts) : new Date(...parts).getTime();
  return Math.floor(ms / 1000);
}

function buildOptions(pairs: ReadonlyArray<[string, string | null]>): AuthorizedKeyOptions {
  let perms: Permissions = ALL_ON;
  let restrict = false;
  let certAuthority = false;
  let verifyRequired = false;
  let command: string | null = null;
  let from: string | null = null;
  let principals: string[] | null = null;
  let expiryTime: number | null = null;
  let tunnel: string | null = null;
  const environment: string[] = [];
  const permitOpen: string[] = [];
  const permitListen: string[] = [];
  for (const [name, value] of pairs) {
    if (VALUE_OPTIONS.has(name) !== (value !== null)) {
      throw new KeyFormatError(value === null ? `option ${name} needs a value` : `option ${name} takes no value`);
    }
    const flag = FLAG_PERMS[name];
    if (flag !== undefined) {
      perms = { ...perms, [flag[0]]: flag[1] };
      continue;
    }
    const v = value ?? '';
    switch (name) {
      case 'restrict':
        restrict = true;
        perms = ALL_OFF;
        break;
      case 'cert-authority':
        certAuthority = true;
        break;
      case 'verify-required':
        verifyRequired = true;
        break;
      case 'no-touch-required':
        break;
      case 'command':
        if (command !== null) throw new KeyFormatError('command given twice');
        command = v;
        break;
      case 'from':
        if (from !== null) throw new KeyFormatError('from given twice');
        from = v;
        break;
      case 'principals':
        if (principals !== null) throw new KeyFormatError('principals given twice');
        principals = v.split(',').filter((p) => p !== '');
        break;
      case 'environment':
        if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(v)) throw new KeyFormatError(`invalid environment ${JSON.stringify(v)}`);
        environment.push(v);
        break;
      case 'expiry-time':
        if (expiryTime !== null) throw new KeyFormatError('expiry-time given twice');
        expiryTime = parseExpiryTime(v);
        break;
      case 'permitopen':
        if (!/^(\[[^\]]+\]|[^:\s]+):(\d{1,5}|\*)$/.test(v)) throw new KeyFormatError(`invalid permitopen ${JSON.stringify(v)}`);
        permitOpen.push(v);
        break;
      case 'permitlisten':
        if (!/^((\[[^\]]+\]|[^:\s]+):)?(\d{1,5}|\*)$/.test(v)) throw new KeyFormatError(`invalid permitlisten ${JSON.stringify(v)}`);
        permitListen.push(v);
        break;
      case 'tunnel':
        tunnel = v;
        break;
      default:
        throw new KeyFormatError(`unknown option ${name}`);
    }
  }
  if (principals !== null && !certAuthority) throw new KeyFormatError('principals= is only valid with cert-authority');
  return {
    restrict,
    certAuthority,
    command,
    from,
    principals,
    environment,
    expiryTime,
    permitOpen,
    permitListen,
    tunnel,
    verifyRequired,
    permissions: perms,
  };
}

function startsWithKeyType(s: string): boolean {
  const t = /^\S+/.exec(s)?.[0] ?? '';
  return isPlainKeyType(t) || isCertKeyType(t);
}

/** Parses one line; null for blank lines and comments. Throws KeyFormatError for a bad line. */
export function parseAuthorizedKeyLine(text: string, line = 1): AuthorizedKeyEntry | null {
  if (text.length > MAX_KEY_LINE) throw new KeyFormatError(`line exceeds ${MAX_KEY_LINE} characters`);
  const s = text.replace(/^[ \t]+/, '').replace(/[\r\n]+$/, '');
  if (s === '' || s.startsWith('#')) return null;
  let pairs: Array<[string, string | null]> = [];
  let keyPart = s;
  if (!startsWithKeyType(s)) {
    const t = tokenizeOptions(s);
    pairs = t.options;
    keyPart = t.rest;
  }
  const options = buildOptions(pairs);
  const k = parsePublicKeyLine(keyPart);
  if (isCertificateKey(k.key)) throw new KeyFormatError('a certificate cannot be listed in authorized_keys; use cert-authority with its CA key');
  return { line, options, key: k.key, blob: k.blob, comment: k.comment };
}

export interface AuthorizedKeysFile {
  readonly entries: readonly AuthorizedKeyEntry[];
  /** Lines that were skipped, as sshd skips them, with why. */
  readonly errors: ReadonlyArray<{ readonly line: number; readonly message: string }>;
}

export function parseAuthorizedKeys(text: string, maxLines = 100_000): AuthorizedKeysFile {
  const entries: AuthorizedKeyEntry[] = [];
  const errors: Array<{ line: number; message: string }> = [];
  const lines = text.split('\n');
  if (lines.length > maxLines) throw new KeyFormatError(`authorized_keys has more than ${maxLines} lines`);
  lines.forEach((l, i) => {
    try {
      const e = parseAuthorizedKeyLine(l, i + 1);
      if (e !== null) entries.push(e);
    } catch (err) {
      if (!(err instanceof KeyFormatError)) throw err;
      errors.push({ line: i + 1, message: err.message });
    }
  });
  return { entries, errors };
}

export interface EffectiveRestrictions extends Permissions {
  readonly command: string | null;
  readonly permitOpen: readonly string[];
  readonly permitListen: readonly string[];
  readonly environment: readonly string[];
  readonly expiryTime: number | null;
}

export type AuthorizedKeyDecision =
  | {
      readonly ok: true;
      readonly entry: AuthorizedKeyEntry;
      readonly via: 'key' | 'cert-authority';
      readonly restrictions: EffectiveRestrictions;
    }
  | { readonly ok: false; readonly reason: string };

export interface AuthorizeKeyRequest {
  /** The offered key or certificate blob. */
  readonly keyBlob: Uint8Array;
  /** The login user name (matched against certificate principals). */
  readonly user: string;
  /** Client IP address (from=, source-address). */
  readonly address: string;
  /** Client host name when resolved (from= may name hosts); null otherwise. */
  readonly hostname?: string | null;
  /** Seconds since the epoch; defaults to now. */
  readonly now?: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Decides whether `req.keyBlob` is allowed by `file`, as sshd does: a plain key needs a line
 * with the same key and no cert-authority; a certificate needs a cert-authority line with its
 * CA key, a valid certificate and a principal (the user, or one in principals=). from= and
 * expiry-time apply to both. The first line that allows the key wins.
 */
export function authorizeKey(file: AuthorizedKeysFile | readonly AuthorizedKeyEntry[], req: AuthorizeKeyRequest): AuthorizedKeyDecision {
  const entries: readonly AuthorizedKeyEntry[] = Array.isArray(file) ? file : (file as AuthorizedKeysFile).entries;
  let offered: PublicKey;
  try {
    offered = parsePublicKeyBlob(req.keyBlob);
  } catch (e) {
    return { ok: false, reason: `unparseable key: ${e instanceof Error ? e.message : String(e)}` };
  }
  const now = Math.floor(req.now ?? Date.now() / 1000);
  let reason = 'key not listed in authorized_keys';
  for (const entry of entries) {
    const o = entry.options;
    let restrictions: EffectiveRestrictions = { ...o.permissions, command: o.command, permitOpen: o.permitOpen, permitListen: o.permitListen, environment: o.environment, expiryTime: o.expiryTime };
    if (isCertificateKey(offered)) {
      if (!o.certAuthority || !sameBytes(entry.blob, offered.certificate.signatureKeyBlob)) continue;
    } else if (o.certAuthority || !sameBytes(entry.blob, encodePublicKeyBlob(offered))) continue;
    if (o.expiryTime !== null && now > o.expiryTime) {
      reason = `line ${entry.line}: key expired by expiry-time`;
      continue;
    }
    if (o.from !== null && matchPatternList(o.from, req.hostname ?? null, req.address) !== 'match') {
      reason = `line ${entry.line}: ${req.address} is not allowed by from="${o.from}"`;
      continue;
    }
    if (isCertificateKey(offered)) {
      const v = verifyCertificate(offered, { type: 'user', caKeys: [entry.blob], now, sourceAddress: req.address });
      if (!v.ok) {
        reason = `line ${entry.line}: certificate refused: ${v.message}`;
        continue;
      }
      const wanted = o.principals ?? [req.user];
      if (!offered.certificate.principals.some((p) => wanted.includes(p))) {
        reason = `line ${entry.line}: certificate principals do not include ${o.principals === null ? req.user : 'any of principals='}`;
        continue;
      }
      if (o.command !== null && v.forceCommand !== null && o.command !== v.forceCommand) {
        reason = `line ${entry.line}: certificate and key options force different commands`;
        continue;
      }
      const ext = new Set(v.extensions);
      restrictions = {
        ...restrictions,
        command: o.command ?? v.forceCommand,
        pty: restrictions.pty && ext.has('permit-pty'),
        portForwarding: restrictions.portForwarding && ext.has('permit-port-forwarding'),
        agentForwarding: restrictions.agentForwarding && ext.has('permit-agent-forwarding'),
        x11Forwarding: restrictions.x11Forwarding && ext.has('permit-X11-forwarding'),
        userRc: restrictions.userRc && ext.has('permit-user-rc'),
      };
      return { ok: true, entry, via: 'cert-authority', restrictions };
    }
    return { ok: true, entry, via: 'key', restrictions };
  }
  return { ok: false, reason };
}
