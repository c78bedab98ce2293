/**
 * `gatehouse replay FILE|SESSION-DIR|SESSION-ID [--speed N] [--idle-time-limit S] [--raw]
 *  [--channel N] [--recordings DIR]`
 * Keys while playing: space pause/resume, '.' step (paused), + / - speed, q quit.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { BinaryFileReader } from '../recording/binary-file.js';
import { parseCast } from '../recording/cast-reader.js';
import { findSessionDir } from '../recording/layout.js';
import { Player, type PlayerClock } from '../recording/player.js';

export const REPLAY_USAGE = 'usage: gatehouse replay FILE|SESSION-ID [--speed N] [--idle-time-limit S] [--raw] [--channel N] [--recordings DIR]';

export interface ReplayIo {
  readonly stdout: { write(data: string | Uint8Array): unknown };
  readonly stderr: { write(data: string): unknown };
  readonly stdin?: NodeJS.ReadStream;
  readonly clock?: PlayerClock;
}

async function castFiles(target: string, channel: number | undefined, root: string): Promise<string[]> {
  const st = await stat(target).catch(() => undefined);
  let dir: string | undefined;
  if (st?.isFile()) return [target];
  if (st?.isDirectory()) dir = target;
  else dir = await findSessionDir(root, target);
  if (!dir) throw new Error(`no recording file or session ${JSON.stringify(target)} (looked in ${root})`);
  const files = (await readdir(dir))
    .map((f) => /^channel-(\d+)\.cast$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ n: Number(m[1]), f: m[0] }))
    .filter((x) => channel === undefined || x.n === channel)
    .sort((a, b) => a.n - b.n)
    .map((x) => join(dir, x.f));
  if (files.length === 0) throw new Error(`session ${target} has no terminal recordings${channel !== undefined ? ` for channel ${channel}` : ''}`);
  return files;
}

export async function runReplay(argv: readonly string[], io: ReplayIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }): Promise<number> {
  // --recordings (and --config, GATEHOUSE_RECORDINGS) are shared settings: src/config.ts.
  const { config, rest } = loadConfig({ argv });
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        speed: { type: 'string' },
        'idle-time-limit': { type: 'string' },
        raw: { type: 'boolean', default: false },
        channel: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  }
  try {
    parsed = parse();
  } catch (e) {
    io.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${REPLAY_USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const target = positionals[0];
  if (values.help || target === undefined || positionals.length > 1) {
    io.stderr.write(`${REPLAY_USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const speed = values.speed !== undefined ? Number(values.speed) : 1;
  const idle = values['idle-time-limit'] !== undefined ? Number(values['idle-time-limit']) : undefined;
  const channel = values.channel !== undefined ? Number(values.channel) : undefined;
  if (!(speed > 0) || (idle !== undefined && !(idle > 0)) || (channel !== undefined && !Number.isInteger(channel))) {
    io.stderr.write(`invalid --speed, --idle-time-limit or --channel\n${REPLAY_USAGE}\n`);
    return 2;
  }
  let files: string[];
  try {
    files = await castFiles(target, channel, config.recordings);
  } catch (e) {
    io.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const stdin = io.stdin;
  const interactive = stdin?.isTTY === true;
  let current: Player | undefined;
  const onKeys = (d: Buffer | string): void => current?.handleKeys(d.toString());
  if (stdin && interactive) {
    stdin.setRawMode(true);
    stdin.on('data', onKeys);
    stdin.resume();
  }
  try {
    for (const f of files) {
      const cast = parseCast(await readFile(f, 'utf8'));
      const limit = idle ?? cast.header.idleTimeLimit;
      // "b-sidecar": the bytes of `b` events are in a .bin beside the cast, read by ranges as they play.
      const binary = cast.header.binaryFile !== undefined ? new BinaryFileReader(join(dirname(f), cast.header.binaryFile)) : undefined;
      current = new Player(cast.events, {
        speed: current?.currentSpeed ?? speed,
        raw: values.raw,
        write: (d) => io.stdout.write(d),
        ...(limit !== undefined ? { idleTimeLimit: limit } : {}),
        ...(io.clock ? { clock: io.clock } : {}),
        ...(binary ? { binary } : {}),
      });
      const result = await current.run().finally(() => binary?.close());
      const removed = current.sanitizerStats;
      const n = removed ? Object.values(removed).reduce((a, b) => a + b, 0) : 0;
      if (n > 0) io.stderr.write(`\r\n[gatehouse replay: ${n} terminal control sequence(s) that act on the viewer's terminal were removed; --raw keeps them]\r\n`);
      if (result === 'quit') break;
    }
  } catch (e) {
    io.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    if (stdin && interactive) {
      stdin.off('data', onKeys);
      stdin.setRawMode(false);
      stdin.pause();
    }
  }
  return 0;
}
