/**
 * The per-connection session index (index.json): who, what, when, every channel with its
 * recording file and chain head, every forward, and the failures seen. At session end it is
 * signed with the recording key over a canonical serialization (keys sorted, no whitespace),
 * prefixed with a domain label so the signature cannot be replayed for another purpose.
 */
import type { RecordingVerifyKey } from './recording-key.js';

export const INDEX_FORMAT = 'gatehouse-session-index/1';
const SIGNATURE_DOMAIN = 'gatehouse-session-index-v1\n';

export interface SessionWho {
  readonly identity: string;
  readonly authMethod: string;
  readonly keyFingerprint?: string;
  readonly clientAddress: string;
  readonly clientPort?: number;
}

export interface SessionTarget {
  readonly host: string;
  readonly port: number;
  readonly login: string;
}

export interface FileSeal {
  /** File name relative to the session directory. */
  readonly file: string;
  readonly lines: number;
  readonly bytes: number;
  readonly chainHead: string;
  readonly droppedLines: number;
  readonly droppedBytes: number;
}

/** The raw bytes of a channel's `b` events (binary_output "b-sidecar", FORMAT.md). */
export interface BinarySeal {
  /** File name relative to the session directory (channel-N.bin). */
  readonly file: string;
  /** Number of `b` events, each naming one chunk of the file. */
  readonly chunks: number;
  readonly bytes: number;
}

/** The seal of a channel's cast, and of its binary sidecar when it has one. */
export interface ChannelRecordingSeal extends FileSeal {
  readonly binary?: BinarySeal;
}

export type ChannelKind = 'shell' | 'exec' | 'subsystem';

export interface ChannelEntry {
  readonly channel: number;
  readonly kind: ChannelKind;
  readonly pty: boolean;
  readonly command?: string;
  readonly subsystem?: string;
  readonly start: string;
  readonly end?: string;
  readonly exitStatus?: number;
  readonly exitSignal?: string;
  /** Payload bytes relayed: target→client (stdout+stderr) and client→target. */
  readonly bytesOut: number;
  readonly bytesIn: number;
  /** The asciicast file, absent for subsystems recorded as audit events (SFTP). */
  readonly recording?: ChannelRecordingSeal;
}

export interface ForwardEntry {
  readonly kind: 'direct-tcpip' | 'forwarded-tcpip' | 'agent' | 'streamlocal';
  readonly originator?: string;
  readonly destination?: string;
  readonly start: string;
  readonly end?: string;
  readonly bytesToTarget: number;
  readonly bytesToClient: number;
}

export interface IndexSignature {
  readonly alg: 'ed25519';
  readonly keyId: string;
  readonly value: string;
}

export interface SessionIndex {
  readonly format: typeof INDEX_FORMAT;
  readonly sessionId: string;
  /** open: live or crashed; closed: ended and signed; interrupted: sealed after a crash by recovery. */
  readonly state: 'open' | 'closed' | 'interrupted';
  readonly who: SessionWho;
  readonly target: SessionTarget;
  readonly start: string;
  readonly end?: string;
  readonly asciicastVersion: 2 | 3;
  readonly inputRecorded: boolean;
  readonly channels: readonly ChannelEntry[];
  readonly forwards: readonly ForwardEntry[];
  readonly audit?: FileSeal;
  readonly failures: readonly { kind: string; file: string; code?: string; message: string; lostLines: number; lostBytes: number }[];
  /** Set when the session was sealed by recovery after the gateway stopped mid-session. */
  readonly recovery?: { readonly at: string; readonly truncated: readonly { readonly file: string; readonly bytes: number }[] };
  readonly signature?: IndexSignature;
}

/** Deterministic JSON: object keys sorted, no whitespace, undefined members omitted. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error('non-finite number in index');
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
}

export function signedBytes(index: SessionIndex): Uint8Array {
  const { signature: _omit, ...rest } = index;
  return new TextEncoder().encode(SIGNATURE_DOMAIN + canonicalJson(rest));
}

export function signIndex(index: SessionIndex, key: { keyId: string; sign(m: Uint8Array): Uint8Array }): SessionIndex {
  const value = Buffer.from(key.sign(signedBytes(index))).toString('base64');
  return { ...index, signature: { alg: 'ed25519', keyId: key.keyId, value } };
}

export type IndexSignatureCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'unsigned' | 'wrong-key' | 'bad-signature' };

export function checkIndexSignature(index: SessionIndex, key: RecordingVerifyKey): IndexSignatureCheck {
  const sig = index.signature;
  if (!sig) return { ok: false, reason: 'unsigned' };
  if (sig.keyId !== key.keyId) return { ok: false, reason: 'wrong-key' };
  const value = Buffer.from(sig.value, 'base64');
  if (value.length !== 64 || !key.verify(signedBytes(index), value)) return { ok: false, reason: 'bad-signature' };
  return { ok: true };
}
