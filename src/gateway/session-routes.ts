/**
 * The admin API for live sessions (token-protected):
 *   GET    /api/sessions              → the live sessions, JSON
 *   DELETE /api/sessions/<id>         → ends one, telling its user why
 *   GET    /api/sessions/<id>/watch   → its recording events live, as NDJSON (gatehouse watch)
 *
 * The routes read a SessionDirectory: the gateway of this process (localSessions), or with
 * `serve --workers N` the primary's view of every worker (src/cluster/remote-sessions.ts).
 */
import type { ServerResponse } from 'node:http';
import type { AdminServer } from '../admin/server.js';
import { drainedOrClosed } from '../net/drain.js';
import type { LiveMessage } from '../recording/index.js';
import type { Gateway } from './gateway.js';
import type { TargetSession } from './target-session.js';

export interface SessionSummary {
  readonly id: string;
  readonly user: string;
  readonly authMethod: string;
  readonly target: string;
  readonly login: string;
  readonly client: string;
  readonly startedAt: string;
  readonly recording: string;
  /** The worker process holding the session (`serve --workers N`, N > 1). */
  readonly worker?: number;
  readonly pid?: number;
}

/** A live follow of one session; close() ends it early (the viewer went away). */
export interface LiveFeed extends AsyncIterable<LiveMessage> {
  close(): void;
}

export interface SessionDirectory {
  list(): Promise<SessionSummary[]>;
  get(id: string): Promise<SessionSummary | undefined>;
  /** Ends a session with a message to its user; false when there is no such live session. */
  terminate(id: string, message: string): Promise<boolean>;
  watch(id: string): Promise<LiveFeed | undefined>;
}

export function describeSession(s: TargetSession, where: { worker?: number; pid?: number } = {}): SessionSummary {
  return {
    id: s.id,
    user: s.identity.user,
    authMethod: s.identity.authMethod,
    target: s.target.name,
    login: s.login,
    client: `${s.client.address}:${s.client.port}`,
    startedAt: new Date(s.startedAt).toISOString(),
    recording: s.recordingDir,
    ...where,
  };
}

/** The sessions of one gateway in this process; `where` tags them with the worker id. */
export function localSessions(gateway: Gateway, where: { worker?: number; pid?: number } = {}): SessionDirectory {
  return {
    list: async () => gateway.registry.list().map((s) => describeSession(s, where)),
    get: async (id) => {
      const s = gateway.registry.get(id);
      return s ? describeSession(s, where) : undefined;
    },
    terminate: async (id, message) => {
      const s = gateway.registry.get(id);
      if (!s) return false;
      s.terminate(message);
      return true;
    },
    watch: async (id) => gateway.registry.get(id)?.live.subscribe(),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

export function registerSessionRoutes(admin: AdminServer, sessions: SessionDirectory): void {
  admin.route({
    methods: ['GET'],
    path: '/api/sessions',
    handler: async (_req, res) => json(res, 200, { sessions: await sessions.list() }),
  });
  admin.route({
    methods: ['GET', 'DELETE'],
    path: '/api/sessions/',
    prefix: true,
    handler: async (req, res, ctx) => {
      const [raw = '', action = ''] = ctx.subpath.split('/');
      let id: string;
      try {
        id = decodeURIComponent(raw);
      } catch {
        return json(res, 404, { error: 'not a session id' });
      }
      if (req.method === 'DELETE' && action === '') {
        if (!(await sessions.terminate(id, 'the session was ended by an administrator'))) return json(res, 404, { error: `no live session ${raw}` });
        return json(res, 200, { ended: id });
      }
      if (req.method === 'GET' && action === 'watch') {
        const feed = await sessions.watch(id);
        if (!feed) return json(res, 404, { error: `no live session ${raw}` });
        res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
        req.once('close', () => feed.close());
        for await (const m of feed) {
          if (!res.write(`${JSON.stringify(m)}\n`)) await drainedOrClosed(res);
          if (res.destroyed) break;
          if (m.type === 'end' || m.type === 'dropped') break;
        }
        feed.close();
        res.end();
        return;
      }
      if (req.method === 'GET' && action === '') {
        const s = await sessions.get(id);
        return s ? json(res, 200, s) : json(res, 404, { error: `no live session ${raw}` });
      }
      return json(res, 404, { error: 'unknown session action' });
    },
  });
}
