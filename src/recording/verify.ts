/**
 * `gatehouse verify`: checks a session (or a whole recordings tree) for tampering.
 *
 * For each recording file the chain is recomputed from the bytes on disk and compared with
 * the `.chain` sidecar, which names the first line that was changed, removed, inserted or
 * appended; the final chain value and line count are then compared with the seal in the
 * signed index, which catches a sidecar rewritten to match. The index signature is checked
 * against the trusted recording key (not against anything stored beside the recording).
 *
 * A cast with `binary_output: "b-sidecar"` keeps the bytes of its `b` events in a .bin file
 * with no chain of its own: each event names the range and SHA-256 of its bytes, so the .bin is
 * checked by hashing every range (read in bounded pieces: a .bin can exceed memory), by the
 * ranges following each other from byte 0, by its size, and by the `binary` seal in the index.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BinaryFileError, BinaryFileReader } from './binary-file.js';
import { BINARY_SIDECAR_SCHEME, isSafeBinaryFileName, parseBinaryRef } from './binary-ref.js';
import { CastFormatError, mayBeBinaryEventLine, type ParsedCastHeader, parseEventLine, parseHeader } from './cast-reader.js';
import { AUDIT_FILE, INDEX_FILE, listSessionDirs } from './layout.js';
import { CHAIN_SUFFIX, chainSeed, chainStep, toHex } from './line-chain.js';
import type { RecordingVerifyKey } from './recording-key.js';
import { type ChannelRecordingSeal, checkIndexSignature, type FileSeal, INDEX_FORMAT, type SessionIndex } from './session-index.js';

export type VerifyProblemKind =
  | 'changed'
  | 'removed'
  | 'inserted'
  | 'appended'
  | 'unchained'
  | 'truncated'
  | 'seal-mismatch'
  | 'missing-file'
  | 'unexpected-file'
  | 'missing-index'
  | 'bad-index'
  | 'unsealed'
  | 'signature';

export interface VerifyProblem {
  readonly kind: VerifyProblemKind;
  readonly file: string;
  /** 1-based line number in `file`, when it can be named. */
  readonly line?: number;
  readonly message: string;
}

export interface SessionVerifyResult {
  readonly dir: string;
  readonly sessionId: string;
  readonly sealed: boolean;
  /** The index state: `interrupted` sessions were sealed by recovery after a crash. */
  readonly state?: SessionIndex['state'];
  readonly files: readonly { file: string; lines: number }[];
  readonly problems: readonly VerifyProblem[];
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly sessions: readonly SessionVerifyResult[];
}

/** Splits on '\n'; returns complete lines as byte views and the size of an unterminated tail. */
function byteLines(buf: Buffer): { lines: Buffer[]; tail: number } {
  const lines: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    if (nl === -1) break;
    lines.push(buf.subarray(start, nl));
    start = nl + 1;
  }
  return { lines, tail: buf.length - start };
}

function hexToBytes(h: string): Uint8Array | undefined {
  return /^[0-9a-f]{64}$/.test(h) ? Buffer.from(h, 'hex') : undefined;
}

