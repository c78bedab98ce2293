import { generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAudit } from '../../src/obs/audit.js';
import { createLogger } from '../../src/obs/logger.js';
import { scrub } from '../../src/obs/redact.js';

function capture(): { lines: () => Record<string, unknown>[]; raw: () => string; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    stream,
    raw: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const PEM = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const OPENSSH = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBsZWNyZXRzZWNyZXRzZWNyZXRzZWNyZXRzZWNyZXRzZWNyAAAAkMT4vvLE
-----END OPENSSH PRIVATE KEY-----`;
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImdyb3VwcyI6WyJvcHMiXX0.c2lnbmF0dXJlc2lnbmF0dXJl';
const SECRETS = ['hunter2-password', 'tok-abcdef123456', 'client-secret-xyz', 'cookie-value-123', 'bearer-cred-9876543'];

describe('logger redaction', () => {
  it('never writes secrets, whatever field or message they arrive in', () => {
    const out = capture();
    const log = createLogger({ level: 'trace', destination: out.stream });
    log.info({ password: SECRETS[0], user: 'alice' }, 'login');
    log.info({ nested: { deeper: { accessToken: SECRETS[1], list: [{ client_secret: SECRETS[2] }] } } });
    log.warn({ headers: { Cookie: SECRETS[3], authorization: `Bearer ${SECRETS[4]}` } });
    log.info({ key: PEM }, 'loaded key');
    log.info(`private key follows ${OPENSSH}`);
    log.info({ note: `id token was ${JWT}` });
    log.info('header was Authorization: Bearer %s', SECRETS[4]);
    log.child({ clientSecret: SECRETS[2] }).info('child');
    const err = Object.assign(new Error(`failed with ${PEM}`), { password: SECRETS[0] });
    log.error({ err }, 'oops');
    log.error(err);
    log.info({ oidc: { clientSecret: SECRETS[2], issuer: 'https://idp.example' } });

    const raw = out.raw();
    for (const s of [...SECRETS, JWT, 'PRIVATE KEY-----\nM', 'b3BlbnNzaC1rZXktdjE', PEM.split('\n')[1] ?? 'x']) {
      expect(raw, s).not.toContain(s);
    }
    // what is not secret is still there
    expect(raw).toContain('alice');
    expect(raw).toContain('https://idp.example');
    expect(raw).toContain('[REDACTED]');
    const lines = out.lines();
    expect(lines).toHaveLength(11);
    expect(lines[0]).toMatchObject({ level: 'info', name: 'gatehouse', password: '[REDACTED]', msg: 'login' });
    expect(typeof lines[0]?.['time']).toBe('string');
  });

  it('keeps non-secret fields and cuts cycles', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(scrub(cyclic)).toEqual({ a: 1, self: '[Circular]' });
    expect(scrub({ keyFingerprint: 'SHA256:abc', code: 'ENOENT', bytes: new Uint8Array(4) })).toEqual({
      keyFingerprint: 'SHA256:abc',
      code: 'ENOENT',
      bytes: '[4 bytes]',
    });
  });

  it('audit writes one typed line per event, denials at warn', () => {
    const out = capture();
    const audit = createAudit(createLogger({ destination: out.stream }));
    audit({ type: 'connection.open', connectionId: 'c1', remoteAddress: '127.0.0.1', remotePort: 5555, localPort: 2222 });
    audit({
      type: 'policy.decision',
      user: 'alice',
      target: 'db1',
      login: 'root',
      action: 'port-forward',
      result: 'deny',
      rule: 'ops-prod',
      reason: 'rule ops-prod does not allow port-forward',
    });
    audit({ type: 'relay.bytes', direction: 'client-to-target', bytes: 10 });
    const lines = out.lines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ audit: 'connection.open', level: 'info', component: 'audit', remoteAddress: '127.0.0.1' });
    expect(lines[1]).toMatchObject({ audit: 'policy.decision', level: 'warn', rule: 'ops-prod', result: 'deny' });
    expect(String(lines[1]?.['msg'])).toContain('does not allow port-forward');
  });
});
