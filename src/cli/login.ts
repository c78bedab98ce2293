/**
 * `gatehouse login --gateway URL [--key ~/.ssh/id_ed25519.pub] [--no-browser] [--timeout 300]`
 * Web sign-in for a short-lived user certificate: a loopback receiver on 127.0.0.1 (RFC 8252
 * §7.3) gets the certificate from the gateway's /login/callback redirect and writes it beside
 * the key as <key>-cert.pub, where ssh picks it up. Exit 0 signed in, 1 refused/failed, 2 usage.
 */
import { spawn } from 'node:child_process';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LOGIN_PATH } from '../oidc/web-login.js';
import { PublicKeyLineError, parseCertificateLine, parsePublicKeyLine } from '../oidc/ssh-public-key.js';

export const LOGIN_USAGE = 'usage: gatehouse login --gateway URL [--key ~/.ssh/id_ed25519.pub] [--no-browser] [--timeout SECONDS]';

export interface LoginIo {
  readonly stdout: { write(data: string): unknown };
  readonly stderr: { write(data: string): unknown };
  /** Opens the sign-in URL; default: xdg-open / open when a desktop is there. */
  readonly openBrowser?: (url: string) => void | Promise<void>;
  readonly home?: string;
}

const DEFAULT_KEYS = ['id_ed25519.pub', 'id_ecdsa.pub', 'id_rsa.pub'];

function defaultOpenBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.env['DISPLAY'] || process.env['WAYLAND_DISPLAY'] ? 'xdg-open' : undefined;
  if (command === undefined) return;
  const child = spawn(command, [url], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
}

function htmlReply(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'" });
  const safe = text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>gatehouse login</title></head><body><p>${safe}</p></body></html>`);
}

type Outcome = { ok: true; certificate: string; principal: string; validBefore: string } | { ok: false; message: string };

export async function runLogin(argv: readonly string[], io: LoginIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let values: { gateway?: string; key?: string; 'no-browser'?: boolean; timeout?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        gateway: { type: 'string' },
        key: { type: 'string' },
        'no-browser': { type: 'boolean', default: false },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    io.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${LOGIN_USAGE}\n`);
    return 2;
  }
  if (values.help || values.gateway === undefined) {
    io.stderr.write(`${LOGIN_USAGE}\n`);
    return values.help ? 0 : 2;
  }
  let gateway: URL;
  try {
    gateway = new URL(values.gateway);
    if (gateway.protocol !== 'https:' && gateway.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    io.stderr.write(`--gateway: not an http(s) URL: ${values.gateway}\n`);
    return 2;
  }
  const timeoutS = values.timeout === undefined ? 300 : Number(values.timeout);
  if (!Number.isInteger(timeoutS) || timeoutS <= 0) {
    io.stderr.write('--timeout: expected a positive number of seconds\n');
    return 2;
  }
  const sshDir = join(io.home ?? homedir(), '.ssh');
  const keyPath = values.key ?? DEFAULT_KEYS.map((k) => join(sshDir, k)).find((p) => existsSync(p)) ?? join(sshDir, DEFAULT_KEYS[0] ?? '');
  if (!keyPath.endsWith('.pub')) {
    io.stderr.write(`--key: give the public key file (ending in .pub), not ${keyPath}\n`);
    return 2;
  }
  let key: ReturnType<typeof parsePublicKeyLine>;
  try {
    key = parsePublicKeyLine(readFileSync(keyPath, 'utf8'));
  } catch (e) {
    const why = e instanceof PublicKeyLineError ? e.message : `cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
    io.stderr.write(`${keyPath}: ${why}\nCreate a key with: ssh-keygen -t ed25519\n`);
    return 2;
  }
  const certPath = `${keyPath.slice(0, -'.pub'.length)}-cert.pub`;
  const cliState = randomBytes(24).toString('base64url');

  let settle!: (o: Outcome) => void;
  const outcome = new Promise<Outcome>((resolve) => {
    settle = resolve;
  });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== '/callback') {
      htmlReply(res, 404, 'Not found.');
      return;
    }
    const state = Buffer.from(url.searchParams.get('cli_state') ?? '');
    const expected = Buffer.from(cliState);
    if (state.length !== expected.length || !timingSafeEqual(state, expected)) {
      // Not our sign-in: ignore it and keep waiting.
      htmlReply(res, 400, 'This sign-in does not belong to the waiting gatehouse login.');
      return;
    }
    const error = url.searchParams.get('error');
    if (error !== null) {
      const message = (url.searchParams.get('message') ?? error).replace(/[\x00-\x1f\x7f]/g, '').slice(0, 300);
      htmlReply(res, 403, message);
      settle({ ok: false, message });
      return;
    }
    let certificate: string;
    try {
      certificate = Buffer.from(url.searchParams.get('cert') ?? '', 'base64url').toString('utf8').trim();
      parseCertificateLine(certificate, key);
    } catch (e) {
      const message = `the gateway sent an unusable certificate: ${(e as Error).message}`;
      htmlReply(res, 502, message);
      settle({ ok: false, message });
      return;
    }
    const principal = (url.searchParams.get('principal') ?? '?').replace(/[\x00-\x1f\x7f]/g, '');
    htmlReply(res, 200, `Signed in as ${principal}. You can close this window and return to the terminal.`);
    settle({ ok: true, certificate, principal, validBefore: url.searchParams.get('valid_before') ?? '?' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const timer = setTimeout(() => settle({ ok: false, message: `no answer within ${timeoutS} s` }), timeoutS * 1000);
  try {
    const loginUrl = new URL(LOGIN_PATH, gateway);
    loginUrl.searchParams.set('key', Buffer.from(key.canonical, 'utf8').toString('base64url'));
    loginUrl.searchParams.set('port', String(port));
    loginUrl.searchParams.set('cli_state', cliState);
    io.stdout.write(`Sign in to the gateway in your browser:\n\n  ${loginUrl.href}\n\nWaiting for the sign-in to finish (key ${keyPath})…\n`);
    if (!values['no-browser']) await (io.openBrowser ?? defaultOpenBrowser)(loginUrl.href);
    const result = await outcome;
    if (!result.ok) {
      io.stderr.write(`gatehouse login: ${result.message}\n`);
      return 1;
    }
    const tmp = `${certPath}.${process.pid}.tmp`;
    await writeFile(tmp, `${result.certificate}\n`, { mode: 0o644 });
    await rename(tmp, certPath);
    io.stdout.write(`Signed in as ${result.principal}. Certificate written to ${certPath} (valid until ${result.validBefore}).\n`);
    return 0;
  } finally {
    clearTimeout(timer);
    server.closeAllConnections();
    server.close();
  }
}