function eq(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Checks one chained file; returns its line count and problems (first divergence only). */
export async function verifyChainedFile(
  dir: string,
  file: string,
  sessionId: string,
  seal: FileSeal | undefined,
  /** The index says the session never ended (crash or kill -9): an unchained tail is expected. */
  interrupted = false,
): Promise<{ lines: number; problems: VerifyProblem[] }> {
  const r = await checkChainedFile(dir, file, sessionId, seal, interrupted);
  return { lines: r.lines.length, problems: r.problems };
}

/** verifyChainedFile, also returning the complete lines (views of the file) for the cast checks. */
async function checkChainedFile(
  dir: string,
  file: string,
  sessionId: string,
  seal: FileSeal | undefined,
  interrupted: boolean,
): Promise<{ lines: Buffer[]; problems: VerifyProblem[] }> {
  const problems: VerifyProblem[] = [];
  let data: Buffer;
  try {
    data = await readFile(join(dir, file));
  } catch {
    return { lines: [], problems: [{ kind: 'missing-file', file, message: `${file} is missing` }] };
  }
  const { lines, tail } = byteLines(data);
  let stored: (Uint8Array | undefined)[] = [];
  try {
    const text = await readFile(join(dir, file + CHAIN_SUFFIX), 'latin1');
    stored = byteLines(Buffer.from(text, 'latin1')).lines.map((l) => hexToBytes(l.toString('latin1')));
  } catch {
    problems.push({ kind: 'missing-file', file: file + CHAIN_SUFFIX, message: `${file}${CHAIN_SUFFIX} is missing; lines cannot be localized` });
  }
  const seed = chainSeed(sessionId, file);
  const computed: Uint8Array[] = [];
  let prev: Uint8Array = seed;
  for (const l of lines) {
    prev = chainStep(prev, l);
    computed.push(prev);
  }
  const storedAt = (i: number): Uint8Array | undefined => (i < 0 ? seed : stored[i]);
  const sidecarOk = problems.length === 0;
  if (sidecarOk) {
    const common = Math.min(lines.length, stored.length);
    let k = 0;
    while (k < common && eq(computed[k], stored[k])) k++;
    if (k < common) {
      // Line k+1 (1-based) is the first that does not match. Classify by resynchronizing.
      const line = lines[k] ?? Buffer.alloc(0);
      const next = lines[k + 1];
      if (lines.length < stored.length && eq(chainStep(storedAt(k) ?? seed, line), storedAt(k + 1))) {
        problems.push({ kind: 'removed', file, line: k + 1, message: `${file}: line ${k + 1} was removed` });
      } else if (next !== undefined && eq(chainStep(storedAt(k - 1) ?? seed, next), storedAt(k)) && lines.length > stored.length) {
        problems.push({ kind: 'inserted', file, line: k + 1, message: `${file}: line ${k + 1} was inserted` });
      } else {
        problems.push({ kind: 'changed', file, line: k + 1, message: `${file}: line ${k + 1} was changed` });
      }
    } else if (lines.length > stored.length && interrupted) {
      problems.push({ kind: 'unchained', file, line: k + 1, message: `${file}: lines ${k + 1}-${lines.length} were written but not chained before the gateway stopped` });
    } else if (lines.length > stored.length) {
      problems.push({ kind: 'appended', file, line: k + 1, message: `${file}: line ${k + 1} was appended after the last chained line ${k}` });
    } else if (lines.length < stored.length) {
      problems.push({ kind: 'removed', file, line: k + 1, message: `${file}: line ${k + 1} (and any after it) was removed` });
    }
  }
  if (tail > 0) problems.push({ kind: 'truncated', file, line: lines.length + 1, message: `${file}: line ${lines.length + 1} is incomplete (${tail} bytes without newline)` });
  if (seal && problems.length === 0) {
    const head = seal.lines === 0 ? seed : computed[seal.lines - 1];
    if (lines.length > seal.lines && eq(head, hexToBytes(seal.chainHead))) {
      problems.push({ kind: 'appended', file, line: seal.lines + 1, message: `${file}: line ${seal.lines + 1} was appended after the sealed end` });
    } else if (lines.length !== seal.lines || !eq(head, hexToBytes(seal.chainHead))) {
      problems.push({
        kind: 'seal-mismatch',
        file,
        message: `${file}: ${lines.length} lines with chain head ${toHex(computed[lines.length - 1] ?? seed).slice(0, 16)}…, but the signed index seals ${seal.lines} lines with ${seal.chainHead.slice(0, 16)}… (file and sidecar rewritten)`,
      });
    }
  }
  return { lines, problems };
}

/** Whether a header line asks for "b-sidecar", even when it fails to parse as a whole. */
function claimsSidecar(line: Buffer): boolean {
  try {
    const h = JSON.parse(line.toString('utf8')) as { gatehouse?: { binary_output?: unknown } } | null;
    return h?.gatehouse?.binary_output === BINARY_SIDECAR_SCHEME;
  } catch {
    return false;
  }
}

function sealText(b: { file: string; chunks: number; bytes: number } | undefined): string {
  return b ? `${b.file} with ${b.chunks} chunk(s) of ${b.bytes} bytes` : 'no binary file';
}

/**
 * The binary sidecar of a cast (`binary_output: "b-sidecar"`, FORMAT.md), given the cast's
 * complete lines: every `b` event a reference, the references contiguous from byte 0, each range
 * hashing to its SHA-256, the .bin exactly as long as the last range's end, and the index's
 * `binary` seal (when the index is signed) matching. Returns the .bin's name (so it is not an
 * unexpected file) and the problems: the first wrong event only, like the chain check.
 * Casts without "b-sidecar" (older "b-base64" ones) have nothing to check here.
 */
async function verifyBinarySidecar(
  dir: string,
  castFile: string,
  lines: readonly Buffer[],
  seal: ChannelRecordingSeal | undefined,
  interrupted: boolean,
  /** Recording failures the index lists (SessionIndex.failures; `file` may be a path). */
  failures: SessionIndex['failures'],
): Promise<{ binaryFile?: string; problems: VerifyProblem[] }> {
  const problems: VerifyProblem[] = [];
  const first = lines[0];
  if (first === undefined) {
    // No line reached the cast (its first write failed), but the .bin of that batch may exist:
    // every byte in it is unreferenced.
    const name = seal?.binary?.file;
    if (name === undefined || !isSafeBinaryFileName(name)) return { problems };
    const size = await stat(join(dir, name)).then(
      (st) => st.size,
      () => 0,
    );
    if (size > 0) problems.push(unreferencedBinary(name, castFile, 0, size, interrupted, failures));
    return { binaryFile: name, problems };
  }
  let header: ParsedCastHeader | undefined;
  try {
    header = parseHeader(first.toString('utf8'));
  } catch (e) {
    // A header our writer never produces; only a "b-sidecar" one matters here (its .bin cannot be found).
    if (claimsSidecar(first)) problems.push({ kind: 'changed', file: castFile, line: 1, message: `${castFile}: ${e instanceof Error ? e.message : String(e)}` });
  }
  const binaryFile = header?.binaryFile;
  if (header === undefined || binaryFile === undefined) {
    if (seal?.binary && problems.length === 0) {
      problems.push({ kind: 'seal-mismatch', file: castFile, message: `${castFile}: the signed index seals ${sealText(seal.binary)}, but the cast header names no binary file` });
    }
    return { problems };
  }
  const reader = new BinaryFileReader(join(dir, binaryFile), { name: binaryFile });
  let end = 0;
  let chunks = 0;
  /** Set once a problem makes further hashing pointless (the first wrong event is named). */
  let stopHashing = false;
  try {
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] ?? Buffer.alloc(0);
      if (!mayBeBinaryEventLine(line)) continue;
      const text = line.toString('utf8');
      const lineNo = i + 1;
      if (text.trim() === '' || (header.version === 3 && text.startsWith('#'))) continue;
      let ref: ReturnType<typeof parseBinaryRef>;
      try {
        // Times do not matter here (0 for the previous one): only the code and data are used.
        const e = parseEventLine(text, lineNo, header.version, 0, BINARY_SIDECAR_SCHEME);
        if (e.code !== 'b') continue;
        ref = parseBinaryRef(e.data);
      } catch (e) {
        if (!(e instanceof CastFormatError)) throw e;
        problems.push({ kind: 'changed', file: castFile, line: lineNo, message: `${castFile}: ${e.message}` });
        return { binaryFile, problems };
      }
      if (ref === undefined) continue; // parseEventLine refused every b event that is not a reference
      if (ref.offset !== end) {
        problems.push({
          kind: 'changed',
          file: castFile,
          line: lineNo,
          message: `${castFile}: line ${lineNo}: binary (b) event refers to ${binaryFile} from byte ${ref.offset}, but the events before it end at byte ${end}`,
        });
        return { binaryFile, problems };
      }
      chunks++;
      end += ref.length;
      if (stopHashing) continue;
      const hash = createHash('sha256');
      try {
        for await (const piece of reader.range(ref.offset, ref.length)) hash.update(piece);
      } catch (e) {
        if (!(e instanceof BinaryFileError)) throw e;
        if (e.reason === 'missing') {
          problems.push({ kind: 'missing-file', file: binaryFile, message: `${e.message}; ${castFile} line ${lineNo} refers to it` });
          return { binaryFile, problems };
        }
        problems.push({ kind: 'truncated', file: binaryFile, message: `${e.message} (${castFile} line ${lineNo}): bytes were cut from its end` });
        stopHashing = true;
        continue;
      }
      if (hash.digest('hex') !== ref.sha256) {
        problems.push({
          kind: 'changed',
          file: castFile,
          line: lineNo,
          message: `${castFile}: line ${lineNo}: ${binaryFile} bytes ${ref.offset}..${ref.offset + ref.length} differ from the SHA-256 the line names`,
        });
        stopHashing = true;
      }
    }
    let size: number | undefined;
    try {
      size = await reader.size();
    } catch (e) {
      if (!(e instanceof BinaryFileError)) throw e;
      // No .bin and no b event: a channel that wrote only text never creates one.
      if (chunks > 0 && problems.length === 0) problems.push({ kind: 'missing-file', file: binaryFile, message: e.message });
    }
    if (size !== undefined && size > end) {
      problems.push(unreferencedBinary(binaryFile, castFile, end, size, interrupted, failures));
    } else if (size !== undefined && size < end && !problems.some((p) => p.kind === 'truncated')) {
      problems.push({ kind: 'truncated', file: binaryFile, message: `${binaryFile}: ${size} bytes, but the binary (b) events of ${castFile} refer to ${end}` });
    }
    if (seal && problems.length === 0) {
      const actual = size !== undefined ? { file: binaryFile, chunks, bytes: size } : undefined;
      const sealed = seal.binary;
      const same = sealed === undefined ? actual === undefined : actual !== undefined && sealed.file === actual.file && sealed.chunks === actual.chunks && sealed.bytes === actual.bytes;
      if (!same) {
        problems.push({
          kind: 'seal-mismatch',
          file: binaryFile,
          message: `${castFile}: ${sealText(actual)}, but the signed index seals ${sealText(sealed)} (file and cast rewritten)`,
        });
      }
    }
  } finally {
    await reader.close();
  }
  return { binaryFile, problems };
}

