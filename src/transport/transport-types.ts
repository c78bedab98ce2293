/**
 * The public types of the sans-IO transport machine (./transport.ts): what it emits, what it
 * writes, and how it is configured.
 */
import type { CryptoBackend } from '../crypto/backend.js';
import type { SymmetricBackend } from '../crypto/symmetric.js';
import type { Role } from './algorithms.js';
import type { HostKeySigner, SignatureVerifier } from './host-key.js';

/** The algorithms one key exchange settled on (RFC 4253 §7.1). MAC is null for AEAD ciphers. */
export interface NegotiatedAlgorithms {
  readonly kex: string;
  readonly hostKey: string;
  readonly cipherClientToServer: string;
  readonly cipherServerToClient: string;
  readonly macClientToServer: string | null;
  readonly macServerToClient: string | null;
  readonly compressionClientToServer: string;
  readonly compressionServerToClient: string;
}

export type TransportEvent =
  | { type: 'peer-version'; version: string }
  /**
   * Client only: the server proved possession of this host key (its signature over the
   * exchange hash verified). The machine holds NEWKEYS and everything after it until
   * acceptHostKey() or rejectHostKey() is called (synchronously from the handler or later).
   * Emitted for the initial exchange only; on a rekey the key must equal the first one.
   */
  | { type: 'host-key'; algorithm: string; publicKey: Uint8Array }
  | { type: 'kex-complete'; sessionId: Uint8Array; algorithms: NegotiatedAlgorithms; initial: boolean; strict: boolean }
  | { type: 'ext-info'; extensions: ReadonlyMap<string, Uint8Array> }
  /** Every message with id >= 5 except EXT_INFO and the KEX range 20–49, in order. */
  | { type: 'payload'; payload: Uint8Array }
  /** Emitted once; after it the transport is closed and ignores input. */
  | { type: 'disconnect'; reason: number; description: string; byPeer: boolean };

export interface TransportSink {
  /** Bytes to send to the peer, in order (a version line, or one or more whole packets). */
  write(bytes: Uint8Array): void;
  /**
   * Optional: the same as write() of the parts' concatenation, for a sink that can send parts
   * as one gathered write. With it, ciphers whose primitive allocates its output (AES-GCM on
   * node:crypto) hand that output on instead of copying it into a packet buffer. The sink owns
   * the array and the parts.
   */
  writeParts?(parts: Uint8Array[]): void;
  event(ev: TransportEvent): void;
}

/** Per-kind preference lists; each replaces the role's default offer for that kind. */
export interface AlgorithmPreferences {
  readonly kex?: readonly string[];
  readonly hostKey?: readonly string[];
  readonly cipher?: readonly string[];
  readonly mac?: readonly string[];
  readonly compression?: readonly string[];
}

export interface TransportOptions {
  readonly role: Role;
  /** Public-key and hash primitives (default: defaultBackend). */
  readonly backend?: CryptoBackend;
  /** Packet cipher/MAC primitives (default: defaultSymmetric). */
  readonly symmetric?: SymmetricBackend;
  readonly algorithms?: AlgorithmPreferences;
  /** Server: the host keys; the host key algorithms offered are those they can serve. */
  readonly hostKeys?: readonly HostKeySigner[];
  /** Client: checks the server's signature over the exchange hash. */
  readonly verifySignature?: SignatureVerifier;
  /** softwareversion in "SSH-2.0-softwareversion" (RFC 4253 §4.2). Default "Gatehouse_0.1". */
  readonly softwareVersion?: string;
  /** Rekey after this many bytes in either direction (RFC 4253 §9). Default 1 GiB. */
  readonly rekeyBytes?: number;
  /** Rekey after this many packets in either direction. Default 2^31. */
  readonly rekeyPackets?: number;
  /** Rekey after this much time, as seen through tick(). Default 1 hour; 0 disables. */
  readonly rekeyIntervalMs?: number;
  /** Allow legacy algorithms (diffie-hellman-group14-sha1, ssh-rsa, hmac-sha1) in preferences. */
  readonly legacy?: boolean;
  /** Randomness for KEXINIT cookies (default: backend.randomBytes). */
  readonly random?: (n: number) => Uint8Array;
  /** Offer strict KEX (kex-strict-*-v00@openssh.com). Default true. */
  readonly strictKex?: boolean;
  /** Offer ext-info (RFC 8308). Default true. */
  readonly extInfo?: boolean;
  /** Server: the server-sig-algs extension value (RFC 8308 §3.1). */
  readonly serverSigAlgs?: readonly string[];
  /** Client: the maximum count of lines the server may send before its version line. Default 1024. */
  readonly maxBannerLines?: number;
  /**
   * Send a guessed first KEX packet right after KEXINIT (first_kex_packet_follows, RFC 4253
   * §7). Off by default; used to test peers' handling of guesses.
   */
  readonly guessKex?: boolean;
}

/** Payload size limits (RFC 4253 §6.1: at least 32768 payload; we accept packets up to 256 KiB). */
export const MAX_PACKET_LENGTH = 256 * 1024;
