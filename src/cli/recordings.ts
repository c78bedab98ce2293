/**
 * `gatehouse recordings prune --older-than 90d [--recordings DIR] [--dry-run]`
 */
import { parseArgs } from 'node:util';
import { defaultRecordingsRoot } from '../recording/layout.js';
import { parseDuration, pruneRecordings } from '../recording/retention.js';

export const RECORDINGS_USAGE = 'usage: gatehouse recordings prune --older-than DURATION (e.g. 90d, 12h) [--recordings DIR] [--dry-run]';

export interface RecordingsIo {
  readonly stdout: { write(data: string): unknown };
  readonly stderr: { write(data: string): unknown };
}

export async function runRecordings(argv: readonly string[], io: RecordingsIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'prune') {
    io.stderr.write(`${RECORDINGS_USAGE}\n`);
    return 2;
  }
  let values: { 'older-than'?: string; recordings?: string; 'dry-run'?: boolean };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { 'older-than': { type: 'string' }, recordings: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
    }));
  } catch (e) {
    io.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${RECORDINGS_USAGE}\n`);
    return 2;
  }
  let ms: number;
  try {
    ms = parseDuration(values['older-than'] ?? '');
  } catch (e) {
    io.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${RECORDINGS_USAGE}\n`);
    return 2;
  }
  const root = values.recordings ?? defaultRecordingsRoot();
  const r = await pruneRecordings(root, ms, { dryRun: values['dry-run'] === true });
  for (const d of r.removed) io.stdout.write(`${values['dry-run'] ? 'would remove' : 'removed'} ${d}\n`);
  io.stdout.write(`${r.removed.length} session(s) ${values['dry-run'] ? 'to prune' : 'pruned'}, ${r.kept} kept\n`);
  return 0;
}
