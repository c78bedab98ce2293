/** Exported types of the userauth machines (server.ts, client.ts). */
import type { SignatureVerifier } from '../transport/host-key.js';
import type { DisconnectReasonCode } from '../wire/index.js';
import type { KbdPrompt } from './messages.js';
import type { OfferedKey, ProvenKey } from './public-key-proof.js';

/** Methods a server may offer. publickey covers publickey-hostbound-v00@openssh.com too. */
export type AuthMethodName = 'none' | 'publickey' | 'keyboard-interactive' | 'password';

/** Names one question the server machine put to its driver. */
export type AuthRequestId = number & { readonly __brand: 'AuthRequestId' };

/** One factor that passed. Only a ProvenKey can stand for a publickey factor. */
export type AuthStep =
  | { readonly method: 'none' }
  | { readonly method: 'publickey'; readonly key: ProvenKey }
  | { readonly method: 'password' }
  | { readonly method: 'keyboard-interactive' };

/** The outcome handed to the connection layer on USERAUTH_SUCCESS. */
export interface AuthResult {
  readonly user: string;
  readonly service: 'ssh-connection';
  /** Every factor that passed, in order (more than one after partial success). */
  readonly steps: readonly AuthStep[];
}

/** What the driver is asked. */
export type AuthCheck =
  /** May this user log in with no credential? (e.g. an inner leg already bound to an identity) */
  | { readonly kind: 'none' }
  /** Would this key be acceptable? Accepting only answers PK_OK; it authenticates nothing. */
  | { readonly kind: 'publickey-query'; readonly key: OfferedKey }
  /** The key's signature verified: may this user log in with it (trust, certificate checks)? */
  | { readonly kind: 'publickey'; readonly key: ProvenKey }
  | { readonly kind: 'password'; readonly password: string }
  /** keyboard-interactive began: answer with a 'prompt' round or a decision. */
  | { readonly kind: 'keyboard-interactive'; readonly submethods: string; readonly round: 0 }
  /** Answers to the previous round (same count as its prompts). */
  | { readonly kind: 'keyboard-interactive-answers'; readonly responses: readonly string[]; readonly round: number };

export type AuthAnswer =
  /** For a query: send PK_OK. Otherwise: this factor passed and authentication succeeds. */
  | { readonly type: 'accept' }
  /** This factor passed; the client must go on with one of `methods` (RFC 4252 §5.1 partial success). */
  | { readonly type: 'partial'; readonly methods: readonly AuthMethodName[] }
  | { readonly type: 'reject'; readonly reason: string }
  /** keyboard-interactive only: another round of prompts (RFC 4256 §3.2); zero prompts allowed. */
  | { readonly type: 'prompt'; readonly name: string; readonly instruction: string; readonly prompts: readonly KbdPrompt[] };

export interface AuthServerOptions {
  readonly sink: (payload: Uint8Array) => void;
  /** The transport's session identifier (H of the first key exchange). */
  readonly sessionId: Uint8Array;
  /** The host key blob of the first key exchange: publickey-hostbound requests must name it. */
  readonly hostKeyBlob: Uint8Array;
  readonly verify: SignatureVerifier;
  /** Methods offered at first; default ['publickey', 'keyboard-interactive']. Password only when listed. */
  readonly methods?: readonly AuthMethodName[];
  /** Failed attempts before DISCONNECT NO_MORE_AUTH_METHODS_AVAILABLE; default 6 (OpenSSH MaxAuthTries). */
  readonly maxAttempts?: number;
  /** Milliseconds from `now` until authentication must have succeeded; default 120 000. */
  readonly loginGraceMs?: number;
  /** The clock reading (ms) at construction; tick() takes later readings of the same clock. */
  readonly now: number;
  /** Sent as USERAUTH_BANNER before the first answer. */
  readonly banner?: string;
  /** keyboard-interactive rounds per attempt; default 10. */
  readonly maxKbdRounds?: number;
  /** Requests a client may pipeline while the driver decides; default 4. */
  readonly maxQueuedRequests?: number;
}

