import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
