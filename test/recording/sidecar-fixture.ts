/**
 * Hand-built "b-sidecar" sessions (FORMAT.md): channel-0.cast whose `b` events refer to
 * channel-0.bin by `"<offset>+<length>:<sha256>"`, its chain sidecar, and a signed index whose
 * recording seal carries the `binary` seal. Written without the recorder so the readers can be
 * tested on exactly the bytes the spec describes (and on deliberately wrong ones).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chainSeed, chainStep, toHex } from '../../src/recording/line-chain.js';
import { type BinarySeal, type ChannelRecordingSeal, INDEX_FORMAT, type SessionIndex, signIndex } from '../../src/recording/session-index.js';
import { testKey } from './helpers.js';

export type FixtureEvent =
  | { readonly t: number; readonly o: string }
  | {
      readonly t: number;
      readonly b: Uint8Array;
      /** Written as the event's data instead of the true reference (to build wrong casts). */
      readonly ref?: string;
    };

export interface FixtureOptions {
  readonly events: readonly FixtureEvent[];
  readonly sessionId?: string;
  readonly version?: 2 | 3;
  /** Bytes written to the .bin after the referenced ones (a crash between the .bin and the cast). */
  readonly extraBin?: Uint8Array;
  /** Replaces the binary seal in the index (null: none). */
  readonly binarySeal?: BinarySeal | null;
  /** Leaves the index open and unsigned (a gateway that died mid-session). */
  readonly open?: boolean;
  /** Writes no .bin at all. */
  readonly noBin?: boolean;
  readonly binaryFile?: string;
  /** Recording failures listed in the index. */
  readonly failures?: SessionIndex['failures'];
}

export interface Fixture {
  readonly root: string;
  readonly dir: string;
  readonly sessionId: string;
  readonly cast: string;
  readonly bin: string;
  /** The referenced bytes, in order. */
  readonly bytes: Buffer;
  /** The cast's lines (without newlines), header first. */
  readonly lines: readonly string[];
}

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function castHeader(sessionId: string, version: 2 | 3 = 2, binaryFile = 'channel-0.bin'): string {
  const gatehouse = { session: sessionId, channel: 0, invalid_bytes: 'pua-u10fe00', chain: 'channel-0.cast.chain', binary_output: 'b-sidecar', binary_file: binaryFile };
  return version === 2
    ? JSON.stringify({ version: 2, width: 80, height: 24, timestamp: 1_700_000_000, command: 'cat backup.tgz', env: {}, gatehouse })
    : JSON.stringify({ version: 3, term: { cols: 80, rows: 24 }, timestamp: 1_700_000_000, command: 'cat backup.tgz', gatehouse });
}

/** Writes a cast and its chain sidecar; returns the seal of the cast (without `binary`). */
export async function writeChainedCast(dir: string, sessionId: string, lines: readonly string[]): Promise<ChannelRecordingSeal> {
  const text = `${lines.join('\n')}\n`;
  await writeFile(join(dir, 'channel-0.cast'), text);
  let c: Uint8Array = chainSeed(sessionId, 'channel-0.cast');
  let chain = '';
  for (const l of lines) {
    c = chainStep(c, Buffer.from(l, 'utf8'));
    chain += `${toHex(c)}\n`;
  }
  await writeFile(join(dir, 'channel-0.cast.chain'), chain);
  return { file: 'channel-0.cast', lines: lines.length, bytes: Buffer.byteLength(text), chainHead: toHex(c), droppedLines: 0, droppedBytes: 0 };
}

export async function writeSidecarSession(root: string, opts: FixtureOptions): Promise<Fixture> {
  const sessionId = opts.sessionId ?? `s${Math.random().toString(36).slice(2, 10)}`;
  const version = opts.version ?? 2;
  const binaryFile = opts.binaryFile ?? 'channel-0.bin';
  const dir = join(root, '2026', '12', '02', sessionId);
  await mkdir(dir, { recursive: true });
  const lines = [castHeader(sessionId, version, binaryFile)];
  const chunks: Buffer[] = [];
  let offset = 0;
  let prevT = 0;
  let chunkCount = 0;
  for (const e of opts.events) {
    const t = version === 2 ? e.t : e.t - prevT;
    prevT = e.t;
    if ('o' in e) lines.push(JSON.stringify([Number(t.toFixed(6)), 'o', e.o]));
    else {
      const ref = e.ref ?? `${offset}+${e.b.length}:${sha256Hex(e.b)}`;
      lines.push(JSON.stringify([Number(t.toFixed(6)), 'b', ref]));
      chunks.push(Buffer.from(e.b));
      offset += e.b.length;
      chunkCount++;
    }
  }
  const bytes = Buffer.concat(chunks);
  const bin = join(dir, binaryFile);
  if (!opts.noBin) await writeFile(bin, Buffer.concat([bytes, opts.extraBin ?? new Uint8Array(0)]));
  const castSeal = await writeChainedCast(dir, sessionId, lines);
  const binary = opts.binarySeal === null ? undefined : (opts.binarySeal ?? (opts.noBin ? undefined : { file: binaryFile, chunks: chunkCount, bytes: bytes.length }));
  const index: SessionIndex = {
    format: INDEX_FORMAT,
    sessionId,
    state: opts.open ? 'open' : 'closed',
    who: { identity: 'alice@example.com', authMethod: 'publickey', clientAddress: '127.0.0.1' },
    target: { host: 'db1', port: 22, login: 'root' },
    start: '2026-12-02T10:00:00.000Z',
    ...(opts.open ? {} : { end: '2026-12-02T10:01:00.000Z' }),
    asciicastVersion: version,
    inputRecorded: false,
    channels: [
      {
        channel: 0,
        kind: 'exec',
        pty: false,
        command: 'cat backup.tgz',
        start: '2026-12-02T10:00:00.000Z',
        bytesOut: bytes.length,
        bytesIn: 0,
        ...(opts.open ? {} : { recording: { ...castSeal, ...(binary ? { binary } : {}) } }),
      },
    ],
    forwards: [],
    failures: opts.failures ?? [],
  };
  const { key } = await testKey();
  const written = opts.open ? index : signIndex(index, key);
  await writeFile(join(dir, 'index.json'), `${JSON.stringify(written, null, 2)}\n`);
  return { root, dir, sessionId, cast: join(dir, 'channel-0.cast'), bin, bytes, lines };
}

/** Rewrites index.json with `edit` applied to channel 0's recording seal, signed again. */
export async function resealChannel(dir: string, edit: (seal: ChannelRecordingSeal) => ChannelRecordingSeal): Promise<void> {
  const path = join(dir, 'index.json');
  const index = JSON.parse(await readFile(path, 'utf8')) as SessionIndex;
  const { signature: _old, ...rest } = index;
  const channels = index.channels.map((c) => (c.channel === 0 && c.recording ? { ...c, recording: edit(c.recording) } : c));
  const { key } = await testKey();
  await writeFile(path, `${JSON.stringify(signIndex({ ...rest, channels }, key), null, 2)}\n`);
}
