/**
 * The gateway's recording key: an Ed25519 key (RFC 8032) in the state directory that signs
 * every session index. Stored as PKCS#8 PEM (`recording-key.pem`, mode 0600, RFC 8410 section 7)
 * with the public half beside it (`recording-key.pub`, SPKI PEM, RFC 8410 section 4) so
 * auditors can verify without the secret; both files are readable by openssl.
 *
 * Signing and verification go through the CryptoBackend port (DESIGN.md principle 4).
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CryptoBackend } from '../crypto/backend.js';
import { defaultBackend } from '../crypto/index.js';

export const RECORDING_KEY_FILE = 'recording-key.pem';
export const RECORDING_PUBKEY_FILE = 'recording-key.pub';

/** DER prefixes for Ed25519 keys, RFC 8410 sections 4 and 7 (OID 1.3.101.112). */
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

export class RecordingKeyError extends Error {
  override readonly name = 'RecordingKeyError';
}

export interface RecordingVerifyKey {
  /** "SHA256:<base64>" of the raw 32-byte public key, OpenSSH fingerprint style. */
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export interface RecordingKey extends RecordingVerifyKey {
  sign(message: Uint8Array): Uint8Array;
}

function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

function fromPem(text: string, label: string): Uint8Array | undefined {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(text);
  return m?.[1] !== undefined ? new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64')) : undefined;
}

function afterPrefix(der: Uint8Array | undefined, prefix: Uint8Array): Uint8Array | undefined {
  if (!der || der.length !== prefix.length + 32) return undefined;
  for (let i = 0; i < prefix.length; i++) if (der[i] !== prefix[i]) return undefined;
  return der.slice(prefix.length);
}

export function keyIdOf(publicKey: Uint8Array, backend: CryptoBackend = defaultBackend): string {
  return `SHA256:${Buffer.from(backend.hash('sha256', publicKey)).toString('base64').replace(/=+$/, '')}`;
}

export function verifyKeyFromPublic(publicKey: Uint8Array, backend: CryptoBackend = defaultBackend): RecordingVerifyKey {
  if (publicKey.length !== 32) throw new RecordingKeyError('an Ed25519 public key is 32 bytes');
  return { keyId: keyIdOf(publicKey, backend), publicKey, verify: (m, s) => backend.ed25519Verify(publicKey, m, s) };
}

export function recordingKeyFromSeed(seed: Uint8Array, backend: CryptoBackend = defaultBackend): RecordingKey {
  if (seed.length !== 32) throw new RecordingKeyError('an Ed25519 private key seed is 32 bytes');
  return { ...verifyKeyFromPublic(backend.ed25519PublicKey(seed), backend), sign: (m) => backend.ed25519Sign(seed, m) };
}

function parsePrivatePem(text: string, path: string): Uint8Array {
  const seed = afterPrefix(fromPem(text, 'PRIVATE KEY'), PKCS8_PREFIX);
  if (!seed) throw new RecordingKeyError(`${path} is not an Ed25519 PKCS#8 private key`);
  return seed;
}

/** Loads the key from `stateDir`, creating it (0600) if it does not exist. */
export async function loadOrCreateRecordingKey(stateDir: string, backend: CryptoBackend = defaultBackend): Promise<RecordingKey> {
  const path = join(stateDir, RECORDING_KEY_FILE);
  try {
    return recordingKeyFromSeed(parsePrivatePem(await readFile(path, 'utf8'), path), backend);
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw e;
  }
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const seed = backend.randomBytes(32);
  const key = recordingKeyFromSeed(seed, backend);
  const der = new Uint8Array(PKCS8_PREFIX.length + 32);
  der.set(PKCS8_PREFIX);
  der.set(seed, PKCS8_PREFIX.length);
  // 'wx' so two processes racing cannot overwrite each other's key.
  try {
    await writeFile(path, toPem('PRIVATE KEY', der), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as { code?: unknown }).code === 'EEXIST') return recordingKeyFromSeed(parsePrivatePem(await readFile(path, 'utf8'), path), backend);
    throw e;
  }
  await chmod(path, 0o600);
  const spki = new Uint8Array(SPKI_PREFIX.length + 32);
  spki.set(SPKI_PREFIX);
  spki.set(key.publicKey, SPKI_PREFIX.length);
  await writeFile(join(stateDir, RECORDING_PUBKEY_FILE), toPem('PUBLIC KEY', spki), { mode: 0o644 });
  return key;
}

/** Loads the public key for verification: a .pub/.pem file, or `recording-key.pub` (else the private key) in a state dir. */
export async function loadRecordingVerifyKey(pathOrStateDir: string, backend: CryptoBackend = defaultBackend): Promise<RecordingVerifyKey> {
  const candidates =
    pathOrStateDir.endsWith('.pub') || pathOrStateDir.endsWith('.pem')
      ? [pathOrStateDir]
      : [join(pathOrStateDir, RECORDING_PUBKEY_FILE), join(pathOrStateDir, RECORDING_KEY_FILE)];
  let lastErr: unknown;
  for (const p of candidates) {
    let text: string;
    try {
      text = await readFile(p, 'utf8');
    } catch (e) {
      lastErr = e;
      continue;
    }
    const pub = afterPrefix(fromPem(text, 'PUBLIC KEY'), SPKI_PREFIX);
    if (pub) return verifyKeyFromPublic(pub, backend);
    const seed = afterPrefix(fromPem(text, 'PRIVATE KEY'), PKCS8_PREFIX);
    if (seed) return verifyKeyFromPublic(backend.ed25519PublicKey(seed), backend);
    lastErr = new RecordingKeyError(`${p} holds no Ed25519 key`);
  }
  throw lastErr instanceof Error ? lastErr : new RecordingKeyError(`no recording key at ${pathOrStateDir}`);
}
