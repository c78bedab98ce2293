/**
 * Cipher and MAC registry as data (DESIGN.md principle 3): one row per wire name.
 *
 * kind:
 *  - 'none'   the initial, unencrypted state (RFC 4253 §6: block size 8, no MAC). Never
 *             negotiable: negotiation must skip it.
 *  - 'chacha' chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305)
 *  - 'aead'   AES-GCM as OpenSSH does it (RFC 5647 §7.1 with the length in clear as AAD)
 *  - 'stream' AES-CTR (RFC 4344 §4) with a separate MAC (RFC 4253 §6.4 or EtM, OpenSSH PROTOCOL §1.6)
 *
 * legacy: offered only behind the explicit legacy switch.
 */
export type CipherKind = 'none' | 'chacha' | 'aead' | 'stream';

export interface CipherSpec {
  readonly name: string;
  /** Key bytes taken from the key derivation (RFC 4253 §7.2). */
  readonly keyLength: number;
  /** IV bytes taken from the key derivation (0 when the mode derives none). */
  readonly ivLength: number;
  /** Alignment unit for padding (at least 8). */
  readonly blockSize: number;
  /** AEAD tag bytes after the packet (0 when a separate MAC is used). */
  readonly tagLength: number;
  readonly kind: CipherKind;
  readonly legacy: boolean;
}

export interface MacSpec {
  readonly name: string;
  readonly keyLength: number;
  readonly macLength: number;
  /** Encrypt-then-MAC (OpenSSH PROTOCOL §1.6): MAC over the ciphertext, length left in clear. */
  readonly etm: boolean;
  readonly hash: 'sha1' | 'sha256' | 'sha512';
  readonly legacy: boolean;
}

export const CIPHERS = [
  { name: 'chacha20-poly1305@openssh.com', keyLength: 64, ivLength: 0, blockSize: 8, tagLength: 16, kind: 'chacha', legacy: false },
  { name: 'aes128-gcm@openssh.com', keyLength: 16, ivLength: 12, blockSize: 16, tagLength: 16, kind: 'aead', legacy: false },
  { name: 'aes256-gcm@openssh.com', keyLength: 32, ivLength: 12, blockSize: 16, tagLength: 16, kind: 'aead', legacy: false },
  { name: 'aes128-ctr', keyLength: 16, ivLength: 16, blockSize: 16, tagLength: 0, kind: 'stream', legacy: false },
  { name: 'aes192-ctr', keyLength: 24, ivLength: 16, blockSize: 16, tagLength: 0, kind: 'stream', legacy: false },
  { name: 'aes256-ctr', keyLength: 32, ivLength: 16, blockSize: 16, tagLength: 0, kind: 'stream', legacy: false },
  { name: 'none', keyLength: 0, ivLength: 0, blockSize: 8, tagLength: 0, kind: 'none', legacy: false },
] as const satisfies readonly CipherSpec[];

export const MACS = [
  { name: 'hmac-sha2-256-etm@openssh.com', keyLength: 32, macLength: 32, etm: true, hash: 'sha256', legacy: false },
  { name: 'hmac-sha2-512-etm@openssh.com', keyLength: 64, macLength: 64, etm: true, hash: 'sha512', legacy: false },
  { name: 'hmac-sha2-256', keyLength: 32, macLength: 32, etm: false, hash: 'sha256', legacy: false },
  { name: 'hmac-sha2-512', keyLength: 64, macLength: 64, etm: false, hash: 'sha512', legacy: false },
  { name: 'hmac-sha1', keyLength: 20, macLength: 20, etm: false, hash: 'sha1', legacy: true },
] as const satisfies readonly MacSpec[];

export type CipherName = (typeof CIPHERS)[number]['name'];
export type MacName = (typeof MACS)[number]['name'];

export function findCipher(name: string): CipherSpec | undefined {
  return CIPHERS.find((c) => c.name === name);
}

export function findMac(name: string): MacSpec | undefined {
  return MACS.find((m) => m.name === name);
}

/** True when the cipher carries its own integrity tag, so the negotiated MAC is ignored (RFC 5647 §5.1). */
export function isAuthenticatedCipher(spec: CipherSpec): boolean {
  return spec.kind === 'aead' || spec.kind === 'chacha';
}
