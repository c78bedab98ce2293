import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatehouseEvent } from '../../src/obs/events.js';
import { PolicyLoadError } from '../../src/policy/errors.js';
import { evaluate } from '../../src/policy/evaluate.js';
import { PolicyStore } from '../../src/policy/store.js';
import type { Policy } from '../../src/policy/types.js';
import { basePolicy, tempDir } from './helpers.js';

const alice = { user: 'alice', groups: [], authMethod: 'publickey', source: 'key' } as const;
const allowsAlice = (p: Policy) => evaluate(p, { identity: alice, target: 'db1', login: 'root', action: 'shell' }).allowed;
const withoutAlice = () => basePolicy().replace('groups: [ops]\n  - name: bob', 'groups: [retired]\n  - name: bob');

const stores: PolicyStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function open(dir: string, events: GatehouseEvent[] = []): PolicyStore {
  const s = new PolicyStore(dir, { debounceMs: 20, events: (e) => events.push(e) });
  stores.push(s);
  return s;
}

/** Resolves on the next applied or rejected reload. */
function nextReload(store: PolicyStore): Promise<'applied' | 'rejected'> {
  return new Promise((resolve) => {
    const offA = store.onReload(() => {
      offA();
      offB();
      resolve('applied');
    });
    const offB = store.onReloadError(() => {
      offA();
      offB();
      resolve('rejected');
    });
  });
}

describe('PolicyStore', () => {
  it('refuses to start on a broken policy, with every issue', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), 'users: 5\n');
    writeFileSync(join(dir, 'b.yml'), 'targets: [}\n');
    writeFileSync(join(dir, 'notes.txt'), 'not policy: [\n');
    try {
      open(dir);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PolicyLoadError);
      const files = (e as PolicyLoadError).issues.map((i) => i.file);
      expect(files).toContain(join(dir, 'a.yaml'));
      expect(files).toContain(join(dir, 'b.yml'));
      expect(files).not.toContain(join(dir, 'notes.txt'));
    }
  });

  it('manual reload: a valid edit applies, a broken edit keeps the old policy and reports', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'main.yaml'), basePolicy());
    const events: GatehouseEvent[] = [];
    const store = open(dir, events);
    expect(allowsAlice(store.current)).toBe(true);
    expect(store.current.version).toBe(1);

    const seen: [number, number][] = [];
    store.onReload((p, prev) => seen.push([p.version, prev.version]));
    writeFileSync(join(dir, 'main.yaml'), withoutAlice());
    expect(store.reload().applied).toBe(true);
    expect(allowsAlice(store.current)).toBe(false);
    expect(seen).toEqual([[2, 1]]);

    writeFileSync(join(dir, 'main.yaml'), basePolicy());
    writeFileSync(join(dir, 'broken.yaml'), 'rules:\n  - name: r\n    allow: [teleport]\n');
    const outcome = store.reload();
    expect(outcome.applied).toBe(false);
    if (!outcome.applied) expect(outcome.issues.some((i) => i.kind === 'unknown-action' && i.line === 3)).toBe(true);
    expect(allowsAlice(store.current)).toBe(false);
    expect(store.current.version).toBe(2);
    const last = events.at(-1);
    expect(last).toMatchObject({ type: 'policy.reload', result: 'rejected', trigger: 'manual', version: 2 });
    if (last?.type === 'policy.reload') expect(last.errors.join('\n')).toMatch(/broken\.yaml:3:\d+: .*teleport/);
  });

  it('an unchanged policy is not a new version', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'main.yaml'), basePolicy());
    const events: GatehouseEvent[] = [];
    const store = open(dir, events);
    let reloads = 0;
    store.onReload(() => reloads++);
    expect(store.reloadFromSignal()).toEqual({ applied: false, unchanged: true, issues: [] });
    expect(store.current.version).toBe(1);
    expect(reloads).toBe(0);
    expect(events.at(-1)).toMatchObject({ type: 'policy.reload', result: 'unchanged', trigger: 'sighup' });
  });

  it('follows a Kubernetes ConfigMap style symlink swap', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '..v1'));
    mkdirSync(join(dir, '..v2'));
    writeFileSync(join(dir, '..v1', 'main.yaml'), basePolicy());
    writeFileSync(join(dir, '..v2', 'main.yaml'), withoutAlice());
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync(join('..data', 'main.yaml'), join(dir, 'main.yaml'));
    const store = open(dir);
    store.watch();
    expect(allowsAlice(store.current)).toBe(true);
    const next = nextReload(store);
    symlinkSync('..v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    expect(await next).toBe('applied');
    expect(allowsAlice(store.current)).toBe(false);
  });

  it('SIGHUP path reloads with the sighup trigger', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'main.yaml'), basePolicy());
    const events: GatehouseEvent[] = [];
    const store = open(dir, events);
    writeFileSync(join(dir, 'main.yaml'), withoutAlice());
    expect(store.reloadFromSignal().applied).toBe(true);
    expect(allowsAlice(store.current)).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'policy.reload', result: 'applied', trigger: 'sighup', version: 2 });
  });

  it('SIGHUP delivered to the process reaches the store when wired', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'main.yaml'), basePolicy());
    const store = open(dir);
    const handler = () => store.reloadFromSignal();
    process.on('SIGHUP', handler);
    try {
      writeFileSync(join(dir, 'main.yaml'), withoutAlice());
      const reloaded = new Promise<void>((resolve) => store.onReload(() => resolve()));
      process.kill(process.pid, 'SIGHUP');
      await reloaded;
      expect(allowsAlice(store.current)).toBe(false);
    } finally {
      process.off('SIGHUP', handler);
    }
  });

  it('watches the directory: valid edits apply, broken edits are rejected', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'main.yaml'), basePolicy());
    const store = open(dir);
    store.watch();

    let next = nextReload(store);
    writeFileSync(join(dir, 'main.yaml'), withoutAlice());
    expect(await next).toBe('applied');
    expect(allowsAlice(store.current)).toBe(false);

    next = nextReload(store);
    writeFileSync(join(dir, 'main.yaml'), `${basePolicy()}  - bad: [\n`);
    expect(await next).toBe('rejected');
    expect(allowsAlice(store.current)).toBe(false);

    next = nextReload(store);
    writeFileSync(join(dir, 'main.yaml'), basePolicy());
    expect(await next).toBe('applied');
    expect(allowsAlice(store.current)).toBe(true);

    // Removing every file is a valid (empty, deny-all) policy: offboarding everyone works.
    next = nextReload(store);
    rmSync(join(dir, 'main.yaml'));
    expect(await next).toBe('applied');
    expect(allowsAlice(store.current)).toBe(false);
  });
});
