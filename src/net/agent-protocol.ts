/**
 * The ssh-agent wire protocol, client side (draft-miller-ssh-agent §3, §4.4, §4.5): framing
 * and codecs only, no I/O. Every message is `uint32 length || byte type || contents`.
 */
import { SshReader, SshWriter, WireError } from '../wire/index.js';

export const AgentMsg = {
  FAILURE: 5,
  SUCCESS: 6,
  REQUEST_IDENTITIES: 11,
  IDENTITIES_ANSWER: 12,
  SIGN_REQUEST: 13,
  SIGN_RESPONSE: 14,
} as const;

/** Sign-request flags (draft-miller-ssh-agent §4.5.1): which RSA signature hash to use. */
export const AgentSignFlags = {
  RSA_SHA2_256: 2,
  RSA_SHA2_512: 4,
} as const;

/** Largest agent message we accept. OpenSSH's agent caps its own at 256 KiB (AGENT_MAX_LEN). */
export const AGENT_MAX_MESSAGE = 256 * 1024;
/** More identities than any real agent holds; bounds the answer's allocation. */
export const AGENT_MAX_IDENTITIES = 2048;

export interface AgentIdentity {
  /** The public key (or certificate) blob, as it goes on the wire in publickey userauth. */
  readonly keyBlob: Uint8Array;
  readonly comment: string;
  /** The key type from the blob ("ssh-ed25519", "ssh-rsa-cert-v01@openssh.com", ...). */
  readonly keyType: string;
}

export class AgentProtocolError extends Error {
  override readonly name = 'AgentProtocolError';
}

function frame(body: Uint8Array): Uint8Array {
  return new SshWriter(body.length + 4).string(body).finish();
}

export function encodeRequestIdentities(): Uint8Array {
  return frame(Uint8Array.of(AgentMsg.REQUEST_IDENTITIES));
}

/** SSH_AGENTC_SIGN_REQUEST; `flags` selects rsa-sha2-256/512 for RSA keys (0 otherwise). */
export function encodeSignRequest(keyBlob: Uint8Array, data: Uint8Array, flags: number): Uint8Array {
  const body = new SshWriter(keyBlob.length + data.length + 16)
    .byte(AgentMsg.SIGN_REQUEST)
    .string(keyBlob)
    .string(data)
    .uint32(flags)
    .finish();
  return frame(body);
}

/** The flag for a signature algorithm name (rsa-sha2-512 → 4, rsa-sha2-256 → 2, else 0). */
export function signFlagsFor(algorithm: string): number {
  if (algorithm.startsWith('rsa-sha2-512')) return AgentSignFlags.RSA_SHA2_512;
  if (algorithm.startsWith('rsa-sha2-256')) return AgentSignFlags.RSA_SHA2_256;
  return 0;
}

/** Parses SSH_AGENT_IDENTITIES_ANSWER (or FAILURE → AgentProtocolError). `body` excludes the length. */
export function decodeIdentitiesAnswer(body: Uint8Array): AgentIdentity[] {
  const r = new SshReader(body);
  const type = r.byte();
  if (type === AgentMsg.FAILURE) throw new AgentProtocolError('agent refused to list identities');
  if (type !== AgentMsg.IDENTITIES_ANSWER) throw new AgentProtocolError(`unexpected agent reply ${type}`);
  const n = r.uint32();
  if (n > AGENT_MAX_IDENTITIES) throw new AgentProtocolError(`agent lists too many identities (${n})`);
  const out: AgentIdentity[] = [];
  for (let i = 0; i < n; i++) {
    const keyBlob = r.bytes();
    const comment = new TextDecoder('utf-8', { fatal: false }).decode(r.bytes());
    const keyType = new SshReader(keyBlob).ascii(256);
    out.push({ keyBlob, comment, keyType });
  }
  r.expectEnd('identities answer');
  return out;
}

/** Parses SSH_AGENT_SIGN_RESPONSE into the signature blob (string algorithm, string sig). */
export function decodeSignResponse(body: Uint8Array): Uint8Array {
  const r = new SshReader(body);
  const type = r.byte();
  if (type === AgentMsg.FAILURE) throw new AgentProtocolError('agent refused to sign');
  if (type !== AgentMsg.SIGN_RESPONSE) throw new AgentProtocolError(`unexpected agent reply ${type}`);
  const sig = r.bytes();
  r.expectEnd('sign response');
  // The blob itself must be a well-formed (string, string) pair.
  const sr = new SshReader(sig);
  sr.ascii(256);
  sr.bytes();
  sr.expectEnd('signature blob');
  return sig;
}

/**
 * Splits a byte stream into agent message bodies. The length is checked against
 * AGENT_MAX_MESSAGE before anything is buffered for it.
 */
export class AgentFrameReader {
  private buf: Uint8Array = new Uint8Array(0);

  /** Adds bytes; returns every complete message body now available. Throws on an oversized or empty frame. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.buf = this.buf.length === 0 ? chunk : concat(this.buf, chunk);
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.buf.length < 4) break;
      const len = new DataView(this.buf.buffer, this.buf.byteOffset, 4).getUint32(0);
      if (len === 0 || len > AGENT_MAX_MESSAGE) throw new WireError(`agent message length ${len} out of range`);
      if (this.buf.length < 4 + len) break;
      out.push(this.buf.slice(4, 4 + len));
      this.buf = this.buf.subarray(4 + len);
    }
    return out;
  }

  get buffered(): number {
    return this.buf.length;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
