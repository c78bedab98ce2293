/**
 * `gatehouse watch SESSION-ID [--raw] [--admin URL|HOST:PORT] [--state-dir DIR]` follows one
 * live session: GET /api/sessions/<id>/watch streams the recording's live messages as NDJSON,
 * and the output events are written to this terminal. Unless --raw they go through the
 * recording module's TerminalSanitizer (one per channel, since sequences may span events), so
 * what the watched machine prints cannot set this terminal's clipboard or title or make it
 * answer queries; bytes that were not UTF-8 show as U+FFFD. Notes (channel open/close,
 * markers, the end) go to stderr so stdout stays the session's output.
 * Exit 0 when the session ends, 1 when it is unknown, the stream is cut or the viewer was
 * dropped for being slow, 2 usage.
 */
import { escapedToBytes, escapesToReplacement } from '../recording/utf8-escape.js';
import { TerminalSanitizer } from '../recording/terminal-sanitizer.js';
import { type AdminCliIo, AdminCliError, adminClientFromArgv, errorText, withAdminErrors } from './sessions.js';

export const WATCH_USAGE = 'usage: gatehouse watch SESSION-ID [--raw] [--admin URL|HOST:PORT] [--state-dir DIR] [--config FILE]';

/** One NDJSON line may carry a large output event; anything beyond this is not the gateway talking. */
export const MAX_WATCH_LINE = 8 * 1024 * 1024;

export interface WatchIo extends AdminCliIo {
  /** Raw mode writes bytes; the default writes strings. */
  readonly stdout: { write(data: string | Uint8Array): unknown };
}

/** A watch message as the CLI understands it; events arrive as {timeUs,code,data} or [time,code,data]. */
export type WatchMessage =
  | { readonly type: 'channel-open'; readonly channel: number; readonly title?: string; readonly width?: number; readonly height?: number }
  | { readonly type: 'event'; readonly channel: number; readonly code: string; readonly data: string }
  | { readonly type: 'channel-close'; readonly channel: number }
  | { readonly type: 'end' }
  | { readonly type: 'dropped' };

export class WatchProtocolError extends Error {
  override readonly name = 'WatchProtocolError';
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Parses one NDJSON line; throws WatchProtocolError for anything that is not a watch message. */
export function parseWatchLine(line: string): WatchMessage {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new WatchProtocolError('watch stream line is not JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new WatchProtocolError('watch stream line is not an object');
  const m = v as Record<string, unknown>;
  const channel = num(m.channel) ?? 0;
  switch (m.type) {
    case 'channel-open': {
      const h = m.header && typeof m.header === 'object' ? (m.header as Record<string, unknown>) : {};
      const title = typeof h.title === 'string' ? h.title : undefined;
      const width = num(h.width);
      const height = num(h.height);
      return { type: 'channel-open', channel, ...(title === undefined ? {} : { title }), ...(width === undefined ? {} : { width }), ...(height === undefined ? {} : { height }) };
    }
    case 'event': {
      const e = m.event;
      let code: unknown;
      let data: unknown;
      if (Array.isArray(e)) [, code, data] = e as unknown[];
      else if (e && typeof e === 'object') ({ code, data } = e as { code?: unknown; data?: unknown });
      if (typeof code !== 'string' || typeof data !== 'string') throw new WatchProtocolError('watch event without code and data');
      return { type: 'event', channel, code, data };
    }
    case 'channel-close':
      return { type: 'channel-close', channel };
    case 'end':
      return { type: 'end' };
    case 'dropped':
      return { type: 'dropped' };
    default:
      throw new WatchProtocolError(`unknown watch message type ${JSON.stringify(String(m.type).slice(0, 40))}`);
  }
}

/** Splits a byte stream into lines, bounded by MAX_WATCH_LINE. */
export async function* ndjsonLines(body: AsyncIterable<Uint8Array>, maxLine = MAX_WATCH_LINE): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of body) {
    pending += decoder.decode(chunk, { stream: true });
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.trim() !== '') yield line;
      nl = pending.indexOf('\n');
    }
    if (pending.length > maxLine) throw new WatchProtocolError(`watch stream line longer than ${maxLine} characters`);
  }
  pending += decoder.decode();
  if (pending.trim() !== '') yield pending;
}

