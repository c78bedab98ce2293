/**
 * Transpiles the recording sources (and what they import) to plain JavaScript in a temp dir,
 * so a child process can run the real recorder and be killed with SIGKILL.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

const repo = join(import.meta.dirname, '..', '..');

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Returns the output directory; `src/recording/index.js` is importable from it. */
export async function buildForChild(outDir: string): Promise<string> {
  for (const sub of ['src/recording', 'src/wire']) {
    for (const file of await walk(join(repo, sub))) {
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
