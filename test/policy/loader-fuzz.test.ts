import { describe, expect, it } from 'vitest';
import { KeyLineError, PolicyLoadError } from '../../src/policy/errors.js';
import { parseKeyLine } from '../../src/policy/key-line.js';
import { checkPolicySources } from '../../src/policy/loader.js';
import { ALICE_KEY, basePolicy } from './helpers.js';

/** Deterministic PRNG (mulberry32) so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = ['\n', ' ', '  ', '- ', ': ', '[', ']', '{', '}', '"', "'", '&a ', '*a', '!!str ', '#', '---\n', '...\n', '\t', 'null', '~', '0x1F', '70000', 'true', '%YAML 1.2\n', '\u0000', '\u202e', '|\n', '>-\n', '? ', ','];

function mutate(text: string, next: () => number): string {
  let s = text;
  const edits = 1 + Math.floor(next() * 6);
  for (let i = 0; i < edits; i++) {
    const pos = Math.floor(next() * (s.length + 1));
    const op = Math.floor(next() * 4);
    const token = TOKENS[Math.floor(next() * TOKENS.length)] ?? '';
    if (op === 0) s = s.slice(0, pos) + token + s.slice(pos);
    else if (op === 1) s = s.slice(0, pos) + s.slice(pos + 1 + Math.floor(next() * 20));
    else if (op === 2) s = s.slice(0, pos) + String.fromCharCode(Math.floor(next() * 128)) + s.slice(pos + 1);
    else {
      const from = Math.floor(next() * s.length);
      s = s.slice(0, pos) + s.slice(from, from + Math.floor(next() * 40)) + s.slice(pos);
    }
  }
  return s;
}

describe('policy loader fuzz', () => {
  it('mutated policies yield a policy or typed issues, never a crash', () => {
    const next = rng(0x6a7e);
    const base = basePolicy();
    let rejected = 0;
    for (let i = 0; i < 500; i++) {
      const text = mutate(base, next);
      let result: ReturnType<typeof checkPolicySources>;
      try {
        result = checkPolicySources([{ file: `f${i}.yaml`, text }]);
      } catch (e) {
        throw new Error(`iteration ${i} threw ${String(e)} on:\n${text}`);
      }
      if (result.policy) {
        expect(result.issues).toEqual([]);
      } else {
        rejected++;
        expect(result.issues.length).toBeGreaterThan(0);
        for (const issue of result.issues) {
          expect(issue.file).toBe(`f${i}.yaml`);
          expect(Number.isInteger(issue.line) && issue.line >= 0).toBe(true);
          expect(issue.message.length).toBeGreaterThan(0);
          // messages are one line and carry no raw control characters
          expect(issue.message).not.toMatch(/[\x00-\x09\x0b-\x1f]/);
        }
        expect(new PolicyLoadError(result.issues).message.length).toBeGreaterThan(0);
      }
    }
    expect(rejected).toBeGreaterThan(50);
  });

  it('random byte strings are handled', () => {
    const next = rng(42);
    for (let i = 0; i < 300; i++) {
      const len = Math.floor(next() * 300);
      let text = '';
      for (let j = 0; j < len; j++) text += String.fromCharCode(Math.floor(next() * 256));
      expect(() => checkPolicySources([{ file: 'r.yaml', text }])).not.toThrow();
    }
  });

  it('mutated key lines give KeyLineError only', () => {
    const next = rng(7);
    for (let i = 0; i < 2000; i++) {
      const chars = [...ALICE_KEY];
      const n = 1 + Math.floor(next() * 4);
      for (let k = 0; k < n; k++) {
        const pos = Math.floor(next() * chars.length);
        chars[pos] = String.fromCharCode(32 + Math.floor(next() * 95));
      }
      try {
        parseKeyLine(chars.join(''));
      } catch (e) {
        expect(e).toBeInstanceOf(KeyLineError);
      }
    }
  });

  it('deeply nested and huge inputs stay bounded', () => {
    expect(() => checkPolicySources([{ file: 'deep.yaml', text: `${'['.repeat(5000)}${']'.repeat(5000)}` }])).not.toThrow();
    const aliases = `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nusers: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n`;
    const r = checkPolicySources([{ file: 'bomb.yaml', text: aliases }]);
    expect(r.policy).toBeUndefined();
    expect(() => parseKeyLine(`ssh-ed25519 ${'A'.repeat(100_000)}`)).toThrow(KeyLineError);
  });
});
