/**
 * Transpiles the recording sources (and what they import) to plain JavaScript in a temp dir,
 * so a child process can run the real recorder and be killed with SIGKILL.
 */
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

const repo = join(import.meta.dirname, '..', '..');

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
    else if (e.name.endsWith('.wasm') || e.name.endsWith('.json')) out.push(p);
  }
  return out;
}

/**
 * Builds into a fresh directory under the repository's git-ignored .vitest-tmp/ (so bare
 * imports such as @noble/* resolve from node_modules) and returns it; `src/recording/index.js`
 * is importable from it. The caller removes it.
 */
export async function buildForChild(): Promise<string> {
  await mkdir(join(repo, '.vitest-tmp'), { recursive: true });
  const outDir = await mkdtemp(join(repo, '.vitest-tmp', 'recording-child-'));
  for (const sub of ['src/recording', 'src/wire', 'src/crypto']) {
    for (const file of await walk(join(repo, sub))) {
      if (!file.endsWith('.ts')) {
        const dest = join(outDir, relative(repo, file));
        await mkdir(dirname(dest), { recursive: true });
        await writeFile(dest, await readFile(file));
        continue;
      }
      const js = ts.transpileModule(await readFile(file, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      }).outputText;
      const dest = join(outDir, relative(repo, file)).replace(/\.ts$/, '.js');
      await mkdir(dirname(dest), { recursive: true });
      await writeFile(dest, js);
    }
  }
  await writeFile(join(outDir, 'package.json'), '{"type":"module"}\n');
  return outDir;
}