/**
 * Bytes `from..size` of a .bin that no `b` event refers to. The .bin is written before the cast
 * lines referring to it, so a writer that stopped between the two (crash, or a failed write the
 * index records) leaves such bytes behind: 'unchained'; otherwise they were added: 'appended'.
 */
function unreferencedBinary(binaryFile: string, castFile: string, from: number, size: number, interrupted: boolean, failures: SessionIndex['failures']): VerifyProblem {
  const failed = failures.find((f) => f.kind === 'write-failed' && [castFile, `${castFile}${CHAIN_SUFFIX}`, binaryFile].includes(basename(f.file)));
  const unreferenced = `${binaryFile}: bytes ${from}..${size} were written but no binary (b) event of ${castFile} refers to them`;
  if (interrupted) return { kind: 'unchained', file: binaryFile, message: `${unreferenced} (the gateway stopped before the cast line)` };
  if (failed) return { kind: 'unchained', file: binaryFile, message: `${unreferenced} (the index records that writing ${basename(failed.file)} failed: ${failed.message})` };
  return { kind: 'appended', file: binaryFile, message: `${binaryFile}: bytes ${from}..${size} are not referred to by any binary (b) event of ${castFile} (appended)` };
}

function parseIndex(text: string): SessionIndex | undefined {
  try {
    const v = JSON.parse(text) as Partial<SessionIndex> | null;
    if (!v || v.format !== INDEX_FORMAT || typeof v.sessionId !== 'string' || !Array.isArray(v.channels)) return undefined;
    return v as SessionIndex;
  } catch {
    return undefined;
  }
}

