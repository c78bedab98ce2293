import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/ca.js';

const hasKeygen = existsSync('/usr/bin/ssh-keygen');

async function ca(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

describe('gatehouse ca', () => {
  it('creates the state dir and prints each CA as one stable OpenSSH line', async () => {
    const state = join(mkdtempSync(join(tmpdir(), 'gh-ca-')), 'state');
    const host = await ca(['host', '--state-dir', state]);
    expect(host.code).toBe(0);
    expect(host.out).toMatch(/^ssh-ed25519 [A-Za-z0-9+/]+=* ?[^\n]*\n$/);
    expect(statSync(state).mode & 0o777).toBe(0o700);
    expect(statSync(join(state, 'host-ca')).mode & 0o777).toBe(0o600);
    const again = await ca(['host', '--state-dir', state]);
    expect(again.out).toBe(host.out);
    const user = await ca(['--state-dir', state, 'user']);
    expect(user.code).toBe(0);
    expect(user.out.split(' ')[1]).not.toBe(host.out.split(' ')[1]);
  });

  it('rejects other arguments', async () => {
    expect((await ca([])).code).toBe(2);
    expect((await ca(['root'])).code).toBe(2);
    expect((await ca(['host', 'extra'])).code).toBe(2);
    expect((await ca(['--help'])).out).toContain('@cert-authority');
  });

  it.skipIf(!hasKeygen)('the printed line is the key ssh-keygen signs with from the state dir (needs openssh-client)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-ca-kg-'));
    const state = join(dir, 'state');
    const line = (await ca(['user', '--state-dir', state])).out.trim();
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
    execFileSync('ssh-keygen', ['-q', '-s', join(state, 'user-ca'), '-I', 'test', '-n', 'root', join(dir, 'id.pub')]);
    const listing = execFileSync('ssh-keygen', ['-L', '-f', join(dir, 'id-cert.pub')], { encoding: 'utf8' });
    writeFileSync(join(dir, 'ca.pub'), `${line}\n`);
    const fp = execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'ca.pub')], { encoding: 'utf8' }).split(' ')[1] ?? 'none';
    expect(listing).toContain(`Signing CA: ED25519 ${fp}`);
    expect(readFileSync(join(dir, 'ca.pub'), 'utf8').split('\n')).toHaveLength(2);
  });
});
