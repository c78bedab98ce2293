/**
 * The server's default offer is what ssh-audit (Debian package ssh-audit) rates clean: at level
 * "warn" it may only report algorithms too new for the packaged ssh-audit to know
 * (mlkem768x25519-sha256 and the strict-KEX marker), never a weak or failing one. The same
 * server with NIST curves and non-EtM MACs enabled must be flagged, so the check can fail.
 */
import { describe, expect, it } from 'vitest';
import type { TransportOptions } from '../../src/transport/transport-types.js';
import { requireBinaries, run, which } from '../support/index.js';
import { listenTransport } from './support/tcp-driver.js';
import { testHostKey } from './support/test-host-keys.js';

const req = requireBinaries('ssh-audit');
const sshAudit = which('ssh-audit') ?? 'ssh-audit';
const hostKey = testHostKey('ed25519');
/** Names this ssh-audit release predates; it reports them as unknown, not as weak. */
const TOO_NEW = new Set(['mlkem768x25519-sha256', 'kex-strict-s-v00@openssh.com']);

async function audit(options: TransportOptions): Promise<{ flagged: string[]; output: string }> {
  const l = await listenTransport(() => options);
  try {
    const r = await run(sshAudit, ['-l', 'warn', '-p', String(l.port), '127.0.0.1'], { timeoutMs: 30_000 });
    // strip ANSI colour codes
    const output = r.stdout.replace(/\x1b\[[0-9;]*m/g, '');
    const flagged = output
      .split('\n')
      .filter((line) => /^\(\w+\) /.test(line) && /\[(warn|fail)\]/.test(line))
      .map((line) => ({ name: line.replace(/^\(\w+\) (\S+).*$/, '$1'), line }))
      .filter((f) => !(TOO_NEW.has(f.name) && f.line.includes('unknown algorithm')))
      .map((f) => f.line.trim());
    return { flagged, output };
  } finally {
    await l.close();
  }
}

describe.skipIf(req.skip)(`ssh-audit against our server${req.reason}`, () => {
  it('rates the default server offer clean', async () => {
    const r = await audit({ role: 'server', hostKeys: [hostKey] });
    // the audit ran and reached the algorithm sections
    expect(r.output).toMatch(/# key exchange algorithms/);
    expect(r.flagged, r.output).toEqual([]);
  }, 40_000);

  it('flags the client-only algorithms when a server is configured to offer them', async () => {
    const r = await audit({
      role: 'server',
      hostKeys: [hostKey],
      algorithms: { kex: ['curve25519-sha256', 'ecdh-sha2-nistp256'], mac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-256'] },
    });
    expect(r.flagged.some((l) => l.includes('ecdh-sha2-nistp256'))).toBe(true);
    expect(r.flagged.some((l) => l.includes('hmac-sha2-256 '))).toBe(true);
  }, 40_000);
});
