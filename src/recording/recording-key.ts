/**
 * The gateway's recording key: an Ed25519 key (RFC 8032) in the state directory that signs
 * every session index. Stored as PKCS#8 PEM (`recording-key.pem`, mode 0600) with the public
 * half beside it (`recording-key.pub`, SPKI PEM) so auditors can verify without the secret.
 *
 * Uses node:crypto directly; the operations are two per session, not on any hot path.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const RECORDING_KEY_FILE = 'recording-key.pem';
export const RECORDING_PUBKEY_FILE = 'recording-key.pub';

export interface RecordingVerifyKey {
  /** "SHA256:<base64>" of the raw 32-byte public key, OpenSSH fingerprint style. */
  readonly keyId: string;
  readonly publicKey: KeyObject;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export interface RecordingKey extends RecordingVerifyKey {
  sign(message: Uint8Array): Uint8Array;
}

function rawPublic(pub: KeyObject): Uint8Array {
  // SPKI DER for Ed25519 is a fixed 12-byte prefix followed by the 32-byte key (RFC 8410).
  const der = pub.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

export function keyIdOf(pub: KeyObject): string {
  return `SHA256:${createHash('sha256').update(rawPublic(pub)).digest('base64').replace(/=+$/, '')}`;
}

export function verifyKeyFromPublic(publicKey: KeyObject): RecordingVerifyKey {
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error('recording key must be ed25519');
  return {
    keyId: keyIdOf(publicKey),
    publicKey,
    verify: (m, s) => verify(null, m, publicKey, s),
  };
}

export function recordingKeyFromPrivate(privateKey: KeyObject): RecordingKey {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('recording key must be ed25519');
  const publicKey = createPublicKey(privateKey);
  return { ...verifyKeyFromPublic(publicKey), sign: (m) => sign(null, m, privateKey) };
}

/** Loads the key from `stateDir`, creating it (0600) if it does not exist. */
export async function loadOrCreateRecordingKey(stateDir: string): Promise<RecordingKey> {
  const path = join(stateDir, RECORDING_KEY_FILE);
  try {
    return recordingKeyFromPrivate(createPrivateKey(await readFile(path, 'utf8')));
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw e;
  }
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
  // 'wx' so two processes racing cannot overwrite each other's key.
  try {
    await writeFile(path, pem, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as { code?: unknown }).code === 'EEXIST') return recordingKeyFromPrivate(createPrivateKey(await readFile(path, 'utf8')));
    throw e;
  }
  await chmod(path, 0o600);
  await writeFile(join(stateDir, RECORDING_PUBKEY_FILE), publicKey.export({ format: 'pem', type: 'spki' }), { mode: 0o644 });
  return recordingKeyFromPrivate(privateKey);
}

/** Loads the public key for verification: `recording-key.pub`, or derived from the private key. */
export async function loadRecordingVerifyKey(pathOrStateDir: string): Promise<RecordingVerifyKey> {
  const candidates = pathOrStateDir.endsWith('.pub') || pathOrStateDir.endsWith('.pem')
    ? [pathOrStateDir]
    : [join(pathOrStateDir, RECORDING_PUBKEY_FILE), join(pathOrStateDir, RECORDING_KEY_FILE)];
  let lastErr: unknown;
  for (const p of candidates) {
    try {
      return verifyKeyFromPublic(createPublicKey(await readFile(p, 'utf8')));
    } catch (e) {
      lastErr = e;
    }
  }
  throw lastErr instanceof Error ? lastErr : new Error(`no recording key at ${pathOrStateDir}`);
}
