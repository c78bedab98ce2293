/**
 * Read side of the store for the admin UI and CLI: list recorded sessions with their index
 * summary, newest first. Reads only index.json files (bounded size), never the recordings.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { INDEX_FILE, listSessionDirs } from './layout.js';
import { INDEX_FORMAT, type SessionIndex } from './session-index.js';

const MAX_INDEX_BYTES = 16 * 1024 * 1024;

export interface RecordedSession {
  readonly sessionId: string;
  readonly dir: string;
  /** undefined when the index is missing or unreadable (listed so nothing hides). */
  readonly index?: SessionIndex;
  readonly problem?: string;
}

export async function readSessionIndex(dir: string): Promise<SessionIndex> {
  const path = join(dir, INDEX_FILE);
  const st = await stat(path);
  if (st.size > MAX_INDEX_BYTES) throw new Error(`${path} is larger than ${MAX_INDEX_BYTES} bytes`);
  const v = JSON.parse(await readFile(path, 'utf8')) as Partial<SessionIndex> | null;
  if (!v || v.format !== INDEX_FORMAT || typeof v.sessionId !== 'string' || !Array.isArray(v.channels)) {
    throw new Error(`${path} is not a session index`);
  }
  return v as SessionIndex;
}

export async function listRecordedSessions(root: string, opts: { limit?: number } = {}): Promise<RecordedSession[]> {
  const dirs = (await listSessionDirs(root)).reverse();
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  const out: RecordedSession[] = [];
  for (const d of dirs) {
    if (out.length >= limit) break;
    try {
      out.push({ sessionId: d.sessionId, dir: d.dir, index: await readSessionIndex(d.dir) });
    } catch (e) {
      out.push({ sessionId: d.sessionId, dir: d.dir, problem: e instanceof Error ? e.message : String(e) });
    }
  }
  // Same day: newest start first.
  return out.sort((a, b) => (b.index?.start ?? '').localeCompare(a.index?.start ?? ''));
}
