/**
 * `gatehouse recordings prune --older-than 90d [--recordings DIR] [--dry-run]`
 * `gatehouse recordings list [--limit N] [--recordings DIR]`
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { listRecordedSessions } from '../recording/catalog.js';
import { parseDuration, pruneRecordings } from '../recording/retention.js';

export const RECORDINGS_USAGE = [
  'usage: gatehouse recordings prune --older-than DURATION (e.g. 90d, 12h) [--recordings DIR] [--dry-run]',
  '       gatehouse recordings list [--limit N] [--recordings DIR]',
].join('\n');

export interface RecordingsIo {
  readonly stdout: { write(data: string): unknown };
  readonly stderr: { write(data: string): unknown };
}

export async function runRecordings(argv: readonly string[], io: RecordingsIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'list') return listCommand(rest, io);
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

async function listCommand(argv: string[], io: RecordingsIo): Promise<number> {
  const { config, rest } = loadConfig({ argv });
  let limit: number | undefined;
  try {
    const { values } = parseArgs({ args: rest, options: { limit: { type: 'string' } } });
    limit = values.limit !== undefined ? Number(values.limit) : undefined;
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new Error('--limit must be a positive integer');
  } catch (e) {
    io.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${RECORDINGS_USAGE}\n`);
    return 2;
  }
  for (const s of await listRecordedSessions(config.recordings, limit !== undefined ? { limit } : {})) {
    const i = s.index;
    if (!i) {
      io.stdout.write(`${s.sessionId}\t?\t${s.problem ?? ''}\n`);
      continue;
    }
    const kinds = i.channels.map((c) => (c.kind === 'exec' ? `exec(${c.command ?? ''})` : c.kind === 'subsystem' ? (c.subsystem ?? 'subsystem') : 'shell')).join(',');
    io.stdout.write(`${s.sessionId}\t${i.start}\t${i.who.identity} -> ${i.target.login}@${i.target.host}:${i.target.port}\t${i.state}${i.signature ? ', signed' : ''}\t${kinds}\n`);
  }
  return 0;
}
