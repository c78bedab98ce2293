/**
 * The symmetric half of the crypto port: the primitives the SSH packet protections need, in the
 * shapes those constructions use them. Kept beside (not inside) CryptoBackend so the public-key
 * port stays as the foundation defined it. Each backend binds a key once (node:crypto imports
 * it into a KeyObject) and then runs per-packet operations on it.
 */
import type { HashAlgorithm } from './backend.js';

/**
 * ChaCha20 as OpenSSH uses it (PROTOCOL.chacha20poly1305): DJB layout, nonce = seq as uint64 BE.
 * Every XOR returns a fresh array, never a view of its input (sealers XOR a reused scratch buffer).
 */
export interface ChaChaKey {
  /**
   * XOR with the key stream for state words 12..15 = `iv16` read little-endian: a 32-bit block
   * counter and 96-bit nonce (RFC 8439 §2.3), which is also DJB's 64-bit counter || 64-bit nonce.
   */
  xor(iv16: Uint8Array, data: Uint8Array): Uint8Array;
  /** XOR with the key stream from block 0 (K_1, the packet length). */
  lengthXor(seq: number, data: Uint8Array): Uint8Array;
  /**
   * Poly1305 key from block 0, and the XOR of one packet's payload from block 1 on (K_2). Call
   * xor once per packet: each call starts again at block 1.
   */
  packetStream(seq: number): { readonly polyKey: Uint8Array; xor(data: Uint8Array): Uint8Array };
}

/** AES-GCM with a 16-byte tag (NIST SP 800-38D). */
export interface AesGcmKey {
  /** Encrypts `plaintext`; writes ciphertext || tag into `out` at `offset` (plaintext may alias it). */
  sealInto(iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void;
  /**
   * Encrypts `plaintext` into fresh buffers: the ciphertext and the 16-byte tag. For a writer
   * that sends them as parts of a gathered write: node:crypto's cipher allocates its output
   * anyway, and copying it into a packet buffer would cost a second allocation and a copy.
   * `plaintext` is only read during the call (it may be a reused scratch buffer).
   */
  seal(iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): { readonly ciphertext: Uint8Array; readonly tag: Uint8Array };
  /** Verifies and decrypts ciphertext || tag; null when the tag does not verify. */
  open(iv: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array): Uint8Array | null;
}

/** One AES-CTR key stream for a key lifetime (RFC 4344 §4). Updates stay block aligned. */
export interface AesCtrStream {
  update(data: Uint8Array): Uint8Array;
  /** The next 16 key-stream bytes, without consuming them. */
  peekBlock(): Uint8Array;
}

export interface HmacKey {
  /** HMAC over the concatenation of the parts. */
  mac(a: Uint8Array, b: Uint8Array): Uint8Array;
}

export interface SymmetricBackend {
  readonly name: string;
  chacha20(key: Uint8Array): ChaChaKey;
  /** Poly1305 tag of `message`, followed by `more` when given (their concatenation, without making it). */
  poly1305(key: Uint8Array, message: Uint8Array, more?: Uint8Array): Uint8Array;
  aesGcm(key: Uint8Array): AesGcmKey;
  aesCtr(key: Uint8Array, iv: Uint8Array): AesCtrStream;
  hmac(alg: HashAlgorithm, key: Uint8Array): HmacKey;
}

/** The 8-byte ChaCha20 nonce for a sequence number: uint64 big-endian with the high word 0. */
export function seqNonce(seq: number, into: Uint8Array = new Uint8Array(8)): Uint8Array {
  into[0] = 0;
  into[1] = 0;
  into[2] = 0;
  into[3] = 0;
  into[4] = seq >>> 24;
  into[5] = (seq >>> 16) & 0xff;
  into[6] = (seq >>> 8) & 0xff;
  into[7] = seq & 0xff;
  return into;
}
