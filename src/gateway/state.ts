/**
 * The gateway's state directory: its host key, the user and host CAs and the recording key,
 * each created on first start (mode 0600) so `npm start` needs no set-up step.
 */
import { constants } from 'node:fs';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type CertificateAuthority, loadOrCreateCa } from '../ca/index.js';
import { generatePrivateKey, parsePrivateKey, type PrivateKey, serializeOpenSshPrivateKey } from '../keys/index.js';
import { loadOrCreateRecordingKey, type RecordingKey } from '../recording/index.js';
import { createHostKeySigner } from '../keys/index.js';
import type { HostKeySigner } from '../transport/host-key.js';

export const HOST_KEY_FILE = 'ssh_host_ed25519_key';

export interface GatewayState {
  readonly dir: string;
  readonly hostKey: PrivateKey;
  readonly userCa: CertificateAuthority;
  readonly hostCa: CertificateAuthority;
  readonly recordingKey: RecordingKey;
}

export async function loadGatewayState(dir: string): Promise<GatewayState> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const hostKey = await loadOrCreateHostKey(join(dir, HOST_KEY_FILE));
  const [userCa, hostCa, recordingKey] = await Promise.all([
    loadOrCreateCa(dir, 'user'),
    loadOrCreateCa(dir, 'host'),
    loadOrCreateRecordingKey(dir),
  ]);
  return { dir, hostKey, userCa, hostCa, recordingKey };
}

async function loadOrCreateHostKey(path: string): Promise<PrivateKey> {
  try {
    const info = await stat(path);
    if ((info.mode & 0o077) !== 0) await chmod(path, 0o600);
    return parsePrivateKey(await readFile(path, 'utf8'));
  } catch (e) {
    if (!(e instanceof Error && 'code' in e && e.code === 'ENOENT')) throw e;
  }
  const key = generatePrivateKey('ssh-ed25519', undefined, `gatehouse@${hostname()}`);
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await fh.writeFile(serializeOpenSshPrivateKey(key, { comment: key.comment }));
  } finally {
    await fh.close();
  }
  return key;
}

/**
 * The host key as presented for `names`: a host certificate from the gateway host CA first
 * (so a client with `@cert-authority * <host CA>` in known_hosts needs no prompt), then the
 * plain key.
 */
export function hostKeySignerFor(state: GatewayState, names: readonly string[]): HostKeySigner {
  const cert = state.hostCa.issueHostCertificate({ publicKey: state.hostKey.publicKeyBlob, names: [...new Set(names)] });
  return createHostKeySigner(state.hostKey, cert.blob);
}
