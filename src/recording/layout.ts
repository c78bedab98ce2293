/**
 * Recording store layout: recordings/YYYY/MM/DD/<session-id>/ holding index.json,
 * channel-N.cast (+ .chain), audit.jsonl (+ .chain). Dates are UTC.
 */
import { mkdirSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const INDEX_FILE = 'index.json';
export const AUDIT_FILE = 'audit.jsonl';

export function channelFileName(channel: number): string {
  return `channel-${channel}.cast`;
}

/** Session ids become directory names: keep them to a safe alphabet. */
export function isSafeSessionId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id) && !id.includes('..');
}

export function sessionDir(root: string, sessionId: string, start: Date): string {
  if (!isSafeSessionId(sessionId)) throw new Error(`unsafe session id ${JSON.stringify(sessionId)}`);
  const y = String(start.getUTCFullYear()).padStart(4, '0');
  const m = String(start.getUTCMonth() + 1).padStart(2, '0');
  const d = String(start.getUTCDate()).padStart(2, '0');
  return join(root, y, m, d, sessionId);
}

async function listDirs(dir: string, pattern: RegExp): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && pattern.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** Every session directory under `root`, oldest day first. */
export async function listSessionDirs(root: string): Promise<{ dir: string; day: Date; sessionId: string }[]> {
  const out: { dir: string; day: Date; sessionId: string }[] = [];
  for (const y of await listDirs(root, /^\d{4}$/)) {
    for (const m of await listDirs(join(root, y), /^\d{2}$/)) {
      for (const d of await listDirs(join(root, y, m), /^\d{2}$/)) {
        const day = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
        for (const s of await listDirs(join(root, y, m, d), /^[A-Za-z0-9][A-Za-z0-9._-]*$/)) {
          out.push({ dir: join(root, y, m, d, s), day, sessionId: s });
        }
      }
    }
  }
  return out;
}

/** Finds a session directory by id (newest day wins if the id repeats). */
export async function findSessionDir(root: string, sessionId: string): Promise<string | undefined> {
  if (!isSafeSessionId(sessionId)) return undefined;
  const all = await listSessionDirs(root);
  for (let i = all.length - 1; i >= 0; i--) {
    const s = all[i];
    if (s && s.sessionId === sessionId) {
      const st = await stat(s.dir).catch(() => undefined);
      if (st?.isDirectory()) return s.dir;
    }
  }
  return undefined;
}

/**
 * mkdir -p that reports the real cause: Node's recursive mkdir turns EROFS/EACCES on an
 * ancestor into ENOENT, which would hide "read-only file system" from the operator. Blocking:
 * it runs in the recording I/O worker (record-io.ts), on the gateway thread only without one.
 */
export function ensureDirSync(path: string, mode = 0o750): void {
  try {
    mkdirSync(path, { mode });
    return;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'EEXIST') {
      if (statSync(path).isDirectory()) return;
      throw e;
    }
    if (code !== 'ENOENT' || dirname(path) === path) throw e;
  }
  ensureDirSync(dirname(path), mode);
  try {
    mkdirSync(path, { mode });
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'EEXIST') throw e;
  }
}
