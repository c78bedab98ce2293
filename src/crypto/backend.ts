/**
 * The one crypto port (DESIGN.md principle 4). The protocol core asks this interface for every
 * primitive; `node` and `noble` backends implement it and pass the same known-answer tests.
 * The default backend mixes them per operation, as the benchmarks in bench/ decide.
 *
 * All byte values are Uint8Array. Keys passed in raw form may be cached by the backend
 * (importing a raw key into node:crypto costs more than the operation itself).
 */
export type HashAlgorithm = 'sha1' | 'sha256' | 'sha384' | 'sha512';
export type EcCurve = 'p256' | 'p384' | 'p521';
export type ModpGroup = 14 | 16 | 18;

export interface IncrementalHash {
  update(data: Uint8Array): IncrementalHash;
  digest(): Uint8Array;
}

/** An ephemeral key pair for a Diffie-Hellman style exchange. */
export interface DhKeyPair {
  /** The public value as sent on the wire (x25519: 32 bytes; ECDH: SEC1 uncompressed point; MODP: big-endian magnitude). */
  readonly publicKey: Uint8Array;
  /** Computes the shared secret with the peer's public value; throws on an invalid peer value. */
  computeSecret(peerPublic: Uint8Array): Uint8Array;
}

export interface KemKeyPair {
  readonly publicKey: Uint8Array;
  decapsulate(cipherText: Uint8Array): Uint8Array;
}

export interface CryptoBackend {
  readonly name: string;
  randomBytes(n: number): Uint8Array;
  hash(alg: HashAlgorithm, data: Uint8Array): Uint8Array;
  createHash(alg: HashAlgorithm): IncrementalHash;
  hmac(alg: HashAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array;

  /** X25519 (RFC 7748). computeSecret rejects an all-zero result. */
  x25519(): DhKeyPair;
  /** ECDH over a NIST curve (SEC1 uncompressed points). */
  ecdh(curve: EcCurve): DhKeyPair;
  /** Finite-field DH over an RFC 3526 MODP group; the secret is the big-endian magnitude. */
  modp(group: ModpGroup): DhKeyPair;
  /** ML-KEM-768 (FIPS 203). */
  mlkem768KeyPair(): KemKeyPair;
  mlkem768Encapsulate(publicKey: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array };

  /** A fresh Ed25519 key pair (RFC 8032) from the backend's randomness. */
  ed25519Generate(): { seed: Uint8Array; publicKey: Uint8Array };
  /** Ed25519 (RFC 8032). `seed` is the 32-byte private seed. */
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;

  /** ECDSA over a NIST curve with the curve's SSH hash (p256/sha256, p384/sha384, p521/sha512). */
  ecdsaPublicKey(curve: EcCurve, privateScalar: Uint8Array): Uint8Array;
  ecdsaSign(curve: EcCurve, privateScalar: Uint8Array, message: Uint8Array): { r: Uint8Array; s: Uint8Array };
  ecdsaVerify(curve: EcCurve, publicPoint: Uint8Array, message: Uint8Array, r: Uint8Array, s: Uint8Array): boolean;

  /** RSASSA-PKCS1-v1_5. Components are big-endian magnitudes. */
  rsaSign(key: RsaPrivateComponents, hash: HashAlgorithm, message: Uint8Array): Uint8Array;
  rsaVerify(key: RsaPublicComponents, hash: HashAlgorithm, message: Uint8Array, signature: Uint8Array): boolean;
  rsaGenerate(bits: number): RsaPrivateComponents;
}

export interface RsaPublicComponents {
  readonly n: Uint8Array;
  readonly e: Uint8Array;
}

export interface RsaPrivateComponents extends RsaPublicComponents {
  readonly d: Uint8Array;
  readonly p: Uint8Array;
  readonly q: Uint8Array;
  /** q^-1 mod p */
  readonly iqmp: Uint8Array;
}
