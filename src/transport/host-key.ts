/**
 * How the transport uses host keys without knowing key formats: src/keys implements these,
 * the net layer wires them in. Signature blobs are SSH signature encodings
 * (string algorithm, string signature), RFC 4253 §6.6.
 */
export interface HostKeySigner {
  /** Signature algorithms this key can serve, in preference order (e.g. rsa-sha2-512, rsa-sha2-256). */
  readonly algorithms: readonly string[];
  /** The public key (or certificate) blob sent as K_S when `algorithm` is negotiated. */
  publicKeyBlob(algorithm: string): Uint8Array;
  /** Signs `data` (the exchange hash) and returns the signature blob. */
  sign(algorithm: string, data: Uint8Array): Uint8Array;
}

/**
 * Verifies a signature blob made with `algorithm` by the key (or certificate) in
 * `publicKeyBlob` over `data`. Returns false for any mismatch; never throws on bad input.
 */
export type SignatureVerifier = (
  algorithm: string,
  publicKeyBlob: Uint8Array,
  signature: Uint8Array,
  data: Uint8Array,
) => boolean;
