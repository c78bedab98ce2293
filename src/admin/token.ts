/**
 * The admin API token: 32 random bytes, generated into the state directory on first start
 * (mode 0600, created exclusively so two starting processes cannot both write one), and sent
 * by clients as `Authorization: Bearer <token>`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ADMIN_TOKEN_FILE = 'admin.token';

export function adminTokenPath(stateDir: string): string {
  return join(stateDir, ADMIN_TOKEN_FILE);
}

/** Reads the token, creating the state directory (0700) and the token file (0600) if missing. */
export function loadOrCreateAdminToken(stateDir: string): string {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = adminTokenPath(stateDir);
  try {
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST')) throw e;
  }
  // A token readable by others is not a secret: tighten it rather than trust it.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 16) throw new Error(`${file} holds no usable token; delete it to generate a new one`);
  return token;
}

/** Reads an existing token (for CLI clients); undefined when there is none. */
export function readAdminToken(stateDir: string): string | undefined {
  try {
    const token = readFileSync(adminTokenPath(stateDir), 'utf8').trim();
    return token.length > 0 ? token : undefined;
  } catch {
    return undefined;
  }
}

/** Checks an Authorization header against the token in constant time. */
export function isAuthorized(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m?.[1]) return false;
  const given = Buffer.from(m[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
