/**
 * The admin API for live sessions (token-protected):
 *   GET    /api/sessions              → the live sessions, JSON
 *   DELETE /api/sessions/<id>         → ends one, telling its user why
 *   GET    /api/sessions/<id>/watch   → its recording events live, as NDJSON (gatehouse watch)
 */
import type { ServerResponse } from 'node:http';
import type { AdminServer } from '../admin/server.js';
import type { Gateway } from './gateway.js';
import type { TargetSession } from './target-session.js';

export function describeSession(s: TargetSession) {
  return {
    id: s.id,
    user: s.identity.user,
    authMethod: s.identity.authMethod,
    target: s.target.name,
    login: s.login,
    client: `${s.client.address}:${s.client.port}`,
    startedAt: new Date(s.startedAt).toISOString(),
    recording: s.recordingDir,
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

export function registerSessionRoutes(admin: AdminServer, gateway: Gateway): void {
  admin.route({
    methods: ['GET'],
    path: '/api/sessions',
    handler: (_req, res) => json(res, 200, { sessions: gateway.registry.list().map(describeSession) }),
  });
  admin.route({
    methods: ['GET', 'DELETE'],
    path: '/api/sessions/',
    prefix: true,
    handler: async (req, res, ctx) => {
      const [id = '', action = ''] = ctx.subpath.split('/');
      const session = gateway.registry.get(decodeURIComponent(id));
      if (!session) return json(res, 404, { error: `no live session ${id}` });
      if (req.method === 'DELETE' && action === '') {
        session.terminate('the session was ended by an administrator');
        return json(res, 200, { ended: session.id });
      }
      if (req.method === 'GET' && action === 'watch') {
        res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
        const sub = session.live.subscribe();
        req.once('close', () => sub.close());
        for await (const m of sub) {
          if (!res.write(`${JSON.stringify(m)}\n`)) await new Promise((r) => res.once('drain', r));
          if (m.type === 'end' || m.type === 'dropped') break;
        }
        res.end();
        return;
      }
      if (req.method === 'GET' && action === '') return json(res, 200, describeSession(session));
      return json(res, 404, { error: 'unknown session action' });
    },
  });
}
