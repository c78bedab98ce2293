/**
 * The recordings web UI over HTTP: token by header or cookie (/ui/login), the listing, the
 * served asciinema-player assets and .cast files, and path traversal attempts (400/404).
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieToken, parseCastPath, registerRecordingRoutes } from '../../src/admin/recordings.js';
import { AdminServer } from '../../src/admin/server.js';
import { enc, openTestSession } from '../recording/helpers.js';

const TOKEN = 'test-admin-token-0123456789abcdef';
let admin: AdminServer;
let root: string;
let outside: string;
let sessionId: string;
let sessionDirPath: string;

/** Raw request: fetch would normalise '..' in the path before sending it. */
function get(path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { port } = admin.address();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gh-ui-rec-'));
  outside = await mkdtemp(join(tmpdir(), 'gh-ui-outside-'));
  await writeFile(join(outside, 'secret.cast'), 'TOP SECRET\n');
  const { rec } = await openTestSession(root);
  sessionId = rec.dir.split('/').pop() ?? '';
  sessionDirPath = rec.dir;
  const ch = await rec.openChannel({ kind: 'shell', pty: { cols: 80, rows: 24, term: 'xterm' } });
  ch.output(enc('hello from the <b>recorded</b> shell\r\n'), 'stdout');
  await rec.closeChannel(ch);
  const ex = await rec.openChannel({ kind: 'exec', command: 'uname -a' });
  ex.output(enc('Linux\n'), 'stdout');
  ex.output(Buffer.concat([Buffer.alloc(200), Buffer.from('binary tail')]), 'stdout'); // binary: goes to channel-1.bin
  await rec.closeChannel(ex);
  await rec.finish();
  // A symlink planted in the session directory that points out of the recordings root.
  await symlink(join(outside, 'secret.cast'), join(rec.dir, 'channel-7.cast'));
  await symlink(join(outside, 'secret.cast'), join(rec.dir, 'channel-8.bin'));
  // And a whole fake session directory that is a symlink out.
  const day = join(root, '2026', '01', '01');
  await mkdir(day, { recursive: true });
  await symlink(outside, join(day, 'evil'));
  admin = new AdminServer({ token: TOKEN });
  registerRecordingRoutes(admin, { recordingsDir: root, token: TOKEN });
  await admin.listen('127.0.0.1', 0);
});

