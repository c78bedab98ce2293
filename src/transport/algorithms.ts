/**
 * The algorithm registry as data (DESIGN.md principle 3): one row per wire name, with its kind,
 * whether it is legacy (offered only behind the explicit legacy switch), and whether each role
 * offers it by default. Cipher and MAC rows take their implementation data from
 * ./ciphers/registry.ts; KEX rows name a method in ./kex-methods.ts.
 *
 * Default offers differ by role (issue 2): as a server we offer only what ssh-audit rates
 * clean; as a client we also offer the NIST curves, group14-sha256, ECDSA host keys and the
 * non-EtM MACs, for older targets.
 */
import { CIPHERS, MACS } from './ciphers/registry.js';

export type AlgorithmKind = 'kex' | 'host-key' | 'cipher' | 'mac' | 'compression';
export type Role = 'client' | 'server';

export interface AlgorithmRow {
  readonly name: string;
  readonly kind: AlgorithmKind;
  /** Offered only when the legacy switch is on (SHA-1 based, or otherwise weak). */
  readonly legacy: boolean;
  readonly serverDefault: boolean;
  readonly clientDefault: boolean;
}

function row(kind: AlgorithmKind, name: string, server: boolean, client: boolean, legacy = false): AlgorithmRow {
  return { name, kind, legacy, serverDefault: server && !legacy, clientDefault: client && !legacy };
}

const KEX_ROWS: readonly AlgorithmRow[] = [
  row('kex', 'mlkem768x25519-sha256', true, true),
  row('kex', 'curve25519-sha256', true, true),
  row('kex', 'curve25519-sha256@libssh.org', true, true),
  row('kex', 'ecdh-sha2-nistp256', false, true),
  row('kex', 'ecdh-sha2-nistp384', false, true),
  row('kex', 'ecdh-sha2-nistp521', false, true),
  row('kex', 'diffie-hellman-group16-sha512', true, true),
  row('kex', 'diffie-hellman-group18-sha512', true, true),
  row('kex', 'diffie-hellman-group14-sha256', false, true),
  row('kex', 'diffie-hellman-group14-sha1', false, false, true),
];

const CERT = '-cert-v01@openssh.com';
const HOST_KEY_ROWS: readonly AlgorithmRow[] = [
  row('host-key', `ssh-ed25519${CERT}`, true, true),
  row('host-key', `ecdsa-sha2-nistp256${CERT}`, false, true),
  row('host-key', `ecdsa-sha2-nistp384${CERT}`, false, true),
  row('host-key', `ecdsa-sha2-nistp521${CERT}`, false, true),
  row('host-key', `rsa-sha2-512${CERT}`, true, true),
  row('host-key', `rsa-sha2-256${CERT}`, true, true),
  row('host-key', 'ssh-ed25519', true, true),
  row('host-key', 'ecdsa-sha2-nistp256', false, true),
  row('host-key', 'ecdsa-sha2-nistp384', false, true),
  row('host-key', 'ecdsa-sha2-nistp521', false, true),
  // rsa-sha2-*: the server offers them only when a signer can serve them; the signer (src/keys)
  // refuses RSA host keys under 3072 bits for the clean set.
  row('host-key', 'rsa-sha2-512', true, true),
  row('host-key', 'rsa-sha2-256', true, true),
  row('host-key', `ssh-rsa${CERT}`, false, false, true),
  row('host-key', 'ssh-rsa', false, false, true),
];

const CIPHER_ORDER = [
  'chacha20-poly1305@openssh.com',
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
];
const CIPHER_ROWS: readonly AlgorithmRow[] = CIPHER_ORDER.flatMap((name) => {
  const spec = CIPHERS.find((c) => c.name === name);
  return spec === undefined ? [] : [row('cipher', name, true, true, spec.legacy)];
});

const MAC_ROWS: readonly AlgorithmRow[] = MACS.map((m) =>
  // non-EtM MACs (MAC-then-encrypt) are not ssh-audit clean: client-side only
  row('mac', m.name, m.etm, true, m.legacy),
);

const COMPRESSION_ROWS: readonly AlgorithmRow[] = [row('compression', 'none', true, true)];

/** Every algorithm this implementation can negotiate, in default preference order per kind. */
export const ALGORITHMS: readonly AlgorithmRow[] = [...KEX_ROWS, ...HOST_KEY_ROWS, ...CIPHER_ROWS, ...MAC_ROWS, ...COMPRESSION_ROWS];

/** Pseudo-algorithms carried in the kex_algorithms list (never negotiated as a method). */
export const EXT_INFO_C = 'ext-info-c';
export const EXT_INFO_S = 'ext-info-s';
export const KEX_STRICT_C = 'kex-strict-c-v00@openssh.com';
export const KEX_STRICT_S = 'kex-strict-s-v00@openssh.com';
export const PSEUDO_KEX = new Set([EXT_INFO_C, EXT_INFO_S, KEX_STRICT_C, KEX_STRICT_S]);

export function findAlgorithm(kind: AlgorithmKind, name: string): AlgorithmRow | undefined {
  return ALGORITHMS.find((a) => a.kind === kind && a.name === name);
}

/**
 * The client's cipher preference (the client's order decides, RFC 4253 §7.1): AES-GCM first.
 * node:crypto runs it on OpenSSL's AES-NI/CLMUL code at about twice the speed of our
 * chacha20-poly1305 (node's ChaCha20 plus a WebAssembly Poly1305), and OpenSSL's AES without
 * AES-NI is the constant-time vpaes; the gateway's outbound leg re-encrypts every relayed byte.
 */
const CLIENT_CIPHER_ORDER = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'];

/** The default offer of one kind for a role, in preference order. */
export function defaultAlgorithms(kind: AlgorithmKind, role: Role): string[] {
  const names = ALGORITHMS.filter((a) => a.kind === kind && (role === 'server' ? a.serverDefault : a.clientDefault)).map((a) => a.name);
  if (kind !== 'cipher' || role !== 'client') return names;
  const first = CLIENT_CIPHER_ORDER.filter((n) => names.includes(n));
  return [...first, ...names.filter((n) => !first.includes(n))];
}

/** Every implemented algorithm of one kind (legacy ones only with the switch), in preference order. */
export function supportedAlgorithms(kind: AlgorithmKind, legacy: boolean): string[] {
  return ALGORITHMS.filter((a) => a.kind === kind && (legacy || !a.legacy)).map((a) => a.name);
}

export class AlgorithmConfigError extends Error {
  override readonly name = 'AlgorithmConfigError';
}

/**
 * Validates a configured preference list: every name must be a registry row of that kind, and
 * legacy rows need the legacy switch. Configuration mistakes fail loudly at construction.
 */
export function checkPreferences(kind: AlgorithmKind, names: readonly string[], legacy: boolean): string[] {
  if (names.length === 0) throw new AlgorithmConfigError(`empty ${kind} algorithm list`);
  for (const n of names) {
    const a = findAlgorithm(kind, n);
    if (a === undefined) throw new AlgorithmConfigError(`unsupported ${kind} algorithm ${n}`);
    if (a.legacy && !legacy) throw new AlgorithmConfigError(`${kind} algorithm ${n} needs the legacy switch`);
  }
  return [...names];
}

/** The signature algorithm behind a host key algorithm name (certificates sign like their key). */
export function signatureAlgorithmOf(hostKeyAlgorithm: string): string {
  return hostKeyAlgorithm.endsWith(CERT) ? hostKeyAlgorithm.slice(0, -CERT.length) : hostKeyAlgorithm;
}
