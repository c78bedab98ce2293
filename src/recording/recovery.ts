/**
 * Sealing sessions the gateway could not finish (crash, kill -9, power loss). Called at
 * start-up, before any session is accepted, so every index still marked `open` belongs to a
 * dead process. For each such session the files are taken as they are on disk: an incomplete
 * final line (a write cut short) is truncated away and recorded, the chain sidecars are
 * completed for lines written after the last chained flush, and the index is rewritten with the
 * resulting seals, state `interrupted`, and signed. From then on `gatehouse verify` detects any
 * change, exactly as for a session that ended normally.
 *
 * A channel's binary sidecar (channel-N.bin, "b-sidecar") is written before the cast lines that
 * refer to it, so after a crash it may hold bytes no `b` event refers to: it is truncated to the
 * end of the last `b` event left in the cast, and sealed as the index's `binary` seal.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, readFile, rename, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { BINARY_SIDECAR_SCHEME, parseBinaryRef } from './binary-ref.js';
import { CastFormatError, mayBeBinaryEventLine, type ParsedCastHeader, parseEventLine, parseHeader } from './cast-reader.js';
import { readSessionIndex } from './catalog.js';
import { AUDIT_FILE, INDEX_FILE, listSessionDirs } from './layout.js';
import { CHAIN_SUFFIX, chainSeed, chainStep, toHex } from './line-chain.js';
import type { RecordingKey } from './recording-key.js';
import { type BinarySeal, type ChannelEntry, type FileSeal, type SessionIndex, signIndex } from './session-index.js';

async function writeAtomic(path: string, data: string): Promise<void> {
  const fh = await open(`${path}.tmp`, 'w', 0o640);
  try {
    await fh.writeFile(data);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(`${path}.tmp`, path);
}

/** Seals one file as it is on disk; returns its seal, how many bytes of a partial line were cut, and its complete lines. */
async function sealFile(dir: string, sessionId: string, file: string): Promise<{ seal: FileSeal; truncated: number; firstLine: string | undefined; lines: Buffer[] }> {
  const path = join(dir, file);
  const data = await readFile(path);
  const end = data.lastIndexOf(0x0a) + 1;
  const truncated = data.length - end;
  if (truncated > 0) await truncate(path, end);
  let chain = chainSeed(sessionId, file);
  let chainText = '';
  let lines = 0;
  let firstLine: string | undefined;
  const lineViews: Buffer[] = [];
  for (let start = 0; start < end; ) {
    const nl = data.indexOf(0x0a, start);
    const line = data.subarray(start, nl);
    lineViews.push(line);
    if (lines === 0) firstLine = line.toString('utf8');
    chain = chainStep(chain, line);
    chainText += `${toHex(chain)}\n`;
    lines++;
    start = nl + 1;
  }
  await writeAtomic(path + CHAIN_SUFFIX, chainText);
  return { seal: { file, lines, bytes: end, chainHead: toHex(chain), droppedLines: 0, droppedBytes: 0 }, truncated, firstLine, lines: lineViews };
}

/**
 * The `b` events of a "b-sidecar" cast's complete lines: how many, and where the last one ends.
 * A line that is not a valid event is skipped (verify names it); the cast is taken as it is.
 */
function referencedBinary(header: ParsedCastHeader, lines: readonly Buffer[]): { chunks: number; end: number } {
  let chunks = 0;
  let end = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? Buffer.alloc(0);
    if (!mayBeBinaryEventLine(line)) continue;
    const text = line.toString('utf8');
    if (text.trim() === '' || (header.version === 3 && text.startsWith('#'))) continue;
    try {
      const e = parseEventLine(text, i + 1, header.version, 0, BINARY_SIDECAR_SCHEME);
      const ref = e.code === 'b' ? parseBinaryRef(e.data) : undefined;
      if (ref) {
        chunks++;
        end = ref.offset + ref.length;
      }
    } catch (e) {
      if (!(e instanceof CastFormatError)) throw e;
    }
  }
  return { chunks, end };
}

/**
 * Cuts a channel's .bin back to the end of the last `b` event in its cast (bytes written just
 * before the crash, whose cast line never was) and returns its seal, or undefined when there is
 * no .bin. A .bin shorter than the events say (a failed disk) is left as it is for verify to report.
 */
