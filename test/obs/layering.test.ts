/**
 * DESIGN principle 10: the core emits typed events and imports neither pino nor prom-client.
 * Follows every relative import (static and dynamic with a literal path) from the core
 * directories and fails naming the chain that reaches either package.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');
const CORE = ['wire', 'crypto', 'transport', 'keys', 'auth', 'connection', 'policy', 'gateway', 'config.ts'];
const FORBIDDEN = ['pino', 'prom-client'];
const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return path.endsWith('.ts') ? [path] : [];
  return readdirSync(path).flatMap((n) => filesUnder(join(path, n)));
}

/** Runtime imports of a file (type-only imports are erased and do not count). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    if (/^(?:import|export)\s+type\s/.test(m[0])) continue;
    const spec = m[1] ?? m[2];
    if (spec) out.push(spec);
  }
  return out;
}

function forbiddenChain(start: string): string[] | undefined {
  const seen = new Set<string>();
  const stack: { file: string; chain: string[] }[] = [{ file: start, chain: [relative(SRC, start)] }];
  while (stack.length > 0) {
    const next = stack.pop();
    if (!next || seen.has(next.file)) continue;
    seen.add(next.file);
    for (const spec of importsOf(next.file)) {
      if (FORBIDDEN.some((f) => spec === f || spec.startsWith(`${f}/`))) return [...next.chain, spec];
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(next.file), spec.replace(/\.js$/, '.ts'));
      if (existsSync(target)) stack.push({ file: target, chain: [...next.chain, relative(SRC, target)] });
    }
  }
  return undefined;
}

describe('layering', () => {
  it('no core module reaches pino or prom-client', () => {
    const offenders = CORE.flatMap((p) => filesUnder(join(SRC, p)))
      .map((f) => forbiddenChain(f))
      .filter((c): c is string[] => c !== undefined)
      .map((c) => c.join(' -> '));
    expect(offenders).toEqual([]);
  });

  it('the check itself sees a violation', () => {
    expect(forbiddenChain(join(SRC, 'obs/logger.ts'))).toEqual(['obs/logger.ts', 'pino']);
    expect(forbiddenChain(join(SRC, 'cli/serve.ts'))?.at(-1)).toMatch(/^(pino|prom-client)$/);
  });
});
