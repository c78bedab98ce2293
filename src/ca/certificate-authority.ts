/**
 * The gateway's two certificate authorities (issue 4): the user CA signs the short-lived
 * certificates Gatehouse logs in to targets with; the host CA signs, on the fly, the host
 * certificates the inner SSH server presents for `ssh -J` targets. Keys are ed25519 in
 * openssh-key-v1 files in the state dir, created mode 0600 on first use.
 */
import { constants } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultBackend } from '../crypto/index.js';
import { type SignedCertificate, signCertificate } from '../keys/certificate.js';
import { KeyFormatError } from '../keys/errors.js';
import { type PrivateKey, generatePrivateKey, parsePrivateKey, serializeOpenSshPrivateKey } from '../keys/private-key.js';
import { type PlainPublicKey, formatPublicKeyLine, parsePlainPublicKeyBlob } from '../keys/public-key.js';

export type CaKind = 'user' | 'host';

/** Certificates are backdated this much so a target whose clock runs a little behind accepts them. */
export const CLOCK_SKEW_SECONDS = 60;
/** Default lifetime of a per-session user certificate. */
export const DEFAULT_USER_CERT_SECONDS = 5 * 60;
/** Default lifetime of an on-the-fly host certificate. */
export const DEFAULT_HOST_CERT_SECONDS = 24 * 60 * 60;
const HOST_CACHE_MAX = 1024;

export class CaFileError extends Error {
  override readonly name = 'CaFileError';
}

export interface IssueUserCertificateRequest {
  readonly publicKey: PlainPublicKey | Uint8Array;
  /** The logins the certificate is good for (the target login). */
  readonly principals: readonly string[];
  /** Names the gateway user and the session, e.g. "gatehouse:alice:session-id". */
  readonly keyId: string;
  readonly validitySeconds?: number;
  /** Extension names (permit-pty, permit-port-forwarding, permit-agent-forwarding, permit-X11-forwarding, permit-user-rc). */
  readonly extensions?: readonly string[];
  /** Critical options such as force-command or source-address. */
  readonly criticalOptions?: Readonly<Record<string, string>>;
  /** Seconds since the epoch (tests); defaults to now. */
  readonly now?: number;
}

export interface IssueHostCertificateRequest {
  readonly publicKey: PlainPublicKey | Uint8Array;
  /** Host names and addresses the certificate is valid for. */
  readonly names: readonly string[];
  readonly validitySeconds?: number;
  readonly now?: number;
}

export interface CertificateAuthority {
  readonly kind: CaKind;
  readonly privateKey: PrivateKey;
  readonly publicKeyBlob: Uint8Array;
  /** "ssh-ed25519 AAAA... gatehouse-<kind>-ca", for TrustedUserCAKeys or an @cert-authority line. */
  readonly publicKeyLine: string;
  /** Path of the private key file. */
  readonly path: string;
  issueUserCertificate(req: IssueUserCertificateRequest): SignedCertificate;
  /** Cached per (key, names) while more than half of its lifetime remains. */
  issueHostCertificate(req: IssueHostCertificateRequest): SignedCertificate;
}

function randomSerial(): bigint {
  let v = 0n;
  for (const b of defaultBackend.randomBytes(8)) v = (v << 8n) | BigInt(b);
  return v;
}

function nowSeconds(now: number | undefined): number {
  return Math.floor(now ?? Date.now() / 1000);
}

function toKey(k: PlainPublicKey | Uint8Array): PlainPublicKey {
  return k instanceof Uint8Array ? parsePlainPublicKeyBlob(k) : k;
}

/** Wraps a CA private key. Exposed for tests and for CAs kept elsewhere than the state dir. */
export function createCertificateAuthority(kind: CaKind, privateKey: PrivateKey, path = ''): CertificateAuthority {
  const hostCache = new Map<string, { cert: SignedCertificate; refreshAfter: number }>();
  return {
    kind,
    privateKey,
    path,
    publicKeyBlob: privateKey.publicKeyBlob,
    publicKeyLine: formatPublicKeyLine(privateKey.publicKeyBlob, `gatehouse-${kind}-ca`),
    issueUserCertificate(req) {
      if (kind !== 'user') throw new CaFileError('the host CA does not issue user certificates');
      if (req.principals.length === 0) throw new KeyFormatError('a user certificate needs at least one principal');
      const now = nowSeconds(req.now);
      const validity = req.validitySeconds ?? DEFAULT_USER_CERT_SECONDS;
      const extensions: Record<string, string> = {};
      for (const e of req.extensions ?? []) extensions[e] = '';
      return signCertificate(
        {
          key: toKey(req.publicKey),
          type: 'user',
          keyId: req.keyId,
          principals: req.principals,
          validAfter: now - CLOCK_SKEW_SECONDS,
          validBefore: now + validity,
          criticalOptions: req.criticalOptions ?? {},
          extensions,
          serial: randomSerial(),
        },
        privateKey,
      );
    },
    issueHostCertificate(req) {
      if (kind !== 'host') throw new CaFileError('the user CA does not issue host certificates');
      if (req.names.length === 0) throw new KeyFormatError('a host certificate needs at least one name');
      const key = toKey(req.publicKey);
      const now = nowSeconds(req.now);
      const names = [...new Set(req.names.map((n) => n.toLowerCase()))].sort();
      const validity = req.validitySeconds ?? DEFAULT_HOST_CERT_SECONDS;
      const cacheKey = `${formatPublicKeyLine(key)}\n${validity}\n${names.join(',')}`;
      const hit = hostCache.get(cacheKey);
      if (hit !== undefined && now < hit.refreshAfter) return hit.cert;
      const cert = signCertificate(
        {
          key,
          type: 'host',
          keyId: `gatehouse-host:${names[0] ?? ''}`,
          principals: names,
          validAfter: now - CLOCK_SKEW_SECONDS,
          validBefore: now + validity,
          serial: randomSerial(),
        },
        privateKey,
      );
      hostCache.delete(cacheKey);
      if (hostCache.size >= HOST_CACHE_MAX) {
        const oldest = hostCache.keys().next();
        if (oldest.done !== true) hostCache.delete(oldest.value);
      }
      hostCache.set(cacheKey, { cert, refreshAfter: now + Math.floor(validity / 2) });
      return cert;
    },
  };
}

function errnoOf(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/**
 * Loads `<stateDir>/<kind>-ca` (ed25519, openssh-key-v1), creating the directory (0700) and the
 * key (0600, with a .pub beside it) when missing. A key file readable by group or others is refused.
 */
export async function loadOrCreateCa(stateDir: string, kind: CaKind): Promise<CertificateAuthority> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, `${kind}-ca`);
  let text: string;
  try {
    const st = await stat(path);
    if ((st.mode & 0o077) !== 0) {
      throw new CaFileError(`${path} is accessible by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') throw e;
    const key = generatePrivateKey('ssh-ed25519', undefined, `gatehouse-${kind}-ca`);
    text = serializeOpenSshPrivateKey(key);
    try {
      // 'wx' (O_EXCL): if another process created it first, we use theirs
      await writeFile(path, text, { mode: 0o600, flag: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL });
      await chmod(path, 0o600);
      await writeFile(`${path}.pub`, `${formatPublicKeyLine(key.publicKeyBlob, key.comment)}\n`, { mode: 0o644 });
    } catch (we) {
      if (errnoOf(we) !== 'EEXIST') throw we;
      text = await readFile(path, 'utf8');
    }
  }
  let key: PrivateKey;
  try {
    key = parsePrivateKey(text);
  } catch (e) {
    throw new CaFileError(`${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return createCertificateAuthority(kind, key, path);
}
