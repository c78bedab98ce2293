/**
 * Key exchange methods, all in one KEM shape (as OpenSSH's kexgen.c does it):
 *   client: keypair()        → client public value Q_C, kept private half
 *   server: encapsulate(Q_C) → server reply Q_S and shared secret K
 *   client: decapsulate(Q_S) → shared secret K
 * The messages are SSH_MSG_KEX_ECDH_INIT/REPLY (30/31), whose layout is shared by RFC 5656 §4,
 * RFC 8731 §3, RFC 4253 §8 (KEXDH_INIT/REPLY, where Q_C/Q_S are mpints e/f) and the hybrid
 * draft-ietf-sshm-mlkem-hybrid-kex. K enters the exchange hash and key derivation as an mpint
 * except for the hybrid, where it is a string.
 */
import type { CryptoBackend, EcCurve, HashAlgorithm, ModpGroup } from '../crypto/backend.js';
import { MLKEM768_CT_BYTES, MLKEM768_EK_BYTES } from '../crypto/index.js';
import { DisconnectReason, SshProtocolError, concatBytes } from '../wire/index.js';

export interface KexClientState {
  /** Q_C as its bytes (for DH groups: the magnitude of e). */
  readonly publicValue: Uint8Array;
  decapsulate(serverReply: Uint8Array): Uint8Array;
}

export interface KexMethod {
  readonly name: string;
  readonly hash: HashAlgorithm;
  /** How Q_C / Q_S travel in the init/reply messages and the exchange hash. */
  readonly valueEncoding: 'string' | 'mpint';
  /** How K enters the exchange hash and the key derivation (RFC 4253 §7.2). */
  readonly secretEncoding: 'string' | 'mpint';
  /** Upper bound on Q_C / Q_S bytes, checked before any work. */
  readonly maxValueLength: number;
  keypair(backend: CryptoBackend): KexClientState;
  encapsulate(backend: CryptoBackend, clientValue: Uint8Array): { reply: Uint8Array; sharedSecret: Uint8Array };
}

function kexFailed(msg: string): SshProtocolError {
  return new SshProtocolError(DisconnectReason.KEY_EXCHANGE_FAILED, msg);
}

/** ECDH-shaped methods: curve25519 (RFC 8731), NIST ECDH (RFC 5656) and MODP DH (RFC 4253 §8, RFC 8268). */
function dhMethod(
  name: string,
  hash: HashAlgorithm,
  valueEncoding: 'string' | 'mpint',
  maxValueLength: number,
  make: (b: CryptoBackend) => { publicKey: Uint8Array; computeSecret(peer: Uint8Array): Uint8Array },
): KexMethod {
  return {
    name,
    hash,
    valueEncoding,
    secretEncoding: 'mpint',
    maxValueLength,
    keypair(backend) {
      const kp = make(backend);
      return { publicValue: kp.publicKey, decapsulate: (reply) => kp.computeSecret(reply) };
    },
    encapsulate(backend, clientValue) {
      const kp = make(backend);
      return { reply: kp.publicKey, sharedSecret: kp.computeSecret(clientValue) };
    },
  };
}

const X25519_BYTES = 32;

/**
 * mlkem768x25519-sha256: Q_C = mlkem_pk || x25519_pk, Q_S = mlkem_ct || x25519_pk,
 * K = SHA-256(mlkem_ss || x25519_ss), encoded as a string.
 */
const mlkem768x25519: KexMethod = {
  name: 'mlkem768x25519-sha256',
  hash: 'sha256',
  valueEncoding: 'string',
  secretEncoding: 'string',
  maxValueLength: MLKEM768_EK_BYTES + X25519_BYTES,
  keypair(backend) {
    const kem = backend.mlkem768KeyPair();
    const dh = backend.x25519();
    return {
      publicValue: concatBytes(kem.publicKey, dh.publicKey),
      decapsulate(reply) {
        if (reply.length !== MLKEM768_CT_BYTES + X25519_BYTES) throw kexFailed('bad hybrid KEX reply length');
        const kemSecret = kem.decapsulate(reply.subarray(0, MLKEM768_CT_BYTES));
        const dhSecret = dh.computeSecret(reply.subarray(MLKEM768_CT_BYTES));
        return backend.hash('sha256', concatBytes(kemSecret, dhSecret));
      },
    };
  },
  encapsulate(backend, clientValue) {
    if (clientValue.length !== MLKEM768_EK_BYTES + X25519_BYTES) throw kexFailed('bad hybrid KEX init length');
    const { cipherText, sharedSecret: kemSecret } = backend.mlkem768Encapsulate(clientValue.subarray(0, MLKEM768_EK_BYTES));
    const dh = backend.x25519();
    const dhSecret = dh.computeSecret(clientValue.subarray(MLKEM768_EK_BYTES));
    return { reply: concatBytes(cipherText, dh.publicKey), sharedSecret: backend.hash('sha256', concatBytes(kemSecret, dhSecret)) };
  },
};

const x25519 = (b: CryptoBackend) => b.x25519();
const ecdh = (c: EcCurve) => (b: CryptoBackend) => b.ecdh(c);
const modp = (g: ModpGroup) => (b: CryptoBackend) => b.modp(g);

export const KEX_METHODS: readonly KexMethod[] = [
  mlkem768x25519,
  dhMethod('curve25519-sha256', 'sha256', 'string', X25519_BYTES, x25519),
  dhMethod('curve25519-sha256@libssh.org', 'sha256', 'string', X25519_BYTES, x25519),
  dhMethod('ecdh-sha2-nistp256', 'sha256', 'string', 65, ecdh('p256')),
  dhMethod('ecdh-sha2-nistp384', 'sha384', 'string', 97, ecdh('p384')),
  dhMethod('ecdh-sha2-nistp521', 'sha512', 'string', 133, ecdh('p521')),
  dhMethod('diffie-hellman-group14-sha256', 'sha256', 'mpint', 257, modp(14)),
  dhMethod('diffie-hellman-group16-sha512', 'sha512', 'mpint', 513, modp(16)),
  dhMethod('diffie-hellman-group18-sha512', 'sha512', 'mpint', 1025, modp(18)),
  dhMethod('diffie-hellman-group14-sha1', 'sha1', 'mpint', 257, modp(14)),
];

export function findKexMethod(name: string): KexMethod | undefined {
  return KEX_METHODS.find((m) => m.name === name);
}
