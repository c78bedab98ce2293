import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/cli/verify.js';
import { loadOrCreateRecordingKey } from '../../src/recording/recording-key.js';
import { verify } from '../../src/recording/verify.js';
import { enc, openTestSession, tempDir, testKey } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function makeSession(): Promise<string> {
  const { dir, cleanup } = await tempDir();
  cleanups.push(cleanup);
  const { rec } = await openTestSession(dir);
  const ch = await rec.openChannel({ kind: 'shell', pty: { cols: 80, rows: 24, term: 'xterm' } });
  for (let i = 0; i < 20; i++) ch.output(enc(`line ${i} of output\r\n`));
  ch.setExit({ type: 'status', status: 0 });
  await rec.closeChannel(ch);
  rec.audit({ type: 'note', text: 'policy allowed' });
  await rec.finish();
  return rec.dir;
}

async function editLines(file: string, edit: (lines: string[]) => string[]): Promise<void> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const last = lines.pop();
  expect(last).toBe('');
  await writeFile(file, `${edit(lines).join('\n')}\n`);
}

function firstProblem(r: Awaited<ReturnType<typeof verify>>) {
  return r.sessions[0]?.problems[0];
}

describe('verify', () => {
  it('passes an untouched session', async () => {
    const dir = await makeSession();
    const { key } = await testKey();
    const r = await verify(dir, key);
    expect(r.sessions[0]?.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.sessions[0]?.sealed).toBe(true);
  });

  it('verifies every session of a recordings tree and reports JSON', async () => {
    const a = await makeSession();
    const { key, stateDir } = await testKey();
    const root = join(a, '..', '..', '..', '..');
    const r = await verify(root, key);
    expect(r.sessions.length).toBe(1);
    expect(r.ok).toBe(true);
    let out = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } };
    expect(await runVerify([root, '--state-dir', stateDir, '--json'], io)).toBe(0);
    expect((JSON.parse(out) as { ok: boolean }).ok).toBe(true);
  });

  it('names the line after a one-byte edit', async () => {
    const dir = await makeSession();
    const file = join(dir, 'channel-0.cast');
    const buf = await readFile(file);
    const lines = buf.toString('utf8').split('\n');
    const offset = (lines[0]?.length ?? 0) + 1 + (lines[1]?.length ?? 0) + 1 + (lines[2]?.length ?? 0) + 1 + 20; // inside line 4
    buf[offset] = (buf[offset] ?? 0) ^ 0x01;
    await writeFile(file, buf);
    const r = await verify(dir, (await testKey()).key);
    expect(r.ok).toBe(false);
    expect(firstProblem(r)).toMatchObject({ kind: 'changed', file: 'channel-0.cast', line: 4 });
  });

  it('names a deleted line', async () => {
    const dir = await makeSession();
    await editLines(join(dir, 'channel-0.cast'), (l) => l.filter((_, i) => i !== 6));
    const r = await verify(dir, (await testKey()).key);
    expect(firstProblem(r)).toMatchObject({ kind: 'removed', file: 'channel-0.cast', line: 7 });
  });

  it('names a deleted last line', async () => {
    const dir = await makeSession();
    await editLines(join(dir, 'audit.jsonl'), (l) => l.slice(0, -1));
    const r = await verify(dir, (await testKey()).key);
    const p = firstProblem(r);
    expect(p?.kind).toBe('removed');
    expect(p?.file).toBe('audit.jsonl');
  });

  it('names an appended line', async () => {
    const dir = await makeSession();
    const file = join(dir, 'channel-0.cast');
    const n = (await readFile(file, 'utf8')).split('\n').length - 1;
    await editLines(file, (l) => [...l, '[99.000000, "o", "injected"]']);
    const r = await verify(dir, (await testKey()).key);
    expect(firstProblem(r)).toMatchObject({ kind: 'appended', file: 'channel-0.cast', line: n + 1 });
  });

  it('names an inserted line', async () => {
    const dir = await makeSession();
    await editLines(join(dir, 'channel-0.cast'), (l) => [...l.slice(0, 3), '[0.5, "o", "x"]', ...l.slice(3)]);
    const r = await verify(dir, (await testKey()).key);
    expect(firstProblem(r)).toMatchObject({ kind: 'inserted', line: 4 });
  });

  it('detects a file whose chain sidecar was rewritten to match, via the signed seal', async () => {
    const dir = await makeSession();
    const file = join(dir, 'channel-0.cast');
    // Drop the last line from both the file and its chain: the sidecar agrees, the seal does not.
    await editLines(file, (l) => l.slice(0, -1));
    await editLines(`${file}.chain`, (l) => l.slice(0, -1));
    const r = await verify(dir, (await testKey()).key);
    expect(firstProblem(r)?.kind).toBe('seal-mismatch');
  });

  it('detects an appended line hidden by an extended chain, via the signed seal', async () => {
    const dir = await makeSession();
    const file = join(dir, 'channel-0.cast');
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    const { chainStep, chainSeed, toHex } = await import('../../src/recording/line-chain.js');
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { sessionId: string };
    let c: Uint8Array = chainSeed(index.sessionId, 'channel-0.cast');
    for (const l of lines) c = chainStep(c, l);
    const extra = '[50.000000, "o", "rm -rf /"]';
    await writeFile(file, `${lines.join('\n')}\n${extra}\n`);
    await writeFile(`${file}.chain`, `${await readFile(`${file}.chain`, 'utf8')}${toHex(chainStep(c, extra))}\n`);
    const r = await verify(dir, (await testKey()).key);
    expect(firstProblem(r)).toMatchObject({ kind: 'appended', line: lines.length + 1 });
  });

  it('fails on a bad index signature and on a foreign key', async () => {
    const dir = await makeSession();
    const indexPath = join(dir, 'index.json');
    const original = await readFile(indexPath, 'utf8');
    const idx = JSON.parse(original) as { who: { identity: string } };
    idx.who.identity = 'mallory@example.com';
    await writeFile(indexPath, JSON.stringify(idx));
    let r = await verify(dir, (await testKey()).key);
    expect(r.ok).toBe(false);
    expect(r.sessions[0]?.problems.some((p) => p.kind === 'signature' && p.file === 'index.json')).toBe(true);
    await writeFile(indexPath, original);
    const other = await loadOrCreateRecordingKey(await mkdtemp(join(tmpdir(), 'gh-other-')));
    r = await verify(dir, other);
    expect(r.sessions[0]?.problems[0]?.message).toContain('not by the recording key');
  });

  it('detects a single-byte change anywhere (index.json: outside its insignificant whitespace), never throwing (fuzz)', async () => {
    const dir = await makeSession();
    const { key } = await testKey();
    const { readdir } = await import('node:fs/promises');
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(['audit.jsonl', 'audit.jsonl.chain', 'channel-0.cast', 'channel-0.cast.chain', 'index.json']);
    let seed = 11;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let iter = 0; iter < 40; iter++) {
      const f = join(dir, files[rnd(files.length)] ?? '');
      const original = await readFile(f);
      const mutated = Buffer.from(original);
      let at = rnd(mutated.length);
      // the signature covers the index's canonical JSON; its pretty-printing whitespace carries no meaning
      while (f.endsWith('index.json') && (mutated[at] === 0x20 || mutated[at] === 0x0a)) at = rnd(mutated.length);
      mutated[at] = ((mutated[at] ?? 0) + 1 + rnd(255)) & 0xff;
      await writeFile(f, mutated);
      const r = await verify(dir, key);
      expect(r.ok, `${f} byte ${at}`).toBe(false);
      await writeFile(f, original);
    }
    expect((await verify(dir, key)).ok).toBe(true);
  });

  it('fails an unsigned (unsealed) session', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const { rec } = await openTestSession(dir);
    const ch = await rec.openChannel({ kind: 'shell' });
    ch.output(enc('live\n'));
    await rec.closeChannel(ch);
    const r = await verify(rec.dir, (await testKey()).key);
    expect(r.ok).toBe(false);
    expect(r.sessions[0]?.problems.map((p) => p.kind)).toEqual(['unsealed']);
    await rec.finish();
  });

  it('CLI: exit 0 with OK on an untouched session, 1 naming the line after an edit', async () => {
    const dir = await makeSession();
    const { stateDir } = await testKey();
    let out = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } };
    expect(await runVerify([dir, '--state-dir', stateDir], io)).toBe(0);
    expect(out).toMatch(/^OK /);
    await editLines(join(dir, 'channel-0.cast'), (l) => l.map((x, i) => (i === 2 ? x.replace('line', 'LINE') : x)));
    out = '';
    expect(await runVerify([dir, '--state-dir', stateDir], io)).toBe(1);
    expect(out).toContain('channel-0.cast: line 3 was changed');
  });
});
