/**
 * IP addresses and CIDR blocks for certificate source-address (PROTOCOL.certkeys) and
 * authorized_keys from= (sshd(8) "PATTERNS"). IPv4-mapped IPv6 addresses compare as IPv4.
 */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

export function parseIpv4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

export function parseIpv6(s: string): Uint8Array | null {
  if (s.length > 45 || s.length < 2) return null;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] ?? '';
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (v4 === null) return null;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
      out.push(Number.parseInt(p, 16));
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (head === null || tail === null) return null;
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const all = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** Parses an IPv4 or IPv6 literal (brackets allowed); IPv4-mapped IPv6 becomes IPv4. */
export function parseIpAddress(s: string): IpAddress | null {
  const t = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const v4 = parseIpv4(t);
  if (v4 !== null) return { family: 4, bytes: v4 };
  const v6 = parseIpv6(t);
  if (v6 === null) return null;
  if (v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff) return { family: 4, bytes: v6.slice(12) };
  return { family: 6, bytes: v6 };
}

export interface Cidr {
  readonly address: IpAddress;
  readonly prefix: number;
}

/** Parses "addr" or "addr/prefix"; null when malformed (including host bits set past the prefix, as OpenSSH refuses). */
export function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf('/');
  const addr = parseIpAddress(slash < 0 ? s : s.slice(0, slash));
  if (addr === null) return null;
  const max = addr.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > max) return null;
  }
  for (let bit = prefix; bit < max; bit++) {
    if (((addr.bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) return null;
  }
  return { address: addr, prefix };
}

export function cidrContains(c: Cidr, a: IpAddress): boolean {
  if (c.address.family !== a.family) return false;
  for (let bit = 0; bit < c.prefix; bit++) {
    const x = ((c.address.bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1;
    const y = ((a.bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1;
    if (x !== y) return false;
  }
  return true;
}

/**
 * Matches an address against a comma-separated CIDR list (certificate source-address).
 * Returns 'match', 'no-match', or 'invalid' when the list itself is malformed (which must deny).
 */
export function matchCidrList(address: string, list: string): 'match' | 'no-match' | 'invalid' {
  const entries = list.split(',');
  if (entries.length > 256) return 'invalid';
  const cidrs: Cidr[] = [];
  for (const e of entries) {
    const c = parseCidr(e.trim());
    if (c === null) return 'invalid';
    cidrs.push(c);
  }
  const a = parseIpAddress(address);
  if (a === null) return 'no-match';
  return cidrs.some((c) => cidrContains(c, a)) ? 'match' : 'no-match';
}

/** Shell-style wildcard match with `*` and `?` (sshd(8) PATTERNS), case-insensitive, without regex backtracking blow-ups. */
export function wildcardMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/**
 * An OpenSSH pattern-list (comma-separated, `!` negates, wildcards; for addresses also CIDR):
 * 'match' if a positive entry matches and no negated one does; a negated match is 'negated'.
 */
export function matchPatternList(list: string, host: string | null, address: string | null): 'match' | 'negated' | 'no-match' {
  let matched = false;
  for (const raw of list.split(',')) {
    const neg = raw.startsWith('!');
    const pat = neg ? raw.slice(1) : raw;
    if (pat === '') continue;
    let hit = false;
    if (address !== null && pat.includes('/')) {
      const c = parseCidr(pat);
      const a = parseIpAddress(address);
      hit = c !== null && a !== null && cidrContains(c, a);
    } else {
      hit = (host !== null && wildcardMatch(pat, host)) || (address !== null && wildcardMatch(pat, address));
    }
    if (hit && neg) return 'negated';
    if (hit) matched = true;
  }
  return matched ? 'match' : 'no-match';
}
