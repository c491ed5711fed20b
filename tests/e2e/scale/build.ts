import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await tsFiles(path)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * The server as JavaScript, the way a deployment runs it: every file of src/ (and the node entry of
 * these tests) transpiled one to one, plus the assets beside them (SQL migrations ...), under node_modules/.cache so packages
 * resolve. Node processes started from it boot their actor workers in tens of milliseconds; from
 * sources, each worker registers tsx and compiles the actor code again, which on this 2-core machine
 * takes seconds per worker and starves the event loops this test is about (lease renewals).
 * Returns the path of the node entry; `cleanup` removes the build.
 */
export async function buildNodeEntry(): Promise<{ entry: string; cleanup(): Promise<void> }> {
  const base = join(ROOT, 'node_modules', '.cache', 'wa-scale-e2e');
  await mkdir(base, { recursive: true });
  const out = await mkdtemp(join(base, 'build-'));
  const files = [...(await tsFiles(join(ROOT, 'src'))), join(ROOT, 'tests', 'e2e', 'scale', 'node-process.ts')];
  // Assets first (directories too), then the JavaScript beside them.
  await cp(join(ROOT, 'src'), join(out, 'src'), { recursive: true, filter: (path) => !path.endsWith('.ts') });
  await Promise.all(
    files.map(async (file) => {
      const source = await readFile(file, 'utf8');
      const { outputText } = ts.transpileModule(source, {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true, sourceMap: false },
      });
      const target = join(out, relative(ROOT, file)).replace(/\.ts$/, '.js');
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, outputText);
    }),
  );
  return { entry: join(out, 'tests', 'e2e', 'scale', 'node-process.js'), cleanup: () => rm(out, { recursive: true, force: true }) };
}
