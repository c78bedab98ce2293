// Web sign-in for certificates, served by the admin listener:
//
//   GET /login?key=<b64url public key line>&port=<loopback port>&cli_state=<random>
//        → remembers the request, sets a browser-binding cookie, redirects to the provider
//          (authorization code flow, PKCE S256, state, nonce — OIDC Core §3.1, RFC 7636)
//   GET /login/callback?code&state
//        → redeems the code, validates the ID token, maps the identity, asks the user CA for a
//          certificate (principal = identity.user), and redirects the browser to the CLI's
//          loopback receiver http://127.0.0.1:<port>/callback?cli_state&cert&principal&valid_before
//
// The redirect target is always built from a port number on 127.0.0.1 (RFC 8252 §7.3), so a
// crafted /login link cannot send a certificate anywhere else.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as oidc from 'openid-client';
import type { AdminRoute } from '../admin/index.js';
import type { CertificateAuthority } from '../ca/index.js';
import { formatPublicKeyLine } from '../keys/public-key.js';
import type { OidcIdentity } from './claims.js';
import { OidcLoginError } from './errors.js';
import type { OidcClient } from './provider-client.js';
import { PublicKeyLineError, parsePublicKeyLine, sha256Fingerprint } from './ssh-public-key.js';

export interface UserCertificateRequest {
  /** The SSH wire blob of the key to certify. */
  readonly publicKeyBlob: Uint8Array;
  /** The same key as "type base64". */
  readonly publicKey: string;
  readonly principals: readonly string[];
  readonly keyId: string;
  readonly validitySeconds: number;
  /** Seconds since the epoch; the CA backdates validAfter a little for clock skew. */
  readonly nowSeconds: number;
  readonly identity: OidcIdentity;
}

/** Signs with the gateway user CA; returns the certificate line ("<type>-cert-v01@openssh.com base64 [comment]"). */
export type UserCertificateIssuer = (request: UserCertificateRequest) => Promise<string>;

/**
 * Extensions of web sign-in certificates: a terminal, ProxyJump (direct-tcpip is port
 * forwarding to sshd) and agent forwarding, which policy may still refuse per target.
 */
export const WEB_LOGIN_CERT_EXTENSIONS = ['permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty'] as const;

/** The issuer backed by the gateway user CA (src/ca). */
export function userCaIssuer(ca: Pick<CertificateAuthority, 'issueUserCertificate'>): UserCertificateIssuer {
  return async (req) => {
    const signed = ca.issueUserCertificate({
      publicKey: req.publicKeyBlob,
      principals: req.principals,
      keyId: req.keyId,
      validitySeconds: req.validitySeconds,
      extensions: WEB_LOGIN_CERT_EXTENSIONS,
      now: req.nowSeconds,
    });
    return formatPublicKeyLine(signed.blob, `gatehouse-login:${req.identity.user}`);
  };
}

export interface WebLoginOptions {
  readonly client: Pick<OidcClient, 'authorizationUrl' | 'exchangeCode'>;
  readonly issueCertificate: UserCertificateIssuer;
  /** The admin listener as the browser reaches it, e.g. https://gatehouse.example.com:9122 */
  readonly publicBaseUrl: URL;
  readonly certificateTtlSeconds: number;
  /** How long a started sign-in may take (default 10 min). */
  readonly pendingTtlSeconds?: number;
  readonly maxPending?: number;
  readonly now?: () => number;
  readonly onIssued?: (event: { identity: OidcIdentity; fingerprint: string; validBefore: Date }) => void;
  readonly onFailed?: (event: { error: OidcLoginError }) => void;
}

interface Pending {
  readonly publicKey: string;
  readonly publicKeyBlob: Uint8Array;
  readonly fingerprint: string;
  readonly port: number;
  readonly cliState: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly browserBinding: string;
  readonly createdAtMs: number;
}

export const LOGIN_PATH = '/login';
export const CALLBACK_PATH = '/login/callback';
const COOKIE = 'gatehouse_login';
const CLI_STATE = /^[A-Za-z0-9_-]{16,128}$/;
/** Key ids of web sign-in certificates start with this, so the gateway can tell they stand for an SSO sign-in. */
export const WEB_LOGIN_KEY_ID_PREFIX = 'gatehouse-web:';
const GROUPS_MARK = ' groups=';
/** Bound on the groups part of a key id; groups past it are left out (they can only grant, so fewer is safe). */
const MAX_KEY_ID_GROUPS_CHARS = 4096;

