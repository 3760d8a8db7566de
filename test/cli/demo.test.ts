/** The demo runs, checks what it reads back, and ends with a `chest info` command that works on its chest. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { freshPath } from '../helpers.js';
import { chest } from './run.js';

it('npm start: the demo fills, checks and reopens its chest, then points at chest info', () => {
  const where = freshPath('demo.chest');
  const demo = spawnSync(process.execPath, ['--import', 'tsx', path.resolve('examples/demo.ts'), where], {
    encoding: 'utf8',
    env: { ...process.env, DEMO_SCALE: '0.05' },
  });
  expect(demo.status, demo.stderr).toBe(0);
  expect(demo.stdout).toMatch(/read back: all 5,002 values checked/);
  expect(demo.stdout).toMatch(/reopened: +5,002 entries; memory 0\.0 MiB/);
  const last = demo.stdout.trim().split('\n').at(-1)!.trim();
  expect(last).toBe(`npx chest info ${where}`);
  const info = chest(['--json', ...last.split(' ').slice(2)]);
  expect(info.code).toBe(0);
  expect(JSON.parse(info.stdout)).toMatchObject({ entries: 5002, files: { entries: 2 } });
});
