/**
 * Transpiles source files (an entry and everything it imports, relatively) to plain
 * JavaScript, so a child process can run the real recorder (and be killed with SIGKILL) or the
 * real replay command in a terminal.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const repo = join(import.meta.dirname, '..', '..');
const RELATIVE_IMPORT = /(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g;

/**
 * Builds into a fresh directory under the repository's git-ignored .vitest-tmp/ (so bare
 * imports such as @noble/* resolve from node_modules) and returns it. `entries` are paths
 * relative to the repository, e.g. 'src/recording/index.ts'. The caller removes the directory.
 */
export async function buildForChild(entries: readonly string[]): Promise<string> {
  await mkdir(join(repo, '.vitest-tmp'), { recursive: true });
  const outDir = await mkdtemp(join(repo, '.vitest-tmp', 'recording-child-'));
  const seen = new Set<string>();
  const todo = entries.map((e) => join(repo, e));
  while (todo.length > 0) {
    const file = todo.pop();
    if (file === undefined || seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    for (const m of source.matchAll(RELATIVE_IMPORT)) if (m[1] !== undefined) todo.push(`${resolve(dirname(file), m[1])}.ts`);
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    }).outputText;
    const dest = join(outDir, relative(repo, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, js);
  }
  await writeFile(join(outDir, 'package.json'), '{"type":"module"}\n');
  return outDir;
}
