/**
 * The admin listener (node:http): /metrics and /healthz, plus a route registry that other
 * modules plug into (sessions API, recordings UI, /login). Routes are private unless marked
 * public; private routes need `Authorization: Bearer <admin token>`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError, sendJson, sendText } from './http.js';
import { isAuthorized } from './token.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface RouteContext {
  readonly url: URL;
  /** For prefix routes: the part of the path after the prefix ("" for the prefix itself). */
  readonly subpath: string;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => void | Promise<void>;

export interface AdminRoute {
  readonly methods: readonly HttpMethod[];
  /** An exact path ("/healthz"), or a prefix ending in "/" when `prefix` is set ("/api/sessions/"). */
  readonly path: string;
  readonly prefix?: boolean;
  /** Served without the token (metrics, health, the OIDC login pages). */
  readonly public?: boolean;
  readonly handler: RouteHandler;
}

/** What /metrics serves; GatehouseMetrics.expose fits. */
export type MetricsSource = () => Promise<{ contentType: string; body: string }>;

export interface AdminServerOptions {
  readonly token: string;
  readonly metrics?: MetricsSource;
  /** Extra fields for /healthz (policy version, sessions...). */
  readonly health?: () => Record<string, unknown>;
  /** Told about handler failures (the response is a plain 500). */
  readonly onError?: (error: unknown, req: IncomingMessage) => void;
}

export class AdminServer {
  private readonly routes: AdminRoute[] = [];
  private readonly server: Server;
  private readonly started = Date.now();

  constructor(private readonly options: AdminServerOptions) {
    this.server = createServer((req, res) => {
      this.dispatch(req, res).catch((e: unknown) => this.fail(e, req, res));
    });
    // Bound slow clients: the admin listener must not be held open by a trickling request.
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
    this.route({
      methods: ['GET', 'HEAD'],
      path: '/healthz',
      public: true,
      handler: (_req, res) =>
        sendJson(res, 200, { status: 'ok', uptimeSeconds: Math.round((Date.now() - this.started) / 1000), ...options.health?.() }),
    });
    const metrics = options.metrics;
    if (metrics) {
      this.route({
        methods: ['GET', 'HEAD'],
        path: '/metrics',
        public: true,
        handler: async (_req, res) => {
          const { contentType, body } = await metrics();
          sendText(res, 200, body, contentType);
        },
      });
    }
  }

  /** Adds a route; returns a function that removes it. A path may be registered once. */
  route(route: AdminRoute): () => void {
    if (!route.path.startsWith('/')) throw new Error(`route path must start with /: ${route.path}`);
    if (route.prefix && !route.path.endsWith('/')) throw new Error(`a prefix route must end with /: ${route.path}`);
    if (this.routes.some((r) => r.path === route.path && Boolean(r.prefix) === Boolean(route.prefix))) {
      throw new Error(`route ${route.path} is already registered`);
    }
    this.routes.push(route);
    return () => {
      const i = this.routes.indexOf(route);
      if (i >= 0) this.routes.splice(i, 1);
    };
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.address();
  }

  address(): AddressInfo {
    const a = this.server.address();
    if (a === null || typeof a === 'string') throw new Error('the admin listener is not listening');
    return a;
  }

  /** The base URL clients use, e.g. http://127.0.0.1:9122. */
  url(): string {
    const a = this.address();
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private match(path: string): { route: AdminRoute; subpath: string } | undefined {
    const exact = this.routes.find((r) => !r.prefix && r.path === path);
    if (exact) return { route: exact, subpath: '' };
    let best: AdminRoute | undefined;
    for (const r of this.routes) {
      if (r.prefix && (path.startsWith(r.path) || path === r.path.slice(0, -1))) {
        if (!best || r.path.length > best.path.length) best = r;
      }
    }
    return best ? { route: best, subpath: path.slice(best.path.length) } : undefined;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('x-content-type-options', 'nosniff');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin.invalid');
    } catch {
      throw new HttpError(400, 'bad request target');
    }
    const found = this.match(url.pathname);
    if (!found) throw new HttpError(404, `no route for ${url.pathname}`);
    const { route, subpath } = found;
    if (!route.public && !isAuthorized(req.headers.authorization, this.options.token)) {
      res.setHeader('www-authenticate', 'Bearer realm="gatehouse-admin"');
      throw new HttpError(401, 'this route needs Authorization: Bearer <admin token> (state dir admin.token)');
    }
    const method = (req.method ?? 'GET').toUpperCase();
    if (!(route.methods as readonly string[]).includes(method)) {
      res.setHeader('allow', route.methods.join(', '));
      throw new HttpError(405, `${method} is not allowed on ${route.path}`);
    }
    await route.handler(req, res, { url, subpath });
  }

  private fail(e: unknown, req: IncomingMessage, res: ServerResponse): void {
    const status = e instanceof HttpError ? e.status : 500;
    if (!(e instanceof HttpError)) this.options.onError?.(e, req);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, status, { error: e instanceof HttpError ? e.message : 'internal error' });
  }
}
