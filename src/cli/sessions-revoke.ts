/**
 * `gatehouse sessions revoke-key FINGERPRINT [--state-dir DIR] [--config FILE]`
 * Ends the OIDC key binding of one public key (made by a device-flow sign-in), so the next
 * connection with that key needs a browser sign-in again. FINGERPRINT as `ssh-keygen -l`
 * prints it ("SHA256:…"). Exit 0 revoked, 1 no such binding, 2 usage errors.
 */

import { parseOidcConfig } from '../oidc/config.js';
import { isFingerprint, KeyBindingStore } from '../oidc/key-binding-store.js';
import { type ConfiguredIo, loadCommandConfig } from './io.js';

export const REVOKE_KEY_USAGE = 'usage: gatehouse sessions revoke-key SHA256:FINGERPRINT [--state-dir DIR] [--config FILE]';

export type RevokeIo = ConfiguredIo;

/** `argv` is what follows `sessions revoke-key`. */
export async function runSessionsRevokeKey(argv: readonly string[], io: RevokeIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const loaded = loadCommandConfig(argv, io);
  if (loaded === undefined) return 2;
  const [fingerprint, ...extra] = loaded.rest;
  if (fingerprint === undefined || extra.length > 0 || fingerprint === '--help' || fingerprint === '-h') {
    io.stderr.write(`${REVOKE_KEY_USAGE}\n`);
    return fingerprint === '--help' || fingerprint === '-h' ? 0 : 2;
  }
  if (!isFingerprint(fingerprint)) {
    io.stderr.write(`not a SHA256 key fingerprint: ${fingerprint.slice(0, 80)} (see ssh-keygen -l -f KEY.pub)\n`);
    return 2;
  }
  let ttlSeconds = 8 * 3600;
  try {
    if (loaded.config.oidc !== null) ttlSeconds = parseOidcConfig(loaded.config.oidc).keyBindingTtlSeconds;
  } catch {
    // The TTL does not matter for a revocation; a broken oidc section must not block it.
  }
  const store = new KeyBindingStore({ stateDir: loaded.config.stateDir, ttlSeconds });
  try {
    if (await store.revokeKey(fingerprint)) {
      io.stdout.write(`revoked the key binding of ${fingerprint}\n`);
      return 0;
    }
    io.stdout.write(`no live key binding for ${fingerprint}\n`);
    return 1;
  } catch (e) {
    io.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
}
