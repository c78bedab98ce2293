import { mkdtempSync, statSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError, readJsonBody, sendJson } from '../../src/admin/http.js';
import { AdminServer } from '../../src/admin/server.js';
import { adminTokenPath, isAuthorized, loadOrCreateAdminToken } from '../../src/admin/token.js';
import { EventHub } from '../../src/obs/events.js';
import { createLogger } from '../../src/obs/logger.js';
import { GatehouseMetrics } from '../../src/obs/metrics.js';
import { observe } from '../../src/obs/subscriber.js';

const servers: AdminServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(token = 't'.repeat(32), metrics = new GatehouseMetrics()): Promise<{ server: AdminServer; base: string; metrics: GatehouseMetrics }> {
  const server = new AdminServer({ token, metrics: () => metrics.expose(), health: () => ({ policyVersion: 7 }) });
  servers.push(server);
  await server.listen('127.0.0.1', 0);
  return { server, base: server.url(), metrics };
}

function series(body: string, name: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : Number.NaN;
}

describe('admin token', () => {
  it('is generated once into the state dir with mode 0600', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gh-admin-')), 'state');
    const token = loadOrCreateAdminToken(dir);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(adminTokenPath(dir)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(loadOrCreateAdminToken(dir)).toBe(token);
    chmodSync(adminTokenPath(dir), 0o644);
    expect(loadOrCreateAdminToken(dir)).toBe(token);
    expect(statSync(adminTokenPath(dir)).mode & 0o777).toBe(0o600);
    writeFileSync(adminTokenPath(dir), '\n');
    expect(() => loadOrCreateAdminToken(dir)).toThrow(/no usable token/);
    expect(readFileSync(adminTokenPath(dir), 'utf8')).toBe('\n');
  });

  it('checks the bearer header exactly', () => {
    expect(isAuthorized('Bearer abc', 'abc')).toBe(true);
    expect(isAuthorized('bearer abc', 'abc')).toBe(true);
    expect(isAuthorized('Bearer abcd', 'abc')).toBe(false);
    expect(isAuthorized('Basic abc', 'abc')).toBe(false);
    expect(isAuthorized(undefined, 'abc')).toBe(false);
    expect(isAuthorized('Bearer ', 'abc')).toBe(false);
  });
});

describe('admin server', () => {
  it('serves /healthz and /metrics without a token', async () => {
    const { base } = await start();
    const h = await fetch(`${base}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ok', policyVersion: 7 });
    const m = await fetch(`${base}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
    const body = await m.text();
    expect(body).toContain('# TYPE gatehouse_connections_total counter');
    expect(body).toContain('process_resident_memory_bytes');
  });

  it('/metrics moves when counters move', async () => {
    const { base, metrics } = await start();
    const hub = new EventHub();
    observe(hub, createLogger({ level: 'silent' }), metrics);
    const before = await (await fetch(`${base}/metrics`)).text();
    expect(series(before, 'gatehouse_connections_total')).toBe(0);
    hub.emit({ type: 'connection.open', connectionId: 'c', remoteAddress: '127.0.0.1', remotePort: 1, localPort: 2 });
    hub.emit({ type: 'connection.open', connectionId: 'd', remoteAddress: '127.0.0.1', remotePort: 1, localPort: 2 });
    hub.emit({ type: 'relay.bytes', direction: 'target-to-client', bytes: 4096 });
    const after = await (await fetch(`${base}/metrics`)).text();
    expect(series(after, 'gatehouse_connections_total')).toBe(2);
    expect(series(after, 'gatehouse_relayed_bytes_total{direction="target-to-client"}')).toBe(4096);
  });

  it('protects private routes with the bearer token', async () => {
    const token = 'secret-token-0123456789abcdef';
    const { server, base } = await start(token);
    server.route({ methods: ['GET'], path: '/api/sessions', handler: (_q, res) => sendJson(res, 200, { sessions: [] }) });
    const anon = await fetch(`${base}/api/sessions`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toContain('Bearer');
    expect((await fetch(`${base}/api/sessions`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(`${base}/api/sessions`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ sessions: [] });
  });

  it('routes by exact path and longest prefix, 404 and 405 otherwise', async () => {
    const token = 'x'.repeat(20);
    const { server, base } = await start(token);
    const auth = { authorization: `Bearer ${token}` };
    server.route({ methods: ['GET'], path: '/rec/', prefix: true, public: true, handler: (_q, res, ctx) => sendJson(res, 200, { at: 'rec', sub: ctx.subpath }) });
    server.route({ methods: ['GET'], path: '/rec/live/', prefix: true, public: true, handler: (_q, res, ctx) => sendJson(res, 200, { at: 'live', sub: ctx.subpath }) });
    const off = server.route({ methods: ['POST'], path: '/api/kill', handler: async (req, res) => sendJson(res, 200, { got: await readJsonBody(req) }) });
    expect(await (await fetch(`${base}/rec/2026/a.cast`)).json()).toEqual({ at: 'rec', sub: '2026/a.cast' });
    expect(await (await fetch(`${base}/rec/live/s1`)).json()).toEqual({ at: 'live', sub: 's1' });
    expect(await (await fetch(`${base}/rec`)).json()).toEqual({ at: 'rec', sub: '' });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const wrongMethod = await fetch(`${base}/api/kill`, { headers: auth });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    const posted = await fetch(`${base}/api/kill`, { method: 'POST', headers: auth, body: '{"id":"s1"}' });
    expect(await posted.json()).toEqual({ got: { id: 's1' } });
    expect((await fetch(`${base}/api/kill`, { method: 'POST', headers: auth, body: '{bad' })).status).toBe(400);
    off();
    expect((await fetch(`${base}/api/kill`, { method: 'POST', headers: auth })).status).toBe(404);
    expect(() => server.route({ methods: ['GET'], path: '/healthz', handler: () => {} })).toThrow(/already registered/);
  });

  it('turns handler failures into 500 without details, and HttpError into its status', async () => {
    const errors: unknown[] = [];
    const server = new AdminServer({ token: 'y'.repeat(20), onError: (e) => errors.push(e) });
    servers.push(server);
    await server.listen('127.0.0.1', 0);
    server.route({ methods: ['GET'], path: '/boom', public: true, handler: () => { throw new Error('secret internals'); } });
    server.route({ methods: ['GET'], path: '/teapot', public: true, handler: () => { throw new HttpError(418, 'short and stout'); } });
    const boom = await fetch(`${server.url()}/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.text()).not.toContain('secret internals');
    expect(errors).toHaveLength(1);
    const teapot = await fetch(`${server.url()}/teapot`);
    expect(teapot.status).toBe(418);
    expect(await teapot.json()).toEqual({ error: 'short and stout' });
    // no metrics source configured: no /metrics route
    expect((await fetch(`${server.url()}/metrics`)).status).toBe(404);
  });
});
