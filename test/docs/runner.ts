/**
 * Runs extracted examples one after another in this process, each in its working directory, and
 * writes what became of each to a JSON file. Python examples run with python3 when numpy imports.
 *
 *   node --import tsx test/docs/runner.ts <plan.json> <results.json>
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface Step {
  readonly name: string;
  readonly file: string;
  readonly cwd: string;
}

export interface Outcome {
  readonly name: string;
  readonly status: 'ok' | 'failed' | 'skipped';
  readonly detail: string;
}

const [planFile, resultsFile] = process.argv.slice(2) as [string, string];
const plan = JSON.parse(fs.readFileSync(planFile, 'utf8')) as Step[];
const outcomes: Outcome[] = [];
/** The first Python that imports numpy: the one on PATH, or the system's (where Debian's python3-numpy goes). */
let python: string | null | undefined;
function findPython(): string | null {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    if (spawnSync(candidate, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return null;
}

for (const step of plan) {
  process.chdir(step.cwd);
  if (step.file.endsWith('.py')) {
    python ??= findPython();
    if (python === null) {
      outcomes.push({ name: step.name, status: 'skipped', detail: 'no python3 here imports numpy' });
      continue;
    }
    const run = spawnSync(python, [step.file], { encoding: 'utf8' });
    const ok = run.status === 0;
    outcomes.push({ name: step.name, status: ok ? 'ok' : 'failed', detail: ok ? run.stdout : run.stderr });
    continue;
  }
  if (
    fs.readFileSync(step.file, 'utf8').includes('/stores/redis/') &&
    process.env.SPILLCHEST_REDIS_URL === undefined
  ) {
    // The Redis recipe needs a server: CI starts one (scripts/redis-test-servers.sh) and must run it.
    const detail = 'no Redis server: set SPILLCHEST_REDIS_URL (scripts/redis-test-servers.sh start)';
    outcomes.push({ name: step.name, status: process.env.CI === 'true' ? 'failed' : 'skipped', detail });
    continue;
  }
  try {
    await import(pathToFileURL(step.file).href);
    outcomes.push({ name: step.name, status: 'ok', detail: '' });
  } catch (error) {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    outcomes.push({ name: step.name, status: 'failed', detail });
  }
}
fs.writeFileSync(resultsFile, JSON.stringify(outcomes));
