import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { registerPolicyRoutes } from '../../src/admin/policy-routes.js';
import { AdminServer } from '../../src/admin/server.js';
import { PolicyStore } from '../../src/policy/store.js';
import { basePolicy, tempDir } from '../policy/helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('admin policy routes', () => {
  it('shows the policy in force and reloads on request, keeping it on a broken edit', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'main.yaml'), basePolicy());
    const store = new PolicyStore(dir);
    const token = 'k'.repeat(32);
    const admin = new AdminServer({ token });
    registerPolicyRoutes(admin, store);
    await admin.listen('127.0.0.1', 0);
    cleanups.push(() => admin.close(), () => store.close());
    const auth = { authorization: `Bearer ${token}` };
    const base = admin.url();

    expect((await fetch(`${base}/api/policy`)).status).toBe(401);
    const shown = (await (await fetch(`${base}/api/policy`, { headers: auth })).json()) as Record<string, unknown>;
    expect(shown).toMatchObject({ version: 1, files: [join(dir, 'main.yaml')] });
    expect((shown['targets'] as { name: string }[]).map((t) => t.name)).toEqual(['db1', 'web1', 'web2']);
    expect(JSON.stringify(shown)).not.toContain('AAAA'); // fingerprints only, no key material

    const post = () => fetch(`${base}/api/policy/reload`, { method: 'POST', headers: auth });
    expect(await (await post()).json()).toEqual({ result: 'unchanged', version: 1 });
    writeFileSync(join(dir, 'main.yaml'), `${basePolicy()}  - name: half-written\n`);
    const rejected = await post();
    expect(rejected.status).toBe(422);
    const body = (await rejected.json()) as { result: string; version: number; errors: string[] };
    expect(body.result).toBe('rejected');
    expect(body.version).toBe(1);
    expect(body.errors[0]).toMatch(/main\.yaml:\d+:\d+: /);
    writeFileSync(join(dir, 'main.yaml'), basePolicy().replace('logins: [deploy]', 'logins: [deploy, www]'));
    expect(await (await post()).json()).toEqual({ result: 'applied', version: 2 });
  });
});
