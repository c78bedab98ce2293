/**
 * known_hosts (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): `[@cert-authority|@revoked] patterns
 * keytype base64 [comment]`, with hashed names (`|1|salt|HMAC-SHA1(salt, name)`, as
 * `ssh-keygen -H` writes), `[host]:port` for non-22 ports, `*`/`?` wildcards and `!` negation.
 */
import { defaultBackend } from '../crypto/index.js';
import { matchPatternList } from './address-match.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { verifyCertificate } from './certificate.js';
import { KeyFormatError } from './errors.js';
import { type PlainPublicKey, type PublicKey, isCertificateKey } from './key-types.js';
import { MAX_KEY_LINE, encodePublicKeyBlob, formatPublicKeyLine, parsePublicKeyBlob, parsePublicKeyLine } from './public-key.js';

export type KnownHostMarker = 'cert-authority' | 'revoked' | null;

export interface KnownHostEntry {
  readonly line: number;
  readonly marker: KnownHostMarker;
  /** The host field as written (patterns, or one hashed name). */
  readonly hosts: string;
  readonly hashed: { readonly salt: Uint8Array; readonly hash: Uint8Array } | null;
  readonly key: PlainPublicKey;
  readonly blob: Uint8Array;
  readonly comment: string;
}

export type KnownHostStatus = 'match' | 'mismatch' | 'unknown' | 'revoked';

export interface KnownHostResult {
  readonly status: KnownHostStatus;
  /** The line that decided it (the matching, mismatching, revoking or CA line), if any. */
  readonly entry: KnownHostEntry | null;
  readonly reason: string;
}

/** The name a host is recorded under: "host" on port 22, "[host]:port" otherwise. */
export function knownHostName(host: string, port = 22): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** A hashed host field as `ssh-keygen -H` writes it: |1|base64(salt)|base64(HMAC-SHA1(salt, name)). */
export function hashKnownHostName(name: string, salt: Uint8Array = defaultBackend.randomBytes(20)): string {
  const mac = defaultBackend.hmac('sha1', salt, new TextEncoder().encode(name));
  return `|1|${encodeBase64(salt)}|${encodeBase64(mac)}`;
}

/**
 * Formats a known_hosts line: `[@marker] hosts key [comment]`. With `hash`, a single name is
 * written hashed (patterns and lists cannot be hashed, as ssh-keygen -H also leaves them).
 */
