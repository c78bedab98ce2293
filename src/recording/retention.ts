/**
 * Retention: `pruneRecordings(root, olderThanMs)` deletes session directories whose newest
 * activity (signed end time, else the newest file modification) is older than the cutoff,
 * then removes day/month/year directories left empty. A live session keeps touching its
 * files, so it is never pruned.
 */
import { readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { INDEX_FILE, listSessionDirs } from './layout.js';

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

/** Parses "90d", "12h", "30m", "45s", "2w" into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  const unit = m?.[2] !== undefined ? UNITS[m[2]] : undefined;
  if (!m || unit === undefined) throw new DurationError(`invalid duration ${JSON.stringify(text)} (use e.g. 90d, 12h, 30m)`);
  return Number(m[1]) * unit;
}

async function lastActivity(dir: string): Promise<number> {
  let newest = 0;
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const st = await stat(join(dir, f)).catch(() => undefined);
    if (st) newest = Math.max(newest, st.mtimeMs);
  }
  try {
    const idx = JSON.parse(await readFile(join(dir, INDEX_FILE), 'utf8')) as { end?: unknown };
    if (typeof idx.end === 'string') {
      const t = Date.parse(idx.end);
      if (Number.isFinite(t)) newest = Math.max(newest, t);
    }
  } catch {
    // no or unreadable index: modification times decide
  }
  return newest;
}

export interface PruneResult {
  readonly removed: readonly string[];
  readonly kept: number;
}

export async function pruneRecordings(root: string, olderThanMs: number, opts: { now?: number; dryRun?: boolean } = {}): Promise<PruneResult> {
  if (!(olderThanMs > 0)) throw new DurationError('retention must be positive');
  const cutoff = (opts.now ?? Date.now()) - olderThanMs;
  const removed: string[] = [];
  let kept = 0;
  for (const s of await listSessionDirs(root)) {
    if ((await lastActivity(s.dir)) < cutoff) {
      if (!opts.dryRun) await rm(s.dir, { recursive: true, force: true });
      removed.push(s.dir);
    } else kept++;
  }
  if (!opts.dryRun) {
    const parents = new Set(removed.map((d) => dirname(d)));
    for (const day of parents) {
      // rmdir only succeeds on empty directories, which is exactly the intent.
      for (let d = day, i = 0; i < 3; i++, d = dirname(d)) {
        try {
          await rmdir(d);
        } catch {
          break;
        }
      }
    }
  }
  return { removed, kept };
}
