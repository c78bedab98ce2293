import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainBatch } from '../../src/recording/chain-bytes.js';
import { ChainedLineWriter } from '../../src/recording/chained-log.js';
import { CHAIN_LINE_LENGTH, CHAIN_SUFFIX, chainStep, toHex, writeChainLine } from '../../src/recording/line-chain.js';

describe('writeChainLine', () => {
  it('writes toHex of the value and a newline, at any position', () => {
    const out = Buffer.alloc(200);
    for (let i = 0; i < 300; i++) {
      const v = i === 0 ? new Uint8Array(32) : i === 1 ? new Uint8Array(32).fill(255) : randomBytes(32);
      const pos = i % 7;
      const end = writeChainLine(v, out, pos);
      expect(end - pos).toBe(CHAIN_LINE_LENGTH);
      expect(out.subarray(pos, end).toString('latin1')).toBe(`${toHex(v)}\n`);
    }
  });

  it('the sidecar a writer flushes holds chainStep of each line, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-chain-'));
    try {
      const path = join(dir, 'x.cast');
      const seed = randomBytes(32);
      const w = await ChainedLineWriter.create({ path, seed, onFailure: () => undefined, flushThresholdBytes: 100 });
      const lines: string[] = [];
      for (let i = 0; i < 50; i++) {
        const l = `[${i}.000000, "o", "line ${i} ${'x'.repeat(i * 7)} é"]`;
        lines.push(l);
        w.push(l);
        if (i % 9 === 0) await w.flush();
      }
      await w.close();
      let prev: Uint8Array = seed;
      const expected = lines.map((l) => {
        prev = chainStep(prev, l);
        return toHex(prev);
      });
      expect(readFileSync(path + CHAIN_SUFFIX, 'latin1')).toBe(`${expected.join('\n')}\n`);
      expect(w.stats.chainHead).toBe(expected.at(-1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('chainBatch', () => {
  it('chains every line as chainStep does, short lines and lines longer than its one-call buffer alike', () => {
    // 4,064 bytes and a 32-byte chain value fill the 4,096-byte buffer of the one-call path exactly.
    const lengths = [0, 1, 100, 4063, 4064, 4065, 10_000, 70_000, 3];
    const lines = lengths.map((n) => randomBytes(n).map((b) => (b === 0x0a ? 0x20 : b)));
    const ends: number[] = [];
    let at = 0;
    for (const l of lines) {
      at += l.length;
      ends.push(at);
      at += 1;
    }
    const batch = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
    const seed = randomBytes(32);
    const { head, sidecar } = chainBatch(batch, ends, seed);
    let prev: Uint8Array = seed;
    const expected = lines.map((l) => {
      prev = chainStep(prev, l);
      return toHex(prev);
    });
    expect(sidecar.toString('latin1')).toBe(`${expected.join('\n')}\n`);
    expect(toHex(head)).toBe(expected.at(-1));
  });

  it('fills in the SHA-256 of each binary chunk before chaining the lines that name them', () => {
    const blob = randomBytes(100_000);
    const chunks: [number, number][] = [
      [0, 32_768],
      [32_768, 32_769],
      [32_769, 100_000],
    ];
    const placeholder = '0'.repeat(64);
    const texts = chunks.map(([a, b], i) => `[${i}.0, "b", "${a}+${b - a}:${placeholder}"]`);
    const batch = Buffer.from(`${texts.join('\n')}\n`, 'latin1');
    const refs: number[] = [];
    const ends: number[] = [];
    let at = 0;
    texts.forEach((t, i) => {
      const chunk = chunks[i] as [number, number];
      refs.push(at + t.indexOf(placeholder), chunk[0], chunk[1]);
      at += t.length;
      ends.push(at);
      at += 1;
    });
    const seed = randomBytes(32);
    const { head } = chainBatch(batch, ends, seed, { bytes: blob, refs });
    const filled = chunks.map(([a, b], i) => (texts[i] as string).replace(placeholder, createHash('sha256').update(blob.subarray(a, b)).digest('hex')));
    expect(batch.toString('latin1')).toBe(`${filled.join('\n')}\n`);
    let prev: Uint8Array = seed;
    for (const l of filled) prev = chainStep(prev, l);
    expect(toHex(head)).toBe(toHex(prev));
  });
});
