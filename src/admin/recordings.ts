/**
 * The recordings web UI on the admin listener:
 *   /ui/                       recorded sessions (date, user, target, login, channels)
 *   /ui/play/<session>/<file>  plays one channel's .cast with asciinema-player
 *   /ui/cast/<session>/<file>  the .cast file itself
 *   /ui/bin/<session>/<file>   a channel's .bin (binary output its b events refer to), as a download
 *   /ui/assets/...             asciinema-player's dist bundle (from node_modules) and ours (no token needed)
 *   /ui/login, /ui/logout      token to cookie and back
 *
 * A browser cannot send a bearer header when it navigates, so these routes are registered
 * public and check the admin token themselves: `Authorization: Bearer` as everywhere, or the
 * HttpOnly SameSite=Strict cookie that /ui/login sets after checking the token.
 *
 * Cast files are found by session id (listed under the recordings root, never joined from the
 * request) and a file name matching channel-N.cast; the resolved real path must lie under the
 * real recordings root and the file is opened with O_NOFOLLOW, so '..', absolute paths,
 * encoded slashes and symlinks cannot reach anything else.
 */
import { constants, createReadStream } from 'node:fs';
import { open, readFile, realpath } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { listRecordedSessions } from '../recording/catalog.js';
import { findSessionDir, isSafeSessionId } from '../recording/layout.js';
import { HttpError, sendText } from './http.js';
import { BIN_FILE, CAST_FILE, listPage, loginPage, PAGE_CSP, PLAY_JS, playPage, UI_CSS } from './recordings-pages.js';
import type { AdminServer, RouteContext } from './server.js';
import { isAuthorized } from './token.js';

export interface RecordingRoutesOptions {
  /** The configured recordings directory (config.recordings). */
  readonly recordingsDir: string;
  /** The admin token, as given to the AdminServer (loadOrCreateAdminToken(stateDir)). */
  readonly token: string;
}

export const UI_COOKIE = 'gatehouse_admin';
const DEFAULT_LIST_LIMIT = 200;
const MAX_LIST_LIMIT = 10_000;
const MAX_LOGIN_BODY = 4096;

type Asset = { readonly type: string; readonly load: () => Promise<string | Buffer> };

const require = createRequire(import.meta.url);
function playerFile(name: string): () => Promise<Buffer> {
  let cached: Promise<Buffer> | undefined;
  return () => {
    cached ??= readFile(require.resolve(`asciinema-player/dist/bundle/${name}`));
    return cached;
  };
}

const ASSETS: Readonly<Record<string, Asset>> = {
  'asciinema-player.min.js': { type: 'text/javascript; charset=utf-8', load: playerFile('asciinema-player.min.js') },
  'asciinema-player.css': { type: 'text/css; charset=utf-8', load: playerFile('asciinema-player.css') },
  'play.js': { type: 'text/javascript; charset=utf-8', load: async () => PLAY_JS },
  'gatehouse-ui.css': { type: 'text/css; charset=utf-8', load: async () => UI_CSS },
};

/** The token from the UI cookie, if the request carries one. */
export function cookieToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === UI_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function authorized(req: IncomingMessage, token: string): boolean {
  if (isAuthorized(req.headers.authorization, token)) return true;
  const fromCookie = cookieToken(req.headers.cookie);
  return fromCookie !== undefined && /^\S+$/.test(fromCookie) && isAuthorized(`Bearer ${fromCookie}`, token);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.setHeader('content-security-policy', PAGE_CSP);
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  sendText(res, status, html, 'text/html; charset=utf-8');
}

function redirect(res: ServerResponse, location: string, cookie?: string): void {
  res.writeHead(303, { location, 'cache-control': 'no-store', ...(cookie ? { 'set-cookie': cookie } : {}) });
  res.end();
}

function sessionCookie(value: string, maxAge?: number): string {
  return `${UI_COOKIE}=${value}; Path=/ui; HttpOnly; SameSite=Strict${maxAge === undefined ? '' : `; Max-Age=${maxAge}`}`;
}

async function readFormToken(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_LOGIN_BODY) throw new HttpError(413, 'login form too large');
    chunks.push(buf);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('token')?.trim() || undefined;
}

async function login(req: IncomingMessage, res: ServerResponse, ctx: RouteContext, token: string): Promise<void> {
  const given = req.method === 'POST' ? await readFormToken(req) : ctx.url.searchParams.get('token')?.trim() || undefined;
  if (given === undefined) return sendHtml(res, 200, loginPage());
  if (!/^\S+$/.test(given) || !isAuthorized(`Bearer ${given}`, token)) return sendHtml(res, 401, loginPage('That is not the admin token of this gateway.'));
  redirect(res, '/ui/', sessionCookie(given));
}

/** Splits "<session>/<file>" into checked, decoded parts; 400 for anything else. */
export function parseCastPath(rest: string, kind: FileKind = CAST): { sessionId: string; file: string } {
  const parts = rest.split('/');
  if (parts.length !== 2) throw new HttpError(400, `expected <session-id>/<${kind.example}>`);
  let sessionId: string;
  let file: string;
  try {
    sessionId = decodeURIComponent(parts[0] ?? '');
    file = decodeURIComponent(parts[1] ?? '');
  } catch {
    throw new HttpError(400, 'bad percent-encoding');
  }
  if (!isSafeSessionId(sessionId)) throw new HttpError(400, 'not a session id');
  if (!kind.name.test(file)) throw new HttpError(400, `not a recording file name (${kind.example})`);
  return { sessionId, file };
}

