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

    // Replay the log written since the last check: acknowledged changes, then those in flight.
    const text = fs.readFileSync(logFile, 'utf8').slice(offset);
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    offset += Buffer.byteLength(complete);
    const pending = new Map<string, (string | null)[]>();
    for (const line of complete.split('\n')) {
      if (line === '') continue;
      const entry = JSON.parse(line) as LogLine;
      if (entry.op === 'ack') {
        for (const [key, versions] of pending) acked.set(key, versions.at(-1)!);
        pending.clear();
      } else {
        const list = pending.get(entry.key) ?? [];
        list.push(entry.op === 'set' ? entry.v : null);
        pending.set(entry.key, list);
      }
    }
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
    const keys = new Set([...acked.keys(), ...pending.keys()]);
    for (const key of chest.keys()) if (!keys.has(key)) fail(`unexpected key ${key}`);
    for (const key of keys) {
      const allowed = [acked.get(key) ?? null, ...(pending.get(key) ?? [])];
      let got: unknown;
      try {
        got = chest.get(key);
      } catch (error) {
        fail(`${key}: ${String(error)}`);
        report.valuesLost++;
        continue;
      }
      report.valuesChecked++;
      const match = allowed.find((v) =>
        v === null ? got === undefined : isDeepStrictEqual(got, valueFor(key, v)),
      );
      if (match === undefined) {
        report.valuesLost++;
        fail(`${key}: read ${describe(got)}, expected one of versions ${allowed.join(', ')}`);
        continue;
      }
      if (allowed.length === 1) report.acknowledgedChecked++;
      else if (match !== allowed[0]) report.inFlightSeen++;
      // What is on disk now is what the next launch builds on.
      acked.set(key, match);
    }
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

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  return JSON.stringify(value)?.slice(0, 120) ?? String(value);
}
