import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { buildSync } from 'esbuild';
import { open } from 'lmdb';
import { Chest } from '../../src/index.js';
import { indexOptions } from '../../src/stores/lmdb/env.js';
import { valueFor, type LogLine } from '../fixtures/crash-values.js';
import { seededRandom } from './damage-tools.js';

/**
 * The crash harness: launches the writer of `test/fixtures/crash-writer.ts` again and again on one
 * chest and SIGKILLs each at a random moment, then opens the chest and checks it:
 *   - every value acknowledged by a `flush()` reads back identical, unless a later change of the
 *     same key (in flight at the kill) replaced it: then it is that change, whole;
 *   - no other key exists;
 *   - the dead writer's temporary files are gone once the chest is open;
 *   - no reader slot of a dead process is left in LMDB's reader table.
 * The writer is bundled once with esbuild so each launch costs a plain `node` start.
 */
export interface CrashReport {
  seed: number;
  kills: number;
  valuesChecked: number;
  valuesLost: number;
  acknowledgedChecked: number;
  inFlightSeen: number;
  failures: string[];
}

const ROOT = path.join(import.meta.dirname, '..', '..');

export function bundleWriter(): string {
  const outfile = path.join(ROOT, 'node_modules', '.cache', 'spillchest-test', 'crash-writer.mjs');
  buildSync({
    entryPoints: [path.join(ROOT, 'test', 'fixtures', 'crash-writer.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

export async function runCrashes(dir: string, seed: number, kills: number): Promise<CrashReport> {
  const writer = bundleWriter();
  const rnd = seededRandom(seed);
  const logFile = `${dir}.log`;
  const report: CrashReport = {
    seed,
    kills: 0,
    valuesChecked: 0,
    valuesLost: 0,
    acknowledgedChecked: 0,
    inFlightSeen: 0,
    failures: [],
  };
  // What the chest must hold: per key, the acknowledged version (null: absent), and the versions
  // written after it that a kill may have left in its place.
  const acked = new Map<string, string | null>();
  let offset = 0;
  for (let launch = 0; launch < kills; launch++) {
    const child = spawn(process.execPath, [writer, dir, logFile, String(seed + launch), String(launch)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 5 + rnd() * 150));
    child.kill('SIGKILL');
    const signal = await exited;
    if (signal !== 'SIGKILL')
      report.failures.push(`launch ${launch}: the writer ended by ${signal ?? 'exit'}, not the kill`);
    report.kills++;

    const replayed = replayLog(logFile, offset, acked);
    offset = replayed.offset;
    const { pending } = replayed;
    check(dir, launch, acked, pending, report, child.pid!);
  }
  return report;
}

function check(
  dir: string,
  launch: number,
  acked: Map<string, string | null>,
  pending: Map<string, (string | null)[]>,
  report: CrashReport,
  deadPid: number,
): void {
  const fail = (what: string): void => {
    report.failures.push(`launch ${launch}: ${what}`);
  };
  const chest = new Chest<string, unknown>({ path: dir, availableMemory: 0 });
  try {
    const tmp = fs.readdirSync(path.join(dir, '.chest', 'tmp'));
    if (tmp.length > 0) fail(`temporary files left after open: ${tmp.join(', ')}`);
    const counts = checkKeys(chest, acked, pending, fail);
    report.valuesChecked += counts.checked;
    report.valuesLost += counts.wrong;
    report.acknowledgedChecked += counts.acknowledged;
    report.inFlightSeen += counts.inFlight;
    const verify = chest.verify();
    if (verify.damaged.length > 0) fail(`verify: ${JSON.stringify(verify.damaged)}`);
  } finally {
    chest.close();
  }
  // The killed writer's reader slot must be gone: the chest's open cleared it.
  const root = open(indexOptions(path.join(dir, '.chest')));
  const readers = root.readerList();
  void root.close();
  if (readers.split('\n').some((line) => Number.parseInt(line.trim(), 10) === deadPid))
    fail(`the reader slot of the killed writer ${deadPid} is still taken`);
}

/** What replaying a writer's log found: see `replayLog`. */
export interface Replayed {
  /** Per key, the versions logged after its last acknowledged one: a kill may have left any. */
  readonly pending: Map<string, (string | null)[]>;
  /** Where the next replay starts in the log. */
  readonly offset: number;
  /** The acks replayed. */
  readonly acks: LogLine[];
}

/**
 * Replays the complete lines a writer logged from `offset` on: each change acknowledged by a later
 * `ack` becomes its key's version in `acked` (null: absent); the changes after the last ack are
 * returned as pending.
 */
export function replayLog(logFile: string, offset: number, acked: Map<string, string | null>): Replayed {
  const text = fs.readFileSync(logFile, 'utf8').slice(offset);
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  const pending = new Map<string, (string | null)[]>();
  const acks: LogLine[] = [];
  for (const line of complete.split('\n')) {
    if (line === '') continue;
    const entry = JSON.parse(line) as LogLine;
    if (entry.op === 'ack') {
      for (const [key, versions] of pending) acked.set(key, versions.at(-1)!);
      pending.clear();
      acks.push(entry);
    } else {
      const list = pending.get(entry.key) ?? [];
      list.push(entry.op === 'set' ? entry.v : null);
      pending.set(entry.key, list);
    }
  }
  return { pending, offset: offset + Buffer.byteLength(complete), acks };
}

/** What `checkKeys` counted. */
export interface KeyCounts {
  /** Keys read. */
  checked: number;
  /** Keys whose read failed or matched no allowed version. */
  wrong: number;
  /** Keys with no change after their acknowledged version, read as it. */
  acknowledged: number;
  /** Keys read as a change logged after their acknowledged version. */
  inFlight: number;
  /** Of those, keys deleted by an acknowledged flush, read as absent. */
  deletedAcknowledged: number;
  /** Keys read as present. */
  present: number;
}

/**
 * Every key of the log holds its acknowledged version (a deleted one stays deleted) or one of the
 * changes logged after it, and the chest holds no other key. What each key read as becomes its
 * acknowledged version: it is what the next launch builds on.
 */
export function checkKeys(
  chest: Chest<string>,
  acked: Map<string, string | null>,
  pending: Map<string, (string | null)[]>,
  fail: (what: string) => void,
): KeyCounts {
  const counts: KeyCounts = {
    checked: 0,
    wrong: 0,
    acknowledged: 0,
    deletedAcknowledged: 0,
    inFlight: 0,
    present: 0,
  };
  const keys = new Set([...acked.keys(), ...pending.keys()]);
  for (const key of chest.keys()) if (!keys.has(key)) fail(`unexpected key ${key}`);
  for (const key of keys) {
    const allowed = [acked.get(key) ?? null, ...(pending.get(key) ?? [])];
    let got: unknown;
    try {
      got = chest.get(key);
    } catch (error) {
      fail(`${key}: ${String(error)}`);
      counts.wrong++;
      continue;
    }
    counts.checked++;
    const match = allowed.find((v) =>
      v === null ? got === undefined : isDeepStrictEqual(got, valueFor(key, v)),
    );
    if (match === undefined) {
      counts.wrong++;
      fail(`${key}: read ${describe(got)}, expected one of versions ${allowed.join(', ')}`);
      continue;
    }
    if (allowed.length === 1) {
      counts.acknowledged++;
      if (match === null) counts.deletedAcknowledged++;
    } else if (match !== allowed[0]) counts.inFlight++;
    if (match !== null) counts.present++;
    acked.set(key, match);
  }
  return counts;
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  return JSON.stringify(value)?.slice(0, 120) ?? String(value);
}
