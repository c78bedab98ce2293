/**
 * The algorithm combinations the interop tests run against real OpenSSH, and a small
 * concurrency limiter so a matrix of hundreds of handshakes stays within seconds.
 */
export type OpensshGeneration = '9.2' | '10.0';

export interface Combo {
  readonly kex: string;
  readonly cipher: string;
  /** null for AEAD ciphers (the MAC is implicit). */
  readonly mac: string | null;
  readonly hostKey: string;
}

export const ALL_KEX = [
  'mlkem768x25519-sha256',
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group14-sha256',
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group18-sha512',
  // legacy switch only
  'diffie-hellman-group14-sha1',
] as const;

/** OpenSSH 9.2 predates ML-KEM (added in 9.9). */
export function kexFor(v: OpensshGeneration): string[] {
  return ALL_KEX.filter((k) => v === '10.0' || k !== 'mlkem768x25519-sha256');
}

export const AEAD_CIPHERS = ['chacha20-poly1305@openssh.com', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com'];
export const CTR_CIPHERS = ['aes128-ctr', 'aes192-ctr', 'aes256-ctr'];
export const MAC_NAMES = ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512'];
export const HOST_KEY_ALGS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-256', 'rsa-sha2-512'];

export const CIPHER_MACS: ReadonlyArray<{ cipher: string; mac: string | null }> = [
  ...AEAD_CIPHERS.map((cipher) => ({ cipher, mac: null })),
  ...CTR_CIPHERS.flatMap((cipher) => MAC_NAMES.map((mac) => ({ cipher, mac }))),
];

/**
 * Every KEX × cipher/MAC pair (host keys rotating through the list) plus every host key × KEX
 * pair: each pair of dimensions is covered in full without the full triple product.
 */
export function matrix(v: OpensshGeneration): Combo[] {
  const out: Combo[] = [];
  const kexes = kexFor(v);
  let i = 0;
  for (const kex of kexes) {
    for (const cm of CIPHER_MACS) {
      out.push({ kex, cipher: cm.cipher, mac: cm.mac, hostKey: HOST_KEY_ALGS[i++ % HOST_KEY_ALGS.length] ?? 'ssh-ed25519' });
    }
  }
  for (const hostKey of HOST_KEY_ALGS) {
    for (const [j, kex] of kexes.entries()) {
      const cm = CIPHER_MACS[(j * 7) % CIPHER_MACS.length] ?? { cipher: 'aes128-ctr', mac: 'hmac-sha2-256' };
      out.push({ kex, cipher: cm.cipher, mac: cm.mac, hostKey });
    }
  }
  return out;
}

export function comboName(c: Combo): string {
  return `${c.kex} ${c.cipher}${c.mac === null ? '' : `+${c.mac}`} ${c.hostKey}`;
}

/** Runs `fn` over `items` with at most `limit` in flight; collects every result (no fail-fast). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
