/**
 * Children run plain JavaScript: at start-up the suite transpiles bench/ and src/ once (TypeScript's
 * transpileModule, no type-checking) into its temporary folder, next to a link to the project's
 * node_modules. A child then starts in a fraction of the time it takes under a TypeScript loader, and
 * its memory figures do not include the loader's own thread and caches.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const SKIP = new Set(['node_modules', 'results', 'dist', 'coverage']);

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || SKIP.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Transpiles `folders` of `root` into `out`; returns the number of files written. */
export async function transpileTree(root: string, folders: readonly string[], out: string): Promise<number> {
  const ts = (await import('typescript')).default;
  const compilerOptions = {
    module: ts.ModuleKind.ESNext,
    target: ts.ScriptTarget.ES2023,
    verbatimModuleSyntax: true,
    useDefineForClassFields: true,
  };
  let n = 0;
  for (const folder of folders) {
    for (const file of files(join(root, folder))) {
      const rel = relative(root, file);
      if (file.endsWith('.d.ts') || /\.test\.ts$/.test(file)) continue;
      if (file.endsWith('.ts')) {
        const { outputText, diagnostics } = ts.transpileModule(readFileSync(file, 'utf8'), {
          compilerOptions,
          fileName: rel,
          reportDiagnostics: true,
        });
        if (diagnostics && diagnostics.length > 0)
          throw new Error(`${rel}: ${ts.flattenDiagnosticMessageText(diagnostics[0]!.messageText, ' ')}`);
        const target = join(out, rel.replace(/\.ts$/, '.js'));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, outputText);
      } else if (/\.(js|mjs|cjs|json)$/.test(file)) {
        const target = join(out, rel);
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(file, target);
      } else continue;
      n++;
    }
  }
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'), 'dir');
  return n;
}
