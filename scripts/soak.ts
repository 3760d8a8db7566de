/**
 * The long crash run: `npm run soak -- --kills 1000 --seed 1`. Kills the crash harness's writer that
 * many times at random moments (seeded), checks the chest after each kill, and prints the figures.
 * Exits non-zero if any acknowledged value was lost or any check failed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCrashes } from '../test/reliability/crash-harness.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '1000' },
    seed: { type: 'string', default: String(Date.now() % 1e9) },
  },
});
const kills = Number(values.kills);
const seed = Number(values.seed);
if (!Number.isSafeInteger(kills) || kills < 1)
  throw new RangeError(`--kills must be a positive integer, got ${values.kills}`);
if (!Number.isSafeInteger(seed)) throw new RangeError(`--seed must be an integer, got ${values.seed}`);

const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'chest-soak-'));
const started = Date.now();
try {
  const report = await runCrashes(path.join(parent, 'chest'), seed, kills);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(
    `seed ${seed}: ${report.kills} kills in ${seconds} s, ${report.valuesChecked} values checked ` +
      `(${report.acknowledgedChecked} acknowledged, ${report.inFlightSeen} in-flight versions seen), ` +
      `values lost: ${report.valuesLost}, failures: ${report.failures.length}`,
  );
  for (const failure of report.failures.slice(0, 20)) console.log(`  ${failure}`);
  process.exitCode = report.failures.length === 0 && report.valuesLost === 0 ? 0 : 1;
} finally {
  fs.rmSync(parent, { recursive: true, force: true });
}
