/**
 * Finds the code a reader is shown: fenced blocks in Markdown, and the fenced block of each TSDoc
 * `@example`. A block whose info string carries `no-run` is shown but not run; a block in a language
 * that cannot run (a shell session) must carry it.
 */
export interface Example {
  /** Where it comes from, for test names: `README.md:42`. */
  readonly name: string;
  readonly lang: 'ts' | 'python';
  readonly code: string;
}

const LANGS: Record<string, Example['lang']> = {
  ts: 'ts',
  typescript: 'ts',
  js: 'ts',
  javascript: 'ts',
  python: 'python',
  py: 'python',
};

/** The runnable fenced blocks of a Markdown text, in order. */
export function markdownExamples(text: string, file: string): Example[] {
  const out: Example[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    if (open[2]!.includes('no-run')) continue;
    const lang = LANGS[open[1]!];
    // Every block either runs or says it does not: nothing is left out by accident.
    if (lang === undefined)
      throw new Error(`${file}:${start + 1}: a \`\`\`${open[1]!} block needs \`no-run\``);
    out.push({ name: `${file}:${start + 1}`, lang, code: body.join('\n') + '\n' });
  }
  return out;
}

/** The code of every `@example` in a TypeScript source text. */
export function tsdocExamples(text: string, file: string): Example[] {
  const out: Example[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*@example\b/.test(lines[i]!)) continue;
    const tag = i;
    // The fenced block that follows, inside the same comment.
    while (i < lines.length && !/^\s*\*\s*```/.test(lines[i]!)) {
      if (lines[i]!.includes('*/')) throw new Error(`${file}:${tag + 1}: @example without a fenced block`);
      i++;
    }
    const info = lines[i]!.replace(/^\s*\*\s*```/, '');
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*\*\s*```/.test(lines[i]!); i++)
      body.push(lines[i]!.replace(/^\s*\* ?/, ''));
    if (info.includes('no-run')) continue;
    out.push({ name: `${file}:${tag + 1}`, lang: 'ts', code: body.join('\n') + '\n' });
  }
  return out;
}