export async function verifySessionDir(dir: string, key: RecordingVerifyKey): Promise<SessionVerifyResult> {
  const problems: VerifyProblem[] = [];
  const files: { file: string; lines: number }[] = [];
  let index: SessionIndex | undefined;
  let indexText: string | undefined;
  try {
    indexText = await readFile(join(dir, INDEX_FILE), 'utf8');
  } catch {
    problems.push({ kind: 'missing-index', file: INDEX_FILE, message: `${INDEX_FILE} is missing` });
  }
  if (indexText !== undefined) {
    index = parseIndex(indexText);
    if (!index) problems.push({ kind: 'bad-index', file: INDEX_FILE, message: `${INDEX_FILE} is not a session index` });
  }
  const sessionId = index?.sessionId ?? basename(dir);
  let sealed = false;
  if (index) {
    const sig = checkIndexSignature(index, key);
    if (sig.ok) sealed = true;
    else if (sig.reason === 'unsigned') {
      problems.push({ kind: 'unsealed', file: INDEX_FILE, message: `session ${sessionId} is not sealed (still live, or the gateway stopped before it ended)` });
    } else {
      problems.push({ kind: 'signature', file: INDEX_FILE, message: `${INDEX_FILE}: ${sig.reason === 'wrong-key' ? `signed by ${index.signature?.keyId}, not by the recording key ${key.keyId}` : 'signature does not match its content'}` });
    }
  }
  // Seals are only trusted from a verified index; otherwise check the chains alone.
  const expected = new Map<string, FileSeal | undefined>();
  /** Files that are casts (checked for a binary sidecar): the channels' recordings, and casts on disk. */
  const casts = new Set<string>();
  /** The .bin files the signed index or a cast header names: never unexpected. */
  const binaries = new Set<string>();
  if (index) {
    for (const c of index.channels) {
      if (!c.recording) continue;
      expected.set(c.recording.file, sealed ? c.recording : undefined);
      casts.add(c.recording.file);
      if (sealed && c.recording.binary) binaries.add(c.recording.binary.file);
    }
    if (index.audit) expected.set(index.audit.file, sealed ? index.audit : undefined);
  }
  const present = (await readdir(dir).catch(() => [] as string[])).filter((f) => !f.endsWith(CHAIN_SUFFIX) && !f.endsWith('.tmp') && f !== INDEX_FILE);
  if (!sealed) {
    for (const f of present) {
      if (expected.has(f)) continue;
      if (f === AUDIT_FILE) expected.set(f, undefined);
      else if (/^channel-\d+\.cast$/.test(f)) {
        expected.set(f, undefined);
        casts.add(f);
      }
    }
  }
  const fileProblems: VerifyProblem[] = [];
  const interrupted = index?.state === 'open';
  for (const [file, seal] of [...expected].sort(([a], [b]) => a.localeCompare(b))) {
    const r = await checkChainedFile(dir, file, sessionId, seal, interrupted);
    files.push({ file, lines: r.lines.length });
    fileProblems.push(...r.problems);
    if (casts.has(file)) {
      const b = await verifyBinarySidecar(dir, file, r.lines, seal, interrupted, index?.failures ?? []);
      if (b.binaryFile !== undefined) binaries.add(b.binaryFile);
      fileProblems.push(...b.problems);
    }
  }
  if (sealed) {
    for (const f of present) {
      if (!expected.has(f) && !binaries.has(f)) problems.push({ kind: 'unexpected-file', file: f, message: `${f} is not listed in the signed index` });
    }
  }
  problems.push(...fileProblems);
  return { dir, sessionId, sealed, ...(index ? { state: index.state } : {}), files, problems };
}

/** Verifies a session directory, an index.json or recording file in one, or a whole recordings tree. */
export async function verify(path: string, key: RecordingVerifyKey): Promise<VerifyReport> {
  const st = await stat(path);
  let dirs: string[];
  if (st.isDirectory()) {
    const hasIndex = await stat(join(path, INDEX_FILE)).then(
      () => true,
      () => false,
    );
    dirs = hasIndex ? [path] : (await listSessionDirs(path)).map((s) => s.dir);
  } else {
    dirs = [dirname(path)];
  }
  const sessions: SessionVerifyResult[] = [];
  for (const d of dirs) sessions.push(await verifySessionDir(d, key));
  return { ok: sessions.length > 0 && sessions.every((s) => s.problems.length === 0), sessions };
}
