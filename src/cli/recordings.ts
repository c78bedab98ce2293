/**
 * `gatehouse recordings prune --older-than 90d [--recordings DIR] [--dry-run]`
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
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
  // --recordings (and --config, GATEHOUSE_RECORDINGS) are shared settings: src/config.ts.
  const { config, rest: own } = loadConfig({ argv: rest });
  let values: { 'older-than'?: string; 'dry-run'?: boolean };
  try {
    ({ values } = parseArgs({
      args: own,
      options: { 'older-than': { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
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
  const root = config.recordings;
  const r = await pruneRecordings(root, ms, { dryRun: values['dry-run'] === true });
  for (const d of r.removed) io.stdout.write(`${values['dry-run'] ? 'would remove' : 'removed'} ${d}\n`);
  io.stdout.write(`${r.removed.length} session(s) ${values['dry-run'] ? 'to prune' : 'pruned'}, ${r.kept} kept\n`);
  return 0;
}
