/**
 * gatehouse sessions / watch / kill against a real AdminServer on 127.0.0.1:0 with a session
 * API that follows src/gateway/session-routes.ts, backed by a real SessionRecorder's live
 * broadcaster (so watch sees exactly what the gateway would stream).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminServer } from '../../src/admin/server.js';
import { loadOrCreateAdminToken } from '../../src/admin/token.js';
import { runKill } from '../../src/cli/kill.js';
import { formatSessionTable, runSessions } from '../../src/cli/sessions.js';
import { ndjsonLines, parseWatchLine, runWatch, WatchProtocolError } from '../../src/cli/watch.js';
import type { SessionRecorder } from '../../src/recording/session-recorder.js';
import { enc, openTestSession } from '../recording/helpers.js';
import { type CapturedCli, captureCliIo } from '../support/index.js';

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

let admin: AdminServer;
let stateDir: string;
let recRoot: string;
let url: string;
const live = new Map<string, { rec: SessionRecorder; user: string; ended?: string }>();

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'gh-cli-state-'));
  recRoot = await mkdtemp(join(tmpdir(), 'gh-cli-rec-'));
  admin = new AdminServer({ token: loadOrCreateAdminToken(stateDir) });
  admin.route({
    methods: ['GET'],
    path: '/api/sessions',
    handler: (_req, res) =>
      json(res, 200, {
        sessions: [...live.entries()]
          .filter(([, s]) => s.ended === undefined)
          .map(([id, s]) => ({ id, user: s.user, authMethod: 'publickey', target: 'db1', login: 'root', client: '127.0.0.1:40000', startedAt: '2026-11-23T22:00:00.000Z', recording: s.rec.dir })),
      }),
  });
  admin.route({
    methods: ['GET', 'DELETE'],
    path: '/api/sessions/',
    prefix: true,
    handler: async (req, res, ctx) => {
      const [id = '', action = ''] = ctx.subpath.split('/');
      const s = live.get(decodeURIComponent(id));
      if (!s || s.ended !== undefined) return json(res, 404, { error: `no live session ${id}` });
      if (req.method === 'DELETE' && action === '') {
        s.ended = 'the session was ended by an administrator';
        await s.rec.finish(s.ended);
        return json(res, 200, { ended: id });
      }
      if (req.method === 'GET' && action === 'watch') {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        const sub = s.rec.live.subscribe();
        req.once('close', () => sub.close());
        for await (const m of sub) {
          res.write(`${JSON.stringify(m)}\n`);
          if (m.type === 'end' || m.type === 'dropped') break;
        }
        res.end();
        return;
      }
      return json(res, 404, { error: 'unknown session action' });
    },
  });
  await admin.listen('127.0.0.1', 0);
  url = admin.url();
});

afterAll(async () => {
  for (const s of live.values()) if (s.ended === undefined) await s.rec.finish();
  await admin.close();
  await rm(stateDir, { recursive: true, force: true });
  await rm(recRoot, { recursive: true, force: true });
});

function markEnded(id: string): void {
  const s = live.get(id);
  if (s) s.ended = 'test';
}

async function newSession(user: string): Promise<{ id: string; rec: SessionRecorder }> {
  const { rec } = await openTestSession(recRoot);
  const id = rec.dir.split('/').pop() ?? '';
  live.set(id, { rec, user });
  return { id, rec };
}

describe('gatehouse sessions', () => {
  it('lists live sessions with the token from the state dir, as a table and as JSON', async () => {
    const a = await newSession('alice');
    const b = await newSession('bob\u001b]52;c;aGk=\u0007');
    const t = captureCliIo();
    expect(await runSessions(['--admin', url, '--state-dir', stateDir], t.io)).toBe(0);
    const lines = t.c.out.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+USER\s+TARGET\s+LOGIN\s+CLIENT\s+STARTED\s+AUTH$/);
    expect(lines).toHaveLength(3);
    expect(t.c.out).toContain(a.id);
    expect(t.c.out).toMatch(new RegExp(`${a.id}\\s+alice\\s+db1\\s+root\\s+127\\.0\\.0\\.1:40000`));
    // A user name with control characters cannot drive the operator's terminal.
    expect(t.c.out).not.toContain('\u001b');
    expect(t.c.out).toContain('bob?]52;c;aGk=?');
    const j = captureCliIo();
    expect(await runSessions(['--json', `--admin=${url}`, '--state-dir', stateDir], j.io)).toBe(0);
    const ids = (JSON.parse(j.c.out) as { sessions: { id: string }[] }).sessions.map((s) => s.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    markEnded(a.id);
    markEnded(b.id);
    await a.rec.finish();
    await b.rec.finish();
    const empty = captureCliIo();
    expect(await runSessions(['--admin', url, '--state-dir', stateDir], empty.io)).toBe(0);
    expect(empty.c.out).toBe('no live sessions\n');
  });

  it('takes the token from GATEHOUSE_ADMIN_TOKEN and the address as HOST:PORT', async () => {
    const { port } = admin.address();
    const token = loadOrCreateAdminToken(stateDir);
    const t = captureCliIo({ GATEHOUSE_ADMIN_TOKEN: token });
    const empty = await mkdtemp(join(tmpdir(), 'gh-cli-empty-'));
    expect(await runSessions(['--admin', `127.0.0.1:${port}`, '--state-dir', empty], t.io)).toBe(0);
    expect(t.c.err).toBe('');
    await rm(empty, { recursive: true, force: true });
  });

  it('says clearly when the token is wrong, missing, or the listener is unreachable', async () => {
    const wrong = captureCliIo({ GATEHOUSE_ADMIN_TOKEN: 'not-the-token-0123456789' });
    expect(await runSessions(['--admin', url], wrong.io)).toBe(1);
    expect(wrong.c.err).toContain(`the admin listener at ${url} rejected the admin token from GATEHOUSE_ADMIN_TOKEN (HTTP 401)`);

    const noToken = await mkdtemp(join(tmpdir(), 'gh-cli-none-'));
    const missing = captureCliIo();
    expect(await runSessions(['--admin', url, '--state-dir', noToken], missing.io)).toBe(2);
    expect(missing.c.err).toContain('no admin token');
    await rm(noToken, { recursive: true, force: true });

    // A port that was just free: nothing listens there.
    const probe = new AdminServer({ token: 'x'.repeat(32) });
    await probe.listen('127.0.0.1', 0);
    const deadUrl = probe.url();
    await probe.close();
    const down = captureCliIo();
    expect(await runSessions(['--admin', deadUrl, '--state-dir', stateDir], down.io)).toBe(1);
    expect(down.c.err).toContain(`cannot reach the admin listener at ${deadUrl} (ECONNREFUSED)`);
  });

  it('a listener without the sessions API is reported as such', async () => {
    const bare = new AdminServer({ token: loadOrCreateAdminToken(stateDir) });
    await bare.listen('127.0.0.1', 0);
    try {
      const t = captureCliIo();
      expect(await runSessions(['--admin', bare.url(), '--state-dir', stateDir], t.io)).toBe(1);
      expect(t.c.err).toContain('has no sessions API');
    } finally {
      await bare.close();
    }
  });

  it('keeps `sessions revoke-key` and rejects stray arguments', async () => {
    const r = captureCliIo();
    expect(await runSessions(['revoke-key', 'not-a-fingerprint', '--state-dir', stateDir], r.io)).toBe(2);
    expect(r.c.err).toContain('not a SHA256 key fingerprint');
    const stray = captureCliIo();
    expect(await runSessions(['toString', '--admin', url, '--state-dir', stateDir], stray.io)).toBe(2);
    expect(stray.c.err).toContain('subcommands: revoke-key');
  });
});

describe('gatehouse kill', () => {
  it('ends a live session and reports an unknown one', async () => {
    const s = await newSession('carol');
    const t = captureCliIo();
    expect(await runKill([s.id, '--admin', url, '--state-dir', stateDir], t.io)).toBe(0);
    expect(t.c.out).toBe(`ended session ${s.id}\n`);
    expect(live.get(s.id)?.ended).toBe('the session was ended by an administrator');
    const again = captureCliIo();
    expect(await runKill([s.id, '--admin', url, '--state-dir', stateDir], again.io)).toBe(1);
    expect(again.c.err).toContain(`no live session "${s.id}"`);
    const usage = captureCliIo();
    expect(await runKill(['--admin', url, '--state-dir', stateDir], usage.io)).toBe(2);
    expect(usage.c.err).toContain('usage: gatehouse kill SESSION-ID');
  });
});

describe('gatehouse watch', () => {
  async function watchSession(raw: boolean): Promise<{ code: number; c: CapturedCli }> {
    const { id, rec } = await newSession('dave');
    const ch = await rec.openChannel({ kind: 'shell', pty: { cols: 80, rows: 24, term: 'xterm' } });
    // Sent before the watcher connects: it arrives through the broadcaster's catch-up.
    ch.output(enc('hello \u001b]52;c;c2VjcmV0\u0007world\r\n'), 'stdout');
    const t = captureCliIo();
    const running = runWatch([id, ...(raw ? ['--raw'] : []), '--admin', url, '--state-dir', stateDir], t.io);
    while (rec.live.subscriberCount === 0) await new Promise((r) => setTimeout(r, 10));
    ch.output(enc('\u001b]0;owned title\u0007second line \xff'), 'stdout');
    ch.output(new Uint8Array([0xff, 0x0a]), 'stderr');
    ch.marker('signal INT');
    await rec.closeChannel(ch);
    await rec.finish();
    markEnded(id);
    return { code: await running, c: t.c };
  }

  it('follows a session to its end with clipboard and title sequences removed', async () => {
    const { code, c } = await watchSession(false);
    expect(code).toBe(0);
    expect(c.out).toContain('hello world\r\n');
    expect(c.out).toContain('second line');
    expect(c.out).not.toContain('\u001b]52');
    expect(c.out).not.toContain('owned title');
    expect(c.out).toContain('\ufffd');
    expect(c.err).toContain('[channel 0 open: root@db1 by alice@example.com');
    expect(c.err).toContain('signal INT');
    expect(c.err).toContain('ended]');
  });

  it('--raw writes the original bytes, sequences and invalid UTF-8 included', async () => {
    const { code, c } = await watchSession(true);
    expect(code).toBe(0);
    const text = Buffer.from(c.bytes).toString('latin1');
    expect(text).toContain('\u001b]52;c;c2VjcmV0\u0007');
    expect(text).toContain('\u001b]0;owned title\u0007');
    expect(c.bytes).toContain(0xff);
  });

  it('reports an unknown session and a wrong token', async () => {
    const t = captureCliIo();
    expect(await runWatch(['nosuch', '--admin', url, '--state-dir', stateDir], t.io)).toBe(1);
    expect(t.c.err).toContain('no live session "nosuch"');
    const w = captureCliIo({ GATEHOUSE_ADMIN_TOKEN: 'wrong-token-wrong-token' });
    expect(await runWatch(['nosuch', '--admin', url], w.io)).toBe(1);
    expect(w.c.err).toContain('rejected the admin token');
  });

  it('stops quietly when the viewer aborts', async () => {
    const { id, rec } = await newSession('erin');
    const ac = new AbortController();
    const t = captureCliIo({}, ac.signal);
    const running = runWatch([id, '--admin', url, '--state-dir', stateDir], t.io);
    while (rec.live.subscriberCount === 0) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    expect(await running).toBe(0);
  });
});

describe('watch stream parser', () => {
  it('accepts events as objects and as [time, code, data] arrays', () => {
    expect(parseWatchLine('{"type":"event","channel":1,"event":{"timeUs":5,"code":"o","data":"x"}}')).toEqual({ type: 'event', channel: 1, code: 'o', data: 'x' });
    expect(parseWatchLine('{"type":"event","channel":2,"event":[0.5,"o","y"]}')).toEqual({ type: 'event', channel: 2, code: 'o', data: 'y' });
    expect(parseWatchLine('{"type":"end"}')).toEqual({ type: 'end' });
    expect(() => parseWatchLine('{"type":"event","event":{}}')).toThrow(WatchProtocolError);
    expect(() => parseWatchLine('[1,2]')).toThrow(WatchProtocolError);
  });

  it('fuzz: random and mutated lines only ever throw WatchProtocolError', () => {
    const seeds = [
      '{"type":"channel-open","channel":0,"header":{"version":2,"width":80,"height":24,"title":"t"}}',
      '{"type":"event","channel":0,"event":{"timeUs":1,"code":"o","data":"abc"}}',
      '{"type":"event","channel":0,"event":[1,"o","abc"]}',
      '{"type":"channel-close","channel":0}',
      '{"type":"dropped","reason":"slow-subscriber"}',
    ];
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const alphabet = '{}[]":,0123456789abcdefghijklmnopqrstuvwxyz-\\ \u0000\u00ff';
    for (let i = 0; i < 20000; i++) {
      let line: string;
      if (i % 2 === 0) {
        const chars = [...(seeds[rnd(seeds.length)] ?? '')];
        for (let k = 0, n = 1 + rnd(4); k < n; k++) {
          const at = rnd(chars.length + 1);
          const op = rnd(3);
          if (op === 0) chars.splice(at, 1);
          else if (op === 1) chars.splice(at, 0, alphabet[rnd(alphabet.length)] ?? '');
          else chars[at] = alphabet[rnd(alphabet.length)] ?? '';
        }
        line = chars.join('');
      } else {
        line = Array.from({ length: rnd(60) }, () => alphabet[rnd(alphabet.length)]).join('');
      }
      try {
        parseWatchLine(line);
      } catch (e) {
        expect(e).toBeInstanceOf(WatchProtocolError);
      }
    }
  });

  it('bounds line length and splits lines across chunks', async () => {
    async function* chunks(parts: string[]) {
      for (const p of parts) yield new TextEncoder().encode(p);
    }
    const got: string[] = [];
    for await (const l of ndjsonLines(chunks(['{"a":', '1}\n\n{"b"', ':2}']))) got.push(l);
    expect(got).toEqual(['{"a":1}', '{"b":2}']);
    await expect(async () => {
      for await (const _ of ndjsonLines(chunks(['x'.repeat(50), 'y'.repeat(60)]), 100)) {
        // drain
      }
    }).rejects.toThrow(WatchProtocolError);
  });
});

describe('formatSessionTable', () => {
  const base = { user: 'alice', authMethod: 'publickey', target: 'db1', login: 'root', client: '127.0.0.1:1', startedAt: '2026-12-02T00:00:00Z' };
  it('adds a WORKER column only when the gateway runs workers', () => {
    expect(formatSessionTable([{ ...base, id: 'a' }]).split('\n')[0]).toMatch(/AUTH$/);
    const t = formatSessionTable([{ ...base, id: 'a', worker: 1 }, { ...base, id: 'b', worker: 2 }]).trim().split('\n');
    expect(t[0]).toMatch(/AUTH\s+WORKER$/);
    expect(t[1]).toMatch(/^a\s.*publickey\s+1$/);
    expect(t[2]).toMatch(/^b\s.*publickey\s+2$/);
  });
});
