import { isIP } from 'node:net';

/**
 * Addresses a forward must never reach unless a target is explicitly defined there:
 * loopback, link-local (cloud metadata services live at 169.254.169.254), unspecified,
 * multicast and the IPv4-mapped forms of these.
 */
export function isSensitiveAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, '');
  const mapped = a.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
  if (mapped?.[1]) return isSensitiveAddress(mapped[1]);
  if (a === 'localhost' || a.endsWith('.localhost')) return true;
  const kind = isIP(a);
  if (kind === 4) {
    const [o1 = 0, o2 = 0] = a.split('.').map(Number);
    return o1 === 127 || o1 === 0 || (o1 === 169 && o2 === 254) || o1 >= 224;
  }
  if (kind === 6) {
    return a === '::1' || a === '::' || a.startsWith('fe8') || a.startsWith('fe9') || a.startsWith('fea') || a.startsWith('feb') || a.startsWith('ff');
  }
  return false;
}
