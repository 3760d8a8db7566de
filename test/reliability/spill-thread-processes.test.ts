import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { Chest } from '../../src/index.js';
import { freshPath, peer, useSpillThread } from '../helpers.js';
import { runTs } from '../fixtures/mixed-run.js';
import { KEYS, stateOf, type RoundsReport } from '../fixtures/spill-thread-rounds.js';
import { checkKeys, replayLog } from './crash-harness.js';
import { seededRandom } from './damage-tools.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = path.join(ROOT, 'test', 'fixtures');
const roundsFile = path.join(fixtures, 'spill-thread-rounds.ts');

/** What the tests look at inside a chest, to know what its spill thread holds. */
interface Inside {
  tier: { find(id: unknown): number };
  behind: Map<number, unknown>;
}
const inside = (chest: Chest<string>): Inside => chest as unknown as Inside;

/**
 * Bundles the crash writer with esbuild into `outdir`, so that each launch costs a plain `node`
 * start, beside the spill thread's worker, which the bundled chest starts from its own folder.
 */
function bundleCrashWriter(outdir: string): string {
  buildSync({
    entryPoints: [
      path.join(fixtures, 'spill-thread-crash-writer.ts'),
      path.join(ROOT, 'src', 'stores', 'lmdb', 'write-behind-worker.ts'),
    ],
    entryNames: '[name]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outdir,
    logLevel: 'error',
  });
  // Below node_modules a `.js` file is CommonJS unless its folder says otherwise.
  fs.writeFileSync(path.join(outdir, 'package.json'), '{ "type": "module" }\n');
  return path.join(outdir, 'spill-thread-crash-writer.js');
}

interface KillReport {
  failures: string[];
  valuesChecked: number;
  /** Keys deleted by an acknowledged flush and not changed since, read as absent. */
  deletionsChecked: number;
  /** Values read back that were changed after the last flush before the kill. */
  inFlightSeen: number;
  /** Launches killed after their chest had handed batches to its spill thread. */
  threaded: number;
  /** Flushes that came after the thread had committed batches. */
  flushedAfterThread: number;
}

/**
 * Launches the writer `kills` times on one chest and SIGKILLs each at a random moment, then opens
 * the chest and checks it against the log (see `checkAfterKill`).
 */
