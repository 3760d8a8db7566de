import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freshPath } from '../helpers.js';

/**
 * What `flush()` and `durable: true` make durable, seen in the system calls themselves: the writer
 * (test/fixtures/sync-writer.ts) runs under strace, and the test reads which files it synced, and in
 * what order, between its markers. A crash test cannot see a missing sync (a killed process leaves
 * the page cache intact), so this is where one shows. Needs strace and ptrace: without them the test
 * is skipped and says so, except under CI=true (CI installs strace), where it fails.
 */
const writer = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/sync-writer.ts');

function whyNot(): string | undefined {
  const probe = spawnSync('strace', ['-f', '-qq', '-e', 'trace=none', 'true'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `strace is not installed (${probe.error.message})`;
  if (probe.status !== 0) return `strace cannot trace here: ${probe.stderr.trim()}`;
  return undefined;
}

const missing = whyNot();
const skipped = missing !== undefined && process.env.CI !== 'true';
if (skipped) console.warn(`durability tests skipped: ${missing}`);

/** The paths synced between two markers of the writer, in order. */
type Syncs = (from: string, to: string) => string[];

function traceWriter(dir: string): Syncs {
  const out = `${dir}.strace`;
  const run = spawnSync(
    'strace',
    [
      '-f',
      '-qq',
      '-y',
      '-o',
      out,
      '-e',
      'trace=fsync,fdatasync,write',
      '-e',
      'signal=none',
      process.execPath,
    ].concat(['--import', 'tsx', writer, dir]),
    { encoding: 'utf8' },
  );
  expect({ status: run.status, error: run.error }, run.stderr).toEqual({ status: 0, error: undefined });
  const events: ({ sync: string } | { mark: string })[] = [];
  for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
    const sync = /\b(?:fsync|fdatasync)\(\d+<([^>]*)>\) = 0/.exec(line);
    if (sync !== null) events.push({ sync: sync[1]! });
    const mark = /write\(2<[^>]*>, "MARK ([a-z-]+)\\n"/.exec(line);
    if (mark !== null) events.push({ mark: mark[1]! });
  }
  fs.rmSync(out, { force: true });
  return (from, to) => {
    const start = events.findIndex((e) => 'mark' in e && e.mark === from);
    const end = events.findIndex((e) => 'mark' in e && e.mark === to);
    expect(start, `marker ${from}`).toBeGreaterThanOrEqual(0);
    expect(end, `marker ${to}`).toBeGreaterThan(start);
    return events.slice(start + 1, end).flatMap((e) => ('sync' in e ? [e.sync] : []));
  };
}

describe.skipIf(skipped)('durability, in the system calls', () => {
  it('flush() syncs each value file, then its folder, then the index; a durable set and delete sync the index before returning', () => {
    if (missing !== undefined) throw new Error(`CI=true needs strace: ${missing}`);
    const dir = freshPath();
    const syncs = traceWriter(dir);
    const real = fs.realpathSync(dir);
    const file = path.join(real, 'big');
    const index = path.join(real, '.chest', 'data.mdb');

    const flush = syncs('flush-start', 'flush-end');
    expect(flush).toContain(file);
    expect(flush).toContain(real);
    expect(flush).toContain(index);
    // Files, then the folders naming them, then the index that points at them: an index made durable
    // first could point at nothing after a power cut.
    expect(flush.indexOf(file)).toBeLessThan(flush.indexOf(real));
    expect(flush.lastIndexOf(index)).toBeGreaterThan(flush.indexOf(real));

    expect(syncs('durable-set-start', 'durable-set-end')).toContain(index);
    expect(syncs('durable-delete-start', 'durable-delete-end')).toContain(index);
  }, 60_000);
});