async function sealBinary(dir: string, file: string, referenced: { chunks: number; end: number }): Promise<{ seal: BinarySeal; truncated: number; mtimeMs: number } | undefined> {
  const path = join(dir, file);
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  let size = st.size;
  let truncated = 0;
  if (size > referenced.end) {
    // O_NOFOLLOW: only the session's own file is cut, never what a link put in its place points to.
    const fh = await open(path, constants.O_WRONLY | constants.O_NOFOLLOW);
    try {
      await fh.truncate(referenced.end);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    truncated = size - referenced.end;
    size = referenced.end;
  }
  return { seal: { file, chunks: referenced.chunks, bytes: size }, truncated, mtimeMs: st.mtimeMs };
}

export async function sealInterruptedSession(dir: string, key: RecordingKey): Promise<SessionIndex> {
  const index = await readSessionIndex(dir);
  const files = await readdir(dir);
  const truncatedFiles: { file: string; bytes: number }[] = [];
  const channels = new Map<number, ChannelEntry>(index.channels.map((c) => [c.channel, c]));
  let newest = Date.parse(index.start);
  for (const f of files) {
    const m = /^channel-(\d+)\.cast$/.exec(f);
    if (!m) continue;
    newest = Math.max(newest, (await stat(join(dir, f))).mtimeMs);
    const { seal: castSeal, truncated, firstLine, lines } = await sealFile(dir, index.sessionId, f);
    if (truncated > 0) truncatedFiles.push({ file: f, bytes: truncated });
    let header: ParsedCastHeader | undefined;
    try {
      header = firstLine !== undefined ? parseHeader(firstLine) : undefined;
    } catch {
      header = undefined;
    }
    let binary: BinarySeal | undefined;
    if (header?.binaryFile !== undefined) {
      const b = await sealBinary(dir, header.binaryFile, referencedBinary(header, lines));
      if (b) {
        binary = b.seal;
        newest = Math.max(newest, b.mtimeMs);
        if (b.truncated > 0) truncatedFiles.push({ file: header.binaryFile, bytes: b.truncated });
      }
    }
    const seal = binary ? { ...castSeal, binary } : castSeal;
    const n = Number(m[1]);
    const known = channels.get(n);
    if (known) {
      // The fresh seal replaces the open index's, including any `binary` seal it had.
      channels.set(n, { ...known, recording: { ...seal, droppedLines: known.recording?.droppedLines ?? 0, droppedBytes: known.recording?.droppedBytes ?? 0 } });
    } else {
      // The channel opened just before the crash, before the index was rewritten: describe it from its header.
      channels.set(n, {
        channel: n,
        kind: header?.command !== undefined ? 'exec' : 'shell',
        pty: header?.term !== undefined,
        ...(header?.command !== undefined ? { command: header.command } : {}),
        start: index.start,
        bytesOut: 0,
        bytesIn: 0,
        recording: seal,
      });
    }
  }
  let audit = index.audit;
  if (files.includes(AUDIT_FILE)) {
    newest = Math.max(newest, (await stat(join(dir, AUDIT_FILE))).mtimeMs);
    const r = await sealFile(dir, index.sessionId, AUDIT_FILE);
    if (r.truncated > 0) truncatedFiles.push({ file: AUDIT_FILE, bytes: r.truncated });
    audit = { ...r.seal, droppedLines: index.audit?.droppedLines ?? 0, droppedBytes: index.audit?.droppedBytes ?? 0 };
  }
  const now = new Date().toISOString();
  const { signature: _unsigned, ...rest } = index;
  const sealed = signIndex(
    {
      ...rest,
      state: 'interrupted',
      end: index.end ?? new Date(newest).toISOString(),
      channels: [...channels.values()].sort((a, b) => a.channel - b.channel),
      ...(audit ? { audit } : {}),
      recovery: { at: now, truncated: truncatedFiles },
    },
    key,
  );
  await writeAtomic(join(dir, INDEX_FILE), `${JSON.stringify(sealed, null, 2)}\n`);
  return sealed;
}

/**
 * Seals every session still marked `open` under `root`. Call only when no session is live
 * (gateway start-up). Returns the sealed sessions and the ones that could not be sealed.
 */
export async function sealInterruptedSessions(root: string, key: RecordingKey): Promise<{ sealed: string[]; failed: { dir: string; error: string }[] }> {
  const sealed: string[] = [];
  const failed: { dir: string; error: string }[] = [];
  for (const s of await listSessionDirs(root)) {
    let state: string | undefined;
    try {
      state = (await readSessionIndex(s.dir)).state;
    } catch {
      continue; // no readable index: verify reports it; nothing to seal from
    }
    if (state !== 'open') continue;
    try {
      await sealInterruptedSession(s.dir, key);
      sealed.push(s.dir);
    } catch (e) {
      failed.push({ dir: s.dir, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return { sealed, failed };
}