afterAll(async () => {
  await admin.close();
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('recordings UI auth', () => {
  it('redirects a browser without the token to the login form and refuses API-ish paths', async () => {
    const list = await get('/ui/');
    expect(list.status).toBe(303);
    expect(list.headers.location).toBe('/ui/login');
    expect((await get(`/ui/cast/${sessionId}/channel-0.cast`)).status).toBe(401);
    // Player code and styles are public (the login page uses them); recordings are not.
    expect((await get('/ui/assets/asciinema-player.min.js')).status).toBe(200);
    expect((await get(`/ui/play/${sessionId}/channel-0.cast`)).status).toBe(303);
    const form = await get('/ui/login');
    expect(form.status).toBe(200);
    expect(form.body).toContain('<form method="post" action="/ui/login">');
    expect(form.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it('sets an HttpOnly cookie from /ui/login?token= and from the form, and rejects a wrong token', async () => {
    const ok = await get(`/ui/login?token=${TOKEN}`);
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/ui/');
    const cookie = String(ok.headers['set-cookie']);
    expect(cookie).toContain(`gatehouse_admin=${TOKEN}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const posted = await get('/ui/login', { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', `token=${TOKEN}`);
    expect(posted.status).toBe(303);
    const bad = await get('/ui/login?token=nope');
    expect(bad.status).toBe(401);
    expect(bad.headers['set-cookie']).toBeUndefined();
    const withCookie = await get('/ui/', { cookie: `other=1; gatehouse_admin=${TOKEN}` });
    expect(withCookie.status).toBe(200);
    const wrongCookie = await get('/ui/', { cookie: 'gatehouse_admin=wrong' });
    expect(wrongCookie.status).toBe(303);
    expect(cookieToken('a=b; gatehouse_admin=xyz')).toBe('xyz');
    expect(cookieToken('gatehouse_adminx=1')).toBeUndefined();
  });
});

describe('recordings UI content', () => {
  it('lists the session with user, target, login and channel links, HTML-escaped', async () => {
    const r = await get('/ui/', auth);
    expect(r.status).toBe(200);
    expect(r.body).toContain(`data-session="${sessionId}"`);
    expect(r.body).toContain('alice@example.com');
    expect(r.body).toContain('db1:22');
    expect(r.body).toContain('<td>root</td>');
    expect(r.body).toContain(`/ui/play/${sessionId}/channel-0.cast`);
    expect(r.body).toContain('exec: uname -a');
    expect(r.body).toContain('closed, signed');
  });

  it('serves the cast file, the play page and the player bundle from node_modules', async () => {
    const cast = await get(`/ui/cast/${sessionId}/channel-0.cast`, auth);
    expect(cast.status).toBe(200);
    expect(JSON.parse(cast.body.split('\n')[0] ?? '')).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(cast.body).toContain('hello from the <b>recorded</b> shell');
    const play = await get(`/ui/play/${sessionId}/channel-0.cast`, auth);
    expect(play.status).toBe(200);
    expect(play.body).toContain(`data-cast="/ui/cast/${sessionId}/channel-0.cast"`);
    const js = await get('/ui/assets/asciinema-player.min.js', auth);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toContain('javascript');
    expect(js.body).toContain('AsciinemaPlayer');
    expect((await get('/ui/assets/asciinema-player.css', auth)).status).toBe(200);
    expect((await get('/ui/assets/play.js', auth)).body).toContain('AsciinemaPlayer.create');
    expect((await get('/ui/assets/toString', auth)).status).toBe(404);
  });

  it("offers and serves an exec channel's .bin as a download, and no .bin link where there is none", async () => {
    expect((await get(`/ui/bin/${sessionId}/channel-1.bin`)).status).toBe(401);
    const bin = await get(`/ui/bin/${sessionId}/channel-1.bin`, auth);
    expect(bin.status).toBe(200);
    expect(bin.headers['content-type']).toBe('application/octet-stream');
    expect(bin.headers['content-disposition']).toBe(`attachment; filename="${sessionId}-channel-1.bin"`);
    expect(bin.body).toBe(`${'\0'.repeat(200)}binary tail`);
    const play = await get(`/ui/play/${sessionId}/channel-1.cast`, auth);
    expect(play.body).toContain(`href="/ui/bin/${sessionId}/channel-1.bin"`);
    const pty = await get(`/ui/play/${sessionId}/channel-0.cast`, auth);
    expect(pty.status).toBe(200);
    expect(pty.body).not.toContain('/ui/bin/');
    for (const [path, status] of [
      [`/ui/bin/${sessionId}/channel-1.cast`, 400],
      [`/ui/bin/${sessionId}/index.json`, 400],
      [`/ui/bin/${sessionId}/..%2Fchannel-1.bin`, 400],
      [`/ui/bin/${sessionId}/channel-8.bin`, 404],
      [`/ui/bin/${sessionId}/channel-0.bin`, 404],
      [`/ui/cast/${sessionId}/channel-1.bin`, 400],
    ] as const) {
      const r = await get(path, auth);
      expect(r.status, path).toBe(status);
      expect(r.body).not.toContain('TOP SECRET');
    }
  });

  it('rejects path traversal, absolute paths, odd names and symlinks out of the root', async () => {
    const attempts: [string, number[]][] = [
      [`/ui/cast/${sessionId}/..%2F..%2F..%2F..%2Fetc%2Fpasswd`, [400]],
      [`/ui/cast/${sessionId}/%2Fetc%2Fpasswd`, [400]],
      ['/ui/cast/..%2F..%2F..%2Fetc/passwd', [400]],
      [`/ui/cast/${sessionId}/../../../../etc/passwd`, [400, 404]],
      ['/ui/cast/%2e%2e/%2e%2e/etc/passwd', [400, 404]],
      [`/ui/cast/${sessionId}/index.json`, [400]],
      [`/ui/cast/${sessionId}/channel-0.cast.chain`, [400]],
      [`/ui/cast/${sessionId}/channel-0.cast/x`, [400]],
      [`/ui/cast/${sessionId}/channel-7.cast`, [404]],
      ['/ui/cast/evil/secret.cast', [400]],
      ['/ui/cast/evil/channel-0.cast', [404]],
      [`/ui/cast/${sessionId}/channel-99.cast`, [404]],
      ['/ui/cast/nosuchsession/channel-0.cast', [404]],
      [`/ui/play/${sessionId}/%2e%2e%2Findex.json`, [400]],
      [`/ui/play/${sessionId}/channel-7.cast`, [404]],
      ['/ui/cast/%E0%A4%A/channel-0.cast', [400]],
    ];
    for (const [path, statuses] of attempts) {
      const r = await get(path, auth);
      expect(statuses, `${path} -> ${r.status} ${r.body.slice(0, 100)}`).toContain(r.status);
      expect(r.body).not.toContain('TOP SECRET');
      expect(r.body).not.toContain('root:x:0:0');
    }
    expect(() => parseCastPath('a/b/c')).toThrow();
    expect(parseCastPath(`${sessionId}/channel-3.cast`)).toEqual({ sessionId, file: 'channel-3.cast' });
    expect(sessionDirPath.startsWith(root)).toBe(true);
  });
});
