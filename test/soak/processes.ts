/**
 * The long version of the multi-process test: many runs of 8 processes (and of 8 threads of one
 * process) doing mixed sets, gets, deletes, spills and flushes on overlapping keys with shared
 * counters; every read is checked against the order of commits and every counter for exactness.
 *
 *   npm run soak:processes                 # 25 runs of processes and 5 of threads, 400 operations each
 *   npm run soak:processes -- 100 1000     # 100 runs of 1,000 operations per worker
 *
 * Prints the figures docs/RELIABILITY.md quotes. Runs where a worker died (a signal, or an error
 * from LMDB's write path) are counted apart from runs whose reads or counters were wrong; either
 * makes the exit code non-zero.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Chest } from '../../src/index.js';
import { runMixed } from '../fixtures/mixed-run.js';

const runs = Number(process.argv[2] ?? 25);
const ops = Number(process.argv[3] ?? 400);
const writers = 8;
const totals = { runs: 0, operations: 0, writes: 0, reads: 0, increments: 0, wrong: 0, died: 0 };
const started = Date.now();

for (let run = 0; run < runs + Math.ceil(runs / 5); run++) {
  const threads = run >= runs;
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'chest-soak-'));
  const dir = path.join(parent, 'chest');
  try {
    new Chest({ path: dir }).close();
    const result = await runMixed(dir, writers, ops, run + 1, threads);
    totals.runs++;
    const died = result.problems.some((p) => p.startsWith('a worker ended'));
    if (died) totals.died++;
    else {
      totals.operations += result.operations;
      totals.writes += result.writes;
      totals.reads += result.reads;
      totals.increments += result.increments;
      totals.wrong += result.problems.length;
    }
    const kind = threads ? 'threads' : 'processes';
    console.log(
      `run ${run + 1} (${writers} ${kind}): ${result.operations} operations, ${result.writes} writes, ` +
        `${result.reads} reads checked, ${result.problems.length} problems`,
    );
    for (const problem of result.problems.slice(0, 5)) console.log(`  ${problem.slice(0, 600)}`);
    if (result.problems.length > 0) process.exitCode = 1;
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
}
console.log(
  `${totals.runs} runs of ${writers} workers; in the ${totals.runs - totals.died} runs where every worker ` +
    `finished: ${totals.operations} operations, ${totals.writes} writes, ${totals.reads} reads checked, ` +
    `${totals.increments} counter increments; lost or wrong: ${totals.wrong}; runs where a worker died: ` +
    `${totals.died}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