async function killRepeatedly(dir: string, seed: number, kills: number): Promise<KillReport> {
  // A folder per process: the projects of the suite may run this at once.
  const outdir = path.join(ROOT, 'node_modules', '.cache', 'spillchest-test', `spill-thread-${process.pid}`);
  try {
    return await killWriter(bundleCrashWriter(outdir), dir, seed, kills);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

async function killWriter(writer: string, dir: string, seed: number, kills: number): Promise<KillReport> {
  const rnd = seededRandom(seed);
  const logFile = `${dir}.log`;
  const report: KillReport = {
    failures: [],
    valuesChecked: 0,
    deletionsChecked: 0,
    inFlightSeen: 0,
    threaded: 0,
    flushedAfterThread: 0,
  };
  // Per key, the version on disk after the last check (null: absent).
  const acked = new Map<string, string | null>();
  let offset = 0;
  for (let launch = 0; launch < kills; launch++) {
    const child = spawn(process.execPath, [writer, dir, logFile, String(seed + launch), String(launch)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    // Killed once its spill thread is at work: at once, or after some flushes.
    const started = await Promise.race([
      new Promise<boolean>((resolve) => child.stdout.once('data', () => resolve(true))),
      exited.then(() => false),
    ]);
    if (started) {
      report.threaded++;
      await new Promise((resolve) => setTimeout(resolve, rnd() * 400));
    }
    child.kill('SIGKILL');
    const signal = await exited;
    if (signal !== 'SIGKILL')
      report.failures.push(
        `launch ${launch}: the writer ended by ${signal ?? 'exit'}, not the kill: ${stderr}`,
      );

    const replayed = replayLog(logFile, offset, acked);
    offset = replayed.offset;
    for (const ack of replayed.acks)
      if (ack.op === 'ack' && (ack.batches ?? 0) > 0) report.flushedAfterThread++;
    checkAfterKill(dir, launch, acked, replayed.pending, report);
  }
  return report;
}

/**
 * Every key holds its acknowledged version (a deleted one stays deleted) or one of the changes
 * logged after it; no other key exists; `size` counts exactly the keys that read back; `verify()`
 * finds no damage. What it read is what the next launch builds on.
 */
function checkAfterKill(
  dir: string,
  launch: number,
  acked: Map<string, string | null>,
  pending: Map<string, (string | null)[]>,
  report: KillReport,
): void {
  const fail = (what: string): void => {
    report.failures.push(`launch ${launch}: ${what}`);
  };
  using chest = new Chest<string, unknown>({ path: dir });
  const listed = [...chest.keys()];
  const counts = checkKeys(chest, acked, pending, fail);
  report.valuesChecked += counts.checked;
  report.deletionsChecked += counts.deletedAcknowledged;
  report.inFlightSeen += counts.inFlight;
  const present = counts.present;
  if (chest.size !== present) fail(`size ${chest.size}, but ${present} keys read back`);
  if (listed.length !== present) fail(`keys() listed ${listed.length} keys, but ${present} read back`);
  const { damaged } = chest.verify();
  if (damaged.length > 0) fail(`verify: ${JSON.stringify(damaged)}`);
}

describe('the spill thread beside other processes', () => {
  useSpillThread();

  it('a writer SIGKILLed with batches in flight, deleting and overwriting, loses nothing it flushed', async () => {
    const kills = 15;
    const report = await killRepeatedly(freshPath(), 7, kills);
    console.log(
      `spill-thread kills: ${kills}, ${report.valuesChecked} values checked, ${report.deletionsChecked} deletions, ${report.inFlightSeen} changes after the last flush seen, ${report.flushedAfterThread} flushes after the thread started`,
    );
    expect(report.failures).toEqual([]);
    // The kills found the thread at work, and changes both flushed and not.
    expect(report.threaded).toBe(kills);
    expect(report.flushedAfterThread).toBeGreaterThan(0);
    expect(report.deletionsChecked).toBeGreaterThan(0);
    expect(report.inFlightSeen).toBeGreaterThan(0);
  });

  it("a process whose thread spills its keys while another comes and goes: each reads the other's flushed state, never an older one, and its own exactly", async () => {
    const dir = freshPath();
    new Chest({ path: dir }).close();
    const ms = '8000';
    const exits = await Promise.all([
      runTs(roundsFile, ['resident', dir, ms]),
      runTs(roundsFile, ['visitor', dir, ms]),
    ]);
    for (const exit of exits)
      expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({
        code: 0,
        signal: null,
        stderr: '',
      });
    const [resident, visitor] = exits.map((exit) => JSON.parse(exit.stdout) as RoundsReport) as [
      RoundsReport,
      RoundsReport,
    ];
    console.log(
      `spill-thread rounds: resident ${resident.rounds} rounds, ${resident.batches} batches to its thread, ${resident.besideVisits} rounds of them beside visits; visitor ${visitor.rounds} visits; ${resident.reads + visitor.reads} reads`,
    );
    expect([...resident.problems, ...visitor.problems]).toEqual([]);
    // The thread was at work between the visitor's commits, not only before the first.
    expect(resident.besideVisits).toBeGreaterThan(0);
    expect(visitor.rounds).toBeGreaterThan(5);
    using chest = new Chest<string, unknown>({ path: dir });
    const wrong: string[] = [];
    let present = 0;
    for (const [role, report] of [
      ['resident', resident],
      ['visitor', visitor],
    ] as const)
      for (let j = 0; j < KEYS[role]; j++) {
        const expected = stateOf(role, report.rounds, j);
        if (expected !== undefined) present++;
        if (!isDeepStrictEqual(chest.get(`${role[0]}${j}`), expected)) wrong.push(`${role[0]}${j}`);
      }
    expect(wrong).toEqual([]);
    expect(chest.size).toBe(present);
    expect(chest.verify().damaged).toEqual([]);
  });

  // A get that missed memory used to take its key back from a batch the chest had not settled yet,
  // as if set again, even when that batch had committed and another process had replaced the key
  // since; the next flush then wrote the old value (or deletion) over the newer one.
  it("a get after another process replaced a key whose batch had committed returns the other process's value, and no flush writes the old one back", async () => {
    const dir = freshPath();
    using a = new Chest<string, unknown>({ path: dir, availableMemory: 16 * 1024 });
    a.set('y', 'a0');
    a.spill(['y']);
    // A deletion of a key not in memory, and a new key: the two oldest entries, neither read since.
    a.delete('y');
    a.set('x', 'a1');
    // So the first spill hands both to the thread.
    const spilled = a.stats.spills;
    for (let i = 0; a.stats.spills === spilled; i++) a.set(`fill${i}`, { i });
    const { tier, behind } = inside(a);
    expect({ x: tier.find('x'), y: tier.find('y'), inFlight: behind.size > 0 }).toEqual({
      x: 0,
      y: 0,
      inFlight: true,
    });
    // Another process sees the batch committed (a thread slow to start may keep it a while), then
    // replaces both keys and flushes.
    let committed: { x: unknown; y: unknown } = { x: undefined, y: undefined };
    for (let tries = 0; tries < 10 && committed.x !== 'a1'; tries++)
      committed = { x: await peer(dir, 'get', 'x'), y: await peer(dir, 'get', 'y') };
    expect(committed).toEqual({ x: 'a1', y: null });
    await peer(dir, 'set-flush', 'x', '"b1"');
    await peer(dir, 'set-flush', 'y', '"b1"');
    const seen = { x: a.get('x'), y: a.get('y') };
    a.flush();
    const after = { x: await peer(dir, 'get', 'x'), y: await peer(dir, 'get', 'y') };
    expect({ seen, after }).toEqual({ seen: { x: 'b1', y: 'b1' }, after: { x: 'b1', y: 'b1' } });
  });
});