const noControls = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

export async function runWatch(argv: readonly string[], io: WatchIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${WATCH_USAGE}\n`);
    return 0;
  }
  return withAdminErrors(io, 'watch', async () => {
    const { client, rest } = adminClientFromArgv(argv, io);
    const raw = rest.includes('--raw');
    const [id, ...extra] = rest.filter((a) => a !== '--raw');
    if (id === undefined || id === '' || extra.length > 0) throw new AdminCliError(WATCH_USAGE, 2);
    let res: Response;
    try {
      res = await client.request('GET', `/api/sessions/${encodeURIComponent(id)}/watch`, io.signal);
    } catch (e) {
      if (io.signal?.aborted) return 0;
      throw e;
    }
    if (res.status === 404) throw new AdminCliError(`no live session ${JSON.stringify(id.slice(0, 128))} (${await errorText(res)})`);
    if (!res.ok || !res.body) throw new AdminCliError(`watching session ${id} failed: ${await errorText(res)}`);
    io.stderr.write(`watching session ${id} (${raw ? 'raw' : 'sanitized'}); Ctrl-C stops watching, the session goes on\n`);
    const sanitizers = new Map<number, TerminalSanitizer>();
    const sanitizerFor = (ch: number): TerminalSanitizer => {
      let s = sanitizers.get(ch);
      if (!s) {
        s = new TerminalSanitizer();
        sanitizers.set(ch, s);
      }
      return s;
    };
    try {
      for await (const line of ndjsonLines(res.body)) {
        const m = parseWatchLine(line);
        switch (m.type) {
          case 'channel-open':
            io.stderr.write(`[channel ${m.channel} open${m.title ? `: ${noControls(m.title)}` : ''}${m.width && m.height ? ` ${m.width}x${m.height}` : ''}]\n`);
            break;
          case 'event':
            if (m.code === 'o') {
              if (raw) io.stdout.write(escapedToBytes(m.data));
              else {
                const out = sanitizerFor(m.channel).push(escapesToReplacement(m.data));
                if (out) io.stdout.write(out);
              }
            } else if (m.code === 'm') io.stderr.write(`[channel ${m.channel}: ${noControls(m.data)}]\n`);
            else if (m.code === 'x') io.stderr.write(`[channel ${m.channel} exit ${noControls(m.data)}]\n`);
            // 'i' (input) is echoed by the remote as output anyway; 'r' resizes need no action here.
            break;
          case 'channel-close':
            if (!raw) io.stdout.write(sanitizerFor(m.channel).end());
            sanitizers.delete(m.channel);
            io.stderr.write(`[channel ${m.channel} closed]\n`);
            break;
          case 'end':
            io.stderr.write(`[session ${id} ended]\n`);
            return 0;
          case 'dropped':
            throw new AdminCliError('the gateway stopped this watch because the viewer fell behind; run watch again to resume');
          default: {
            const never: never = m;
            throw new WatchProtocolError(`unhandled ${String(never)}`);
          }
        }
      }
    } catch (e) {
      if (io.signal?.aborted) return 0;
      if (e instanceof WatchProtocolError) throw new AdminCliError(`bad watch stream from ${client.baseUrl}: ${e.message}`);
      if (e instanceof AdminCliError) throw e;
      throw new AdminCliError(`the watch stream from ${client.baseUrl} broke: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (io.signal?.aborted) return 0;
    throw new AdminCliError(`the watch stream from ${client.baseUrl} ended before the session did`);
  });
}

export const run = (argv: string[]): Promise<number> => runWatch(argv);
