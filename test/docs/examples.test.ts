/**
 * Every README code block and every TSDoc `@example` runs as written: each is written to a file with
 * `spillchest` resolved to this package's source, and run in a child process.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshPath } from '../helpers.js';
import { markdownExamples, tsdocExamples, type Example } from './extract.js';
import type { Outcome, Step } from './runner.js';

const root = path.resolve(import.meta.dirname, '../..');
const source = pathToFileURL(path.join(root, 'src/index.ts')).href;
const redisSource = pathToFileURL(path.join(root, 'src/stores/redis/index.ts')).href;

function sources(dir: string): string[] {
  return fs
    .readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f))
    .sort();
}

const readme = markdownExamples(fs.readFileSync(path.join(root, 'README.md'), 'utf8'), 'README.md');
const tsdoc = sources('src').flatMap((file) =>
  tsdocExamples(fs.readFileSync(path.join(root, file), 'utf8'), file),
);
const outcomes = new Map<string, Outcome>();

beforeAll(() => {
  // Inside the repository, so that the examples' own imports resolve from its node_modules.
  const work = path.join(root, '.tmp', `examples-${process.pid}`);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  try {
    const plan: Step[] = [];
    // README blocks share one folder, in order (the numpy recipe's Python half reads what its
    // TypeScript half wrote); each TSDoc example gets its own.
    const readmeDir = path.dirname(freshPath());
    const add = (example: Example, index: number, cwd: string): void => {
      const ext = example.lang === 'python' ? 'py' : 'ts';
      const file = path.join(work, `example-${index}.${ext}`);
      const code = example.code
        .replaceAll(/from 'spillchest'/g, `from '${source}'`)
        .replaceAll(/from 'spillchest\/redis'/g, `from '${redisSource}'`);
      fs.writeFileSync(file, code);
      plan.push({ name: example.name, file, cwd });
    };
    readme.forEach((example, i) => add(example, i, readmeDir));
    tsdoc.forEach((example, i) => add(example, readme.length + i, path.dirname(freshPath())));
    const planFile = path.join(work, 'plan.json');
    const resultsFile = path.join(work, 'results.json');
    fs.writeFileSync(planFile, JSON.stringify(plan));
    // tsx by its full path: the examples run in other folders, and one starts processes of its own.
    const tsx = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;
    const run = spawnSync(
      process.execPath,
      ['--import', tsx, path.join(import.meta.dirname, 'runner.ts'), planFile, resultsFile],
      {
        cwd: root,
        encoding: 'utf8',
        // The dedup recipe's count, small enough for a test.
        env: { ...process.env, SEEN_COUNT: '20000' },
        timeout: 300_000,
      },
    );
    if (!fs.existsSync(resultsFile)) throw new Error(`the example runner failed: ${run.stderr}`);
    for (const outcome of JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as Outcome[])
      outcomes.set(outcome.name, outcome);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}, 300_000);

describe('README examples run as written', () => {
  it('there are examples to run, Python among them', () => {
    expect(readme.length).toBeGreaterThan(5);
    expect(readme.some((e) => e.lang === 'python')).toBe(true);
  });

  it.each(readme.map((e) => [e.name, e.lang] as const))('%s (%s)', (name) => {
    const outcome = outcomes.get(name);
    expect(outcome?.status === 'failed' ? outcome.detail : outcome?.status).not.toBe(undefined);
    // CI installs what every example needs (numpy, Redis): there a skipped example fails.
    if (outcome!.status === 'skipped' && process.env.CI !== 'true')
      console.warn(`${name} skipped: ${outcome!.detail}`);
    else expect(outcome!.status, outcome!.detail).toBe('ok');
  });
});

describe('TSDoc @example blocks run as written', () => {
  it.each(tsdoc.map((e) => e.name))('%s', (name) => {
    expect(outcomes.get(name)?.status, outcomes.get(name)?.detail).toBe('ok');
  });
});

describe('examples type-check', () => {
  it('every TypeScript example compiles against the package types', () => {
    const dir = path.join(root, '.tmp', `typecheck-${process.pid}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    try {
      const examples = [...readme, ...tsdoc].filter((e) => e.lang === 'ts');
      const names = new Map<string, string>();
      examples.forEach((example, i) => {
        names.set(`example-${i}.ts`, example.name);
        fs.writeFileSync(path.join(dir, `example-${i}.ts`), example.code);
      });
      const config = {
        extends: '../../tsconfig.json',
        compilerOptions: {
          noEmit: true,
          rootDir: '../..',
          paths: {
            spillchest: ['../../src/index.ts'],
            'spillchest/redis': ['../../src/stores/redis/index.ts'],
          },
        },
        include: ['*.ts'],
      };
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config));
      const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
      const run = spawnSync(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], {
        encoding: 'utf8',
      });
      // Name the README line or source file rather than the temporary file.
      const report = run.stdout.replaceAll(
        /[^\s]*(example-\d+\.ts)/g,
        (_, file: string) => names.get(file) ?? file,
      );
      expect(report).toBe('');
      expect(run.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