/** A kind of session file the UI serves, and how. */
interface FileKind {
  readonly name: RegExp;
  readonly example: string;
  readonly contentType: string;
  readonly disposition: 'inline' | 'attachment';
}

const CAST: FileKind = { name: CAST_FILE, example: 'channel-N.cast', contentType: 'application/x-asciicast; charset=utf-8', disposition: 'inline' };
const BIN: FileKind = { name: BIN_FILE, example: 'channel-N.bin', contentType: 'application/octet-stream', disposition: 'attachment' };

/** The real path of a session's cast file, checked to lie under the real recordings root. */
export async function resolveCastFile(root: string, sessionId: string, file: string): Promise<string> {
  const dir = await findSessionDir(root, sessionId);
  if (dir === undefined) throw new HttpError(404, `no recorded session ${sessionId}`);
  let real: string;
  let realRoot: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(join(dir, file));
  } catch {
    throw new HttpError(404, `no file ${file} in session ${sessionId}`);
  }
  if (!real.startsWith(realRoot + sep) || real !== join(realRoot, real.slice(realRoot.length + 1))) throw new HttpError(404, `no file ${file} in session ${sessionId}`);
  return join(dir, file);
}

async function serveFile(res: ServerResponse, root: string, rest: string, head: boolean, kind: FileKind): Promise<void> {
  const { sessionId, file } = parseCastPath(rest, kind);
  const path = await resolveCastFile(root, sessionId, file);
  // O_NOFOLLOW: the file itself must not be a symlink (checked again at open, not only at realpath).
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => {
    throw new HttpError(404, `no file ${file} in session ${sessionId}`);
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new HttpError(404, `no file ${file} in session ${sessionId}`);
    res.writeHead(200, {
      'content-type': kind.contentType,
      'content-length': st.size,
      'cache-control': 'no-store',
      'content-disposition': `${kind.disposition}; filename="${sessionId}-${file}"`,
    });
    if (head) {
      res.end();
      await fh.close();
      return;
    }
  } catch (e) {
    await fh.close();
    throw e;
  }
  // The stream owns the handle from here and closes it (autoClose).
  const stream = createReadStream('', { fd: fh, autoClose: true });
  await new Promise<void>((resolve) => {
    stream.on('error', () => {
      res.destroy();
      resolve();
    });
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}

async function serveAsset(res: ServerResponse, name: string, head: boolean): Promise<void> {
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!asset) throw new HttpError(404, `no asset ${name.slice(0, 100)}`);
  const body = await asset.load();
  res.writeHead(200, { 'content-type': asset.type, 'content-length': Buffer.byteLength(body), 'cache-control': 'private, max-age=3600' });
  res.end(head ? undefined : body);
}

/**
 * Registers /ui/ on the admin listener. Returns a function that removes it.
 * Call: registerRecordingRoutes(admin, { recordingsDir: config.recordings, token })
 */
export function registerRecordingRoutes(admin: AdminServer, options: RecordingRoutesOptions): () => void {
  const { recordingsDir, token } = options;
  return admin.route({
    methods: ['GET', 'HEAD', 'POST'],
    path: '/ui/',
    prefix: true,
    public: true, // checked below: bearer header or the UI cookie
    handler: async (req, res, ctx) => {
      const method = (req.method ?? 'GET').toUpperCase();
      const head = method === 'HEAD';
      if (ctx.url.pathname === '/ui') return redirect(res, '/ui/');
      if (ctx.subpath === 'login') return login(req, res, ctx, token);
      if (method === 'POST') throw new HttpError(405, 'POST is only for /ui/login');
      if (ctx.subpath === 'logout') return redirect(res, '/ui/login', sessionCookie('', 0));
      // Static code and styles (the login page needs them too); they hold nothing private.
      if (ctx.subpath.startsWith('assets/')) return serveAsset(res, ctx.subpath.slice('assets/'.length), head);
      if (!authorized(req, token)) {
        if (ctx.subpath === '' || ctx.subpath.startsWith('play/')) return redirect(res, '/ui/login');
        res.setHeader('www-authenticate', 'Bearer realm="gatehouse-admin"');
        throw new HttpError(401, 'sign in at /ui/login or send Authorization: Bearer <admin token>');
      }
      const slash = ctx.subpath.indexOf('/');
      const section = slash < 0 ? ctx.subpath : ctx.subpath.slice(0, slash);
      const rest = slash < 0 ? '' : ctx.subpath.slice(slash + 1);
      switch (section) {
        case '': {
          const asked = Number(ctx.url.searchParams.get('limit') ?? DEFAULT_LIST_LIMIT);
          const limit = Number.isInteger(asked) && asked > 0 ? Math.min(asked, MAX_LIST_LIMIT) : DEFAULT_LIST_LIMIT;
          return sendHtml(res, 200, listPage(await listRecordedSessions(recordingsDir, { limit }), limit));
        }
        case 'play': {
          const { sessionId, file } = parseCastPath(rest);
          await resolveCastFile(recordingsDir, sessionId, file);
          const bin = file.replace(/\.cast$/, '.bin');
          const hasBin = await resolveCastFile(recordingsDir, sessionId, bin).then(
            () => true,
            () => false,
          );
          return sendHtml(res, 200, playPage(sessionId, file, hasBin ? bin : undefined));
        }
        case 'cast':
          return serveFile(res, recordingsDir, rest, head, CAST);
        case 'bin':
          return serveFile(res, recordingsDir, rest, head, BIN);
        default:
          throw new HttpError(404, `no page ${ctx.subpath.slice(0, 100)}`);
      }
    },
  });
}