/**
 * The key id of a web sign-in certificate: `gatehouse-web:<user>:<subject> groups=<g1>,<g2>`, each
 * group percent-encoded. The groups of the sign-in ride in the key id, which the user CA signs,
 * so that rules naming OIDC groups admit the certificate as they admit a device-flow sign-in (a
 * snapshot for the certificate's lifetime, like a key binding).
 */
export function webLoginKeyId(identity: Pick<OidcIdentity, 'user' | 'subject' | 'groups'>): string {
  const groups: string[] = [];
  let size = 0;
  for (const g of identity.groups) {
    const encoded = encodeURIComponent(g);
    if (size + encoded.length + 1 > MAX_KEY_ID_GROUPS_CHARS) break;
    groups.push(encoded);
    size += encoded.length + 1;
  }
  return `${WEB_LOGIN_KEY_ID_PREFIX}${identity.user}:${identity.subject}${GROUPS_MARK}${groups.join(',')}`;
}

/** The groups in a web sign-in key id; none when it has none or they do not parse (total, never throws). */
export function groupsFromWebLoginKeyId(keyId: string): string[] {
  const at = keyId.lastIndexOf(GROUPS_MARK);
  if (!keyId.startsWith(WEB_LOGIN_KEY_ID_PREFIX) || at < 0) return [];
  const list = keyId.slice(at + GROUPS_MARK.length);
  if (list === '' || list.length > MAX_KEY_ID_GROUPS_CHARS) return [];
  const groups: string[] = [];
  for (const part of list.split(',')) {
    let g: string;
    try {
      g = decodeURIComponent(part);
    } catch {
      return [];
    }
    if (g.length === 0 || g.length > 256 || /[\x00-\x1f\x7f]/.test(g)) return [];
    groups.push(g);
  }
  return groups;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res: ServerResponse, status: number, title: string, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'",
    'x-frame-options': 'DENY',
  });
  res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`);
}

function redirect(res: ServerResponse, location: string, cookie?: string): void {
  const headers: Record<string, string | string[]> = { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' };
  if (cookie !== undefined) headers['set-cookie'] = cookie;
  res.writeHead(302, headers);
  res.end();
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class WebLogin {
  readonly #opts: WebLoginOptions;
  readonly #pending = new Map<string, Pending>();

  constructor(opts: WebLoginOptions) {
    this.#opts = opts;
  }

  get redirectUri(): string {
    return new URL(CALLBACK_PATH, this.#opts.publicBaseUrl).href;
  }

  /**
   * Routes for the admin listener's registry (src/admin): public, since the person signing in has
   * no admin token. `for (const r of web.routes()) adminServer.route(r)`.
   */
  routes(): AdminRoute[] {
    return [
      { methods: ['GET'], path: LOGIN_PATH, public: true, handler: (req, res) => this.#start(req, res) },
      { methods: ['GET'], path: CALLBACK_PATH, public: true, handler: (req, res) => this.#callback(req, res) },
    ];
  }

  /** A plain node:http handler: serves the two routes and returns false for anything else. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === LOGIN_PATH || path === CALLBACK_PATH) {
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET' });
        res.end();
      } else if (path === LOGIN_PATH) await this.#start(req, res);
      else await this.#callback(req, res);
      return true;
    }
    return false;
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }

  #prune(): void {
    const cutoff = this.#now() - (this.#opts.pendingTtlSeconds ?? 600) * 1000;
    for (const [state, p] of this.#pending) if (p.createdAtMs < cutoff) this.#pending.delete(state);
    const max = this.#opts.maxPending ?? 1000;
    // Map iteration is insertion order: the oldest sign-ins go first.
    for (const state of this.#pending.keys()) {
      if (this.#pending.size < max) break;
      this.#pending.delete(state);
    }
  }

  async #start(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const port = Number(q.get('port'));
    const cliState = q.get('cli_state') ?? '';
    if (!Number.isInteger(port) || port < 1 || port > 65535 || !CLI_STATE.test(cliState)) {
      page(res, 400, 'Bad sign-in request', 'This page is opened by "gatehouse login"; start there.');
      return;
    }
    let key: ReturnType<typeof parsePublicKeyLine>;
    try {
      key = parsePublicKeyLine(Buffer.from(q.get('key') ?? '', 'base64url').toString('utf8'));
    } catch (err) {
      page(res, 400, 'Bad public key', err instanceof PublicKeyLineError ? err.message : 'unreadable key');
      return;
    }
    this.#prune();
    const state = oidc.randomState();
    const pending: Pending = {
      publicKey: key.canonical,
      publicKeyBlob: key.blob,
      fingerprint: sha256Fingerprint(key.blob),
      port,
      cliState,
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      browserBinding: randomBytes(24).toString('base64url'),
      createdAtMs: this.#now(),
    };
    this.#pending.set(state, pending);
    const url = this.#opts.client.authorizationUrl({
      redirectUri: this.redirectUri,
      state,
      nonce: pending.nonce,
      codeChallenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
    });
    const secure = this.#opts.publicBaseUrl.protocol === 'https:' ? '; Secure' : '';
    // Ties the callback to the browser that started the sign-in (login CSRF, RFC 6749 §10.12).
    redirect(res, url.href, `${COOKIE}=${pending.browserBinding}; Path=${LOGIN_PATH}; HttpOnly; SameSite=Lax; Max-Age=${this.#opts.pendingTtlSeconds ?? 600}${secure}`);
  }

  async #callback(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const current = new URL(req.url ?? '/', this.#opts.publicBaseUrl);
    const state = current.searchParams.get('state') ?? '';
    this.#prune();
    const pending = this.#pending.get(state);
    if (pending === undefined) {
      page(res, 400, 'Sign-in expired', 'This sign-in is unknown or has expired. Run "gatehouse login" again.');
      return;
    }
    // Single use, whatever happens next.
    this.#pending.delete(state);
    const back = new URL(`http://127.0.0.1:${pending.port}/callback`);
    back.searchParams.set('cli_state', pending.cliState);
    const fail = (error: OidcLoginError) => {
      this.#opts.onFailed?.({ error });
      back.searchParams.set('error', error.kind);
      back.searchParams.set('message', error.userMessage);
      redirect(res, back.href, `${COOKIE}=; Path=${LOGIN_PATH}; Max-Age=0`);
    };
    const binding = cookieValue(req, COOKIE);
    if (binding === undefined || !sameSecret(binding, pending.browserBinding)) {
      fail(new OidcLoginError('access-denied', 'Sign-in refused: it was finished in a different browser than it was started in.', 'login cookie missing or wrong'));
      return;
    }
    let identity: OidcIdentity;
    try {
      identity = await this.#opts.client.exchangeCode(current, { state, nonce: pending.nonce, codeVerifier: pending.codeVerifier, redirectUri: this.redirectUri });
    } catch (err) {
      fail(err instanceof OidcLoginError ? err : new OidcLoginError('provider-error', 'Sign-in failed at the identity provider.', (err as Error).message));
      return;
    }
    const nowSeconds = Math.floor(this.#now() / 1000);
    const validBefore = new Date((nowSeconds + this.#opts.certificateTtlSeconds) * 1000);
    let certificate: string;
    try {
      certificate = await this.#opts.issueCertificate({
        publicKeyBlob: pending.publicKeyBlob,
        publicKey: pending.publicKey,
        principals: [identity.user],
        keyId: webLoginKeyId(identity),
        validitySeconds: this.#opts.certificateTtlSeconds,
        nowSeconds,
        identity,
      });
    } catch (err) {
      fail(new OidcLoginError('provider-error', 'Signed in, but the gateway could not issue a certificate. Tell an administrator.', `certificate issuer failed: ${(err as Error).message}`));
      return;
    }
    this.#opts.onIssued?.({ identity, fingerprint: pending.fingerprint, validBefore });
    back.searchParams.set('cert', Buffer.from(certificate.trim(), 'utf8').toString('base64url'));
    back.searchParams.set('principal', identity.user);
    back.searchParams.set('valid_before', validBefore.toISOString());
    redirect(res, back.href, `${COOKIE}=; Path=${LOGIN_PATH}; Max-Age=0`);
  }
}
