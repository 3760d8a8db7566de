import { describe, expect, it } from 'vitest';
import { freshPath } from '../helpers.js';
import { runCrashes } from './crash-harness.js';

/** `npm run soak` runs the same harness with 1,000 kills (scripts/soak.ts). */
const KILLS = 100;

describe('crashes', () => {
  it(`a writer SIGKILLed ${KILLS} times at random moments loses no acknowledged value`, async () => {
    const report = await runCrashes(freshPath(), 4242, KILLS);
    console.log(
      `crash harness, seed ${report.seed}: ${report.kills} kills, ${report.valuesChecked} values checked, ${report.acknowledgedChecked} acknowledged, ${report.inFlightSeen} in flight, ${report.valuesLost} lost`,
    );
    expect(report.failures).toEqual([]);
    expect(report.kills).toBe(KILLS);
    expect(report.valuesLost).toBe(0);
    // The kills found work under way: some values were checked, some left in flight.
    expect(report.valuesChecked).toBeGreaterThan(KILLS);
    expect(report.acknowledgedChecked).toBeGreaterThan(0);
  }, 600_000);
});