export function formatKnownHostsLine(
  names: readonly string[] | string,
  key: Uint8Array | PlainPublicKey,
  opts: { readonly marker?: KnownHostMarker; readonly hash?: boolean; readonly comment?: string } = {},
): string {
  const list = typeof names === 'string' ? [names] : [...names];
  if (list.length === 0 || list.some((n) => n === '' || /[\s,]/.test(n))) throw new KeyFormatError('known_hosts names must be non-empty and contain no spaces or commas');
  let hosts = list.map((n) => n.toLowerCase()).join(',');
  if (opts.hash === true) {
    const only = list[0];
    if (list.length !== 1 || only === undefined || /[*?!]/.test(only)) throw new KeyFormatError('only a single literal name can be hashed');
    hosts = hashKnownHostName(only.toLowerCase());
  }
  const marker = opts.marker === undefined || opts.marker === null ? '' : `@${opts.marker} `;
  const keyLine = formatPublicKeyLine(key instanceof Uint8Array ? key : encodePublicKeyBlob(key), opts.comment ?? '');
  return `${marker}${hosts} ${keyLine}`;
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function parseKnownHostLine(text: string, line = 1): KnownHostEntry | null {
  if (text.length > MAX_KEY_LINE) throw new KeyFormatError(`line exceeds ${MAX_KEY_LINE} characters`);
  let s = text.replace(/^[ \t]+/, '').replace(/[\r\n]+$/, '');
  if (s === '' || s.startsWith('#')) return null;
  let marker: KnownHostMarker = null;
  if (s.startsWith('@')) {
    const m = /^@(\S+)[ \t]+/.exec(s);
    if (m === null) throw new KeyFormatError('marker without a host field');
    if (m[1] === 'cert-authority') marker = 'cert-authority';
    else if (m[1] === 'revoked') marker = 'revoked';
    else throw new KeyFormatError(`unknown marker @${m[1] ?? ''}`);
    s = s.slice(m[0].length);
  }
  const hm = /^(\S+)[ \t]+/.exec(s);
  if (hm === null) throw new KeyFormatError('line has no key');
  const hosts = hm[1] ?? '';
  let hashed: KnownHostEntry['hashed'] = null;
  if (hosts.startsWith('|')) {
    const parts = hosts.split('|');
    if (parts.length !== 4 || parts[1] !== '1') throw new KeyFormatError('unsupported hashed host format');
    const salt = decodeBase64(parts[2] ?? '', 64);
    const hash = decodeBase64(parts[3] ?? '', 64);
    if (salt.length !== 20 || hash.length !== 20) throw new KeyFormatError('hashed host has wrong salt or hash size');
    hashed = { salt, hash };
  }
  const k = parsePublicKeyLine(s.slice(hm[0].length));
  if (isCertificateKey(k.key)) throw new KeyFormatError('known_hosts lists keys, not certificates');
  return { line, marker, hosts, hashed, key: k.key, blob: k.blob, comment: k.comment };
}

/** Does this entry's host field cover `name` (as made by knownHostName)? */
export function entryMatchesHost(e: KnownHostEntry, name: string): boolean {
  if (e.hashed !== null) {
    return bytesEq(defaultBackend.hmac('sha1', e.hashed.salt, new TextEncoder().encode(name)), e.hashed.hash);
  }
  return matchPatternList(e.hosts, name, null) === 'match';
}

export class KnownHosts {
  private constructor(
    readonly entries: readonly KnownHostEntry[],
    readonly errors: ReadonlyArray<{ readonly line: number; readonly message: string }>,
  ) {}

  /** Parses a known_hosts file; bad lines are collected in `errors` and skipped, as ssh does. */
  static parse(text: string, maxLines = 100_000): KnownHosts {
    const lines = text.split('\n');
    if (lines.length > maxLines) throw new KeyFormatError(`known_hosts has more than ${maxLines} lines`);
    const entries: KnownHostEntry[] = [];
    const errors: Array<{ line: number; message: string }> = [];
    lines.forEach((l, i) => {
      try {
        const e = parseKnownHostLine(l, i + 1);
        if (e !== null) entries.push(e);
      } catch (err) {
        if (!(err instanceof KeyFormatError)) throw err;
        errors.push({ line: i + 1, message: err.message });
      }
    });
    return new KnownHosts(entries, errors);
  }

  /** lookup() with the deciding line and a reason. */
  check(host: string, port: number, keyBlob: Uint8Array, now?: number): KnownHostResult {
    let offered: PublicKey;
    try {
      offered = parsePublicKeyBlob(keyBlob);
    } catch (e) {
      return { status: 'mismatch', entry: null, reason: `unparseable host key: ${e instanceof Error ? e.message : String(e)}` };
    }
    const name = knownHostName(host, port);
    const forHost = this.entries.filter((e) => entryMatchesHost(e, name));
    const plain = isCertificateKey(offered) ? offered.certificate.key : offered;
    const plainBlob = encodePublicKeyBlob(plain);
    for (const e of forHost) {
      if (e.marker !== 'revoked') continue;
      if (bytesEq(e.blob, plainBlob) || (isCertificateKey(offered) && bytesEq(e.blob, offered.certificate.signatureKeyBlob))) {
        return { status: 'revoked', entry: e, reason: `key revoked by line ${e.line}` };
      }
    }
    let certProblem = '';
    if (isCertificateKey(offered)) {
      const cas = forHost.filter((e) => e.marker === 'cert-authority' && bytesEq(e.blob, offered.certificate.signatureKeyBlob));
      const ca = cas[0];
      if (ca !== undefined) {
        const opts = now === undefined ? { type: 'host' as const, caKeys: [ca.blob], principal: host } : { type: 'host' as const, caKeys: [ca.blob], principal: host, now };
        const v = verifyCertificate(offered, opts);
        if (v.ok) return { status: 'match', entry: ca, reason: `host certificate signed by the CA on line ${ca.line}` };
        certProblem = `host certificate refused: ${v.message}`;
      } else certProblem = 'no @cert-authority line trusts the certificate';
      // like ssh, fall back to the certified key as a plain key
    }
    const keys = forHost.filter((e) => e.marker === null);
    const hit = keys.find((e) => bytesEq(e.blob, plainBlob));
    if (hit !== undefined) return { status: 'match', entry: hit, reason: `key listed on line ${hit.line}` };
    const other = keys[0];
    if (other !== undefined) {
      return { status: 'mismatch', entry: other, reason: `${name} is known with a different key (line ${other.line})${certProblem === '' ? '' : `; ${certProblem}`}` };
    }
    return { status: 'unknown', entry: null, reason: certProblem === '' ? `${name} is not in known_hosts` : certProblem };
  }

  /** 'match' | 'mismatch' | 'unknown' | 'revoked' for `keyBlob` (key or host certificate) presented by host:port. */
  lookup(host: string, port: number, keyBlob: Uint8Array, now?: number): KnownHostStatus {
    return this.check(host, port, keyBlob, now).status;
  }
}

export function parseKnownHosts(text: string): KnownHosts {
  return KnownHosts.parse(text);
}
