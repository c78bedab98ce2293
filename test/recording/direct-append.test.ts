import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppendFile, DIRECT_BLOCK, DIRECT_MIN, resetDirectAppend } from '../../src/recording/direct-append.js';
import { tempDir } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  resetDirectAppend();
  for (const c of cleanups.splice(0)) await c();
});

async function temp(): Promise<string> {
  const t = await tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

/** Sizes around the block and the 1 MiB staging buffer, and empty appends. */
const SIZES = [0, 1, DIRECT_BLOCK - 1, DIRECT_BLOCK, DIRECT_BLOCK + 1, 3 * DIRECT_BLOCK + 17, (1 << 20) - 5, 1 << 20, (17 << 16) + 3, (3 << 20) + 4097, 70_001];

/** Appends every size twice over, checking after each append that the file holds exactly what was appended. */
function appendAndCheck(file: AppendFile, path: string): Buffer {
  const parts: Buffer[] = [];
  for (const n of [...SIZES, ...[...SIZES].reverse()]) {
    const b = randomBytes(n);
    parts.push(b);
    file.append(b);
    const expected = Buffer.concat(parts);
    expect(file.bytes).toBe(expected.length);
    // Every appended byte is in the file at once, partial block included: a live viewer or a
    // crash sees what an ordinary write would have left.
    expect(readFileSync(path).equals(expected)).toBe(true);
  }
  return Buffer.concat(parts);
}

describe('AppendFile (the .bin writer of the recording I/O worker)', () => {
  it('writes the exact bytes of appends of any size, directly where the file system takes O_DIRECT', async () => {
    const path = join(await temp(), 'a.bin');
    const f = AppendFile.create(path, 0o640);
    // Linux file systems here (ext4, tmpfs since 6.6) take O_DIRECT; elsewhere it is buffered.
    if (process.platform === 'linux') expect(['direct', 'buffered']).toContain(f.appendMode);
    const all = appendAndCheck(f, path);
    f.sync();
    f.close();
    expect(readFileSync(path).equals(all)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o640);
  });

  it('keeps the partial block right across any mix of small (page cache) and large (direct) appends', async () => {
    const path = join(await temp(), 'f.bin');
    const f = AppendFile.create(path, 0o640);
    const parts: Buffer[] = [];
    let seed = 7;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 120; i++) {
      const r = next();
      const n = r % 3 === 0 ? DIRECT_MIN + (r % 300_000) : r % 9000;
      const b = randomBytes(n);
      parts.push(b);
      f.append(b);
      if (i % 10 === 9) expect(readFileSync(path).equals(Buffer.concat(parts))).toBe(true);
    }
    f.close();
    expect(readFileSync(path).equals(Buffer.concat(parts))).toBe(true);
  });

  it('holds one descriptor until the first direct append, and none after close', async () => {
    const path = join(await temp(), 'g.bin');
    // Linux shows the process's open descriptors in /proc; elsewhere the file's own count is checked.
    const openFds = (): number | undefined => (process.platform === 'linux' ? readdirSync('/proc/self/fd').length : undefined);
    const before = openFds();
    const f = AppendFile.create(path, 0o640);
    const small = randomBytes(DIRECT_BLOCK + 5);
    f.append(small);
    expect(f.descriptors).toBe(1);
    if (before !== undefined) expect(openFds()).toBe(before + 1);
    const big = randomBytes(DIRECT_MIN + 3 * DIRECT_BLOCK + 1);
    f.append(big);
    // Where O_DIRECT is taken the direct descriptor is open now; where refused, appends stayed buffered.
    const expected = f.appendMode === 'direct' ? 2 : 1;
    expect(f.descriptors).toBe(expected);
    if (before !== undefined) expect(openFds()).toBe(before + expected);
    f.append(small);
    f.sync();
    f.close();
    if (before !== undefined) expect(openFds()).toBe(before);
    expect(readFileSync(path).equals(Buffer.concat([small, big, small]))).toBe(true);
  });

  it('writes through the page cache when asked to', async () => {
    const path = join(await temp(), 'b.bin');
    const f = AppendFile.create(path, 0o600, false);
    expect(f.appendMode).toBe('buffered');
    const all = appendAndCheck(f, path);
    f.close();
    expect(readFileSync(path).equals(all)).toBe(true);
  });

  it('never opens a file that exists', async () => {
    const path = join(await temp(), 'c.bin');
    writeFileSync(path, 'kept');
    expect(() => AppendFile.create(path, 0o640)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(readFileSync(path, 'utf8')).toBe('kept');
  });

  it('goes on through the page cache, losing nothing, when the kernel refuses a direct write', async () => {
    const dir = await temp();
    const first = join(dir, 'd.bin');
    const f = AppendFile.create(first, 0o640);
    if (f.appendMode !== 'direct') {
      f.close();
      return; // nothing to refuse where O_DIRECT is not taken at all
    }
    const head = randomBytes(2 * DIRECT_BLOCK + 100);
    f.append(head);
    // Staging memory one byte off its alignment: the kernel answers EINVAL to the next direct write.
    resetDirectAppend(Buffer.alloc((1 << 20) + 1).subarray(1));
    const rest = randomBytes((2 << 20) + 333);
    f.append(rest);
    expect(f.appendMode).toBe('buffered');
    f.append(head);
    f.sync();
    f.close();
    expect(readFileSync(first).equals(Buffer.concat([head, rest, head]))).toBe(true);
    // Later files in the process do not try again.
    const second = join(dir, 'e.bin');
    const g = AppendFile.create(second, 0o640);
    expect(g.appendMode).toBe('buffered');
    g.append(rest);
    g.close();
    expect(readFileSync(second).equals(rest)).toBe(true);
  });
});