export type AuthServerEvent =
  /** A decision is needed; answer with respond(id, answer), any time later. */
  | { readonly type: 'check'; readonly id: AuthRequestId; readonly user: string; readonly check: AuthCheck }
  /** The user name changed between attempts; factors passed so far were dropped. */
  | { readonly type: 'user-changed'; readonly from: string; readonly to: string }
  /** An attempt failed (sent USERAUTH_FAILURE or ended the connection), with why, for the logs. */
  | { readonly type: 'failure'; readonly user: string; readonly method: string; readonly reason: string; readonly attempts: number }
  /** A factor passed but more are required. */
  | { readonly type: 'partial'; readonly user: string; readonly step: AuthStep; readonly methods: readonly AuthMethodName[] }
  | { readonly type: 'success'; readonly result: AuthResult }
  /** The machine gave up: the driver must send DISCONNECT with this reason and close. */
  | { readonly type: 'disconnect'; readonly reason: DisconnectReasonCode; readonly message: string };

/** A driver called the machine in a way its state does not allow (a bug in the caller). */
export class AuthUsageError extends Error {
  override readonly name = 'AuthUsageError';
}

// ---------------------------------------------------------------- client

/** Names one question the client machine put to its driver (a signature, prompts). */
export type AuthClientRequestId = number & { readonly __brand: 'AuthClientRequestId' };

export type ClientCredential =
  | { readonly type: 'none' }
  /**
   * A key (or certificate) whose private half the driver can use (a file, an agent): the
   * machine asks for signatures with 'sign' events. `algorithms` in preference order, e.g.
   * ['rsa-sha2-512', 'rsa-sha2-256'] for RSA or ['ssh-ed25519-cert-v01@openssh.com'] for a certificate.
   */
  | {
      readonly type: 'publickey';
      readonly publicKeyBlob: Uint8Array;
      readonly algorithms: readonly string[];
      /** Ask whether the key is acceptable before signing (RFC 4252 §7); default true. */
      readonly query?: boolean;
    }
  | { readonly type: 'password'; readonly password: string }
  | { readonly type: 'keyboard-interactive'; readonly submethods?: string };

export interface AuthClientOptions {
  readonly sink: (payload: Uint8Array) => void;
  readonly user: string;
  readonly sessionId: Uint8Array;
  /** The server host key blob of the first key exchange (for publickey-hostbound). */
  readonly hostKeyBlob: Uint8Array;
  /** Tried in order, each at most once, when the server lists its method. */
  readonly credentials: readonly ClientCredential[];
  /**
   * Send "none" first to learn the server's methods (default true, as OpenSSH does). false: try
   * the first credential straight away and learn the methods from its USERAUTH_FAILURE only if
   * it fails, which saves a round trip when the caller knows what the server accepts (with a
   * publickey `query: false`, two: the gateway's certificate login to its targets).
   */
  readonly noneFirst?: boolean;
}

/** From the server's EXT_INFO (RFC 8308 §3.1; OpenSSH PROTOCOL §1.9). */
export interface ServerAuthExtensions {
  readonly serverSigAlgs?: readonly string[];
  /** publickey-hostbound@openssh.com version "0" was announced. */
  readonly publickeyHostbound?: boolean;
}

export type AuthClientEvent =
  | { readonly type: 'banner'; readonly message: string; readonly language: string }
  /** USERAUTH_FAILURE: what the server allows now. */
  | { readonly type: 'methods'; readonly methods: readonly string[]; readonly partialSuccess: boolean }
  /** The server would accept this key (PK_OK). */
  | { readonly type: 'key-accepted'; readonly algorithm: string; readonly publicKeyBlob: Uint8Array }
  /** Sign `data` with the key; answer signed(id, signatureBlob) or signed(id, null) to skip it. */
  | {
      readonly type: 'sign';
      readonly id: AuthClientRequestId;
      readonly algorithm: string;
      readonly publicKeyBlob: Uint8Array;
      readonly data: Uint8Array;
    }
  /** keyboard-interactive prompts; answer answerPrompts(id, responses) or answerPrompts(id, null) to give up. */
  | {
      readonly type: 'prompt';
      readonly id: AuthClientRequestId;
      readonly name: string;
      readonly instruction: string;
      readonly prompts: readonly KbdPrompt[];
    }
  | { readonly type: 'success' }
  /** Nothing left to try: the driver should disconnect. */
  | { readonly type: 'exhausted'; readonly methods: readonly string[] };
