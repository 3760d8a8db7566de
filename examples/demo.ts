/**
 * A minute with a chest: fill one with more than its memory budget holds, watch memory against disk,
 * read everything back and check it, reopen it from its path, and look into it with the `chest` CLI.
 *
 *   npm start                 # the chest goes to ./demo.chest (replaced on every run)
 *   npm start -- ./my-chest   # or wherever you say
 */
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Chest, type Key } from '../src/index.js';
import { progress } from '../src/cli/progress.js';

type Row = { id: number; name: string; tags: string[]; score: number };
type Value = Float64Array | Row;

const where = process.argv[2] ?? './demo.chest';
const scale = Number(process.env.DEMO_SCALE ?? 1); // the tests run a smaller demo
const ARRAYS = Math.max(2, Math.round(40 * scale)); // 1 MiB each
const RECORDS = Math.round(100_000 * scale);
const BUDGET = Math.round(16 * 2 ** 20 * scale);

const array = (i: number): Float64Array => new Float64Array(2 ** 17).map((_, j) => i + j / 2 ** 17);
const record = (i: number): Row => ({
  id: i,
  name: `item ${i}`,
  tags: ['demo', i % 2 ? 'odd' : 'even'],
  score: i / 7,
});
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function diskUsage(folder: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  return total;
}

/** Memory against disk, in one line. */
const status = (chest: Chest<Key, Value>): string =>
  `memory ${mib(chest.memoryUsage)} of ${mib(chest.availableMemory)}, disk ${mib(diskUsage(chest.path))}`;

/** A progress bar on a terminal; a few plain lines when the output is piped. */
function steps(label: string, total: number, chest: Chest<Key, Value>): (done: number) => void {
  const bar = progress(label, total);
  const plain = !process.stderr.isTTY;
  return (done) => {
    if (plain && (done === total || done % Math.ceil(total / 4) === 0))
      console.log(`  ${label} ${done}/${total}: ${status(chest)}`);
    bar.update(done, () => status(chest));
    if (done === total) bar.finish();
  };
}

// The demo's own chest from an earlier run is replaced; anything else at that path is left alone.
if (fs.existsSync(path.join(where, '.chest'))) fs.rmSync(where, { recursive: true });

console.log(`A chest is a Map that keeps at most a budget of bytes in memory and the rest on disk.
This one lives at ${where} with a budget of ${mib(BUDGET)}. It gets ${ARRAYS} arrays of 1 MiB and
${RECORDS.toLocaleString('en-US')} small records: far more than the budget holds.\n`);

const chest = new Chest<Key, Value>({ path: where, availableMemory: BUDGET });
const total = ARRAYS + RECORDS;
let step = steps('filling', total, chest);
for (let i = 0; i < ARRAYS; i++) {
  chest.set(['array', i], array(i));
  step(i + 1);
}
for (let i = 0; i < RECORDS; i++) {
  chest.set(['record', i], record(i));
  step(ARRAYS + i + 1);
}
console.log(`filled:    ${chest.size.toLocaleString('en-US')} entries; ${status(chest)}`);

// Everything comes back, from memory or from disk, and is checked against what was written.
let wrong = 0;
step = steps('reading', total, chest);
for (let i = 0; i < ARRAYS; i++) {
  if (!isDeepStrictEqual(chest.get(['array', i]), array(i))) wrong++;
  step(i + 1);
}
for (let i = 0; i < RECORDS; i++) {
  if (!isDeepStrictEqual(chest.get(['record', i]), record(i))) wrong++;
  step(ARRAYS + i + 1);
}
if (wrong > 0) {
  console.error(`${wrong} values did not read back as written`);
  process.exit(1);
}
console.log(`read back: all ${total.toLocaleString('en-US')} values checked; ${status(chest)}`);
console.log('stats:    ', chest.stats);
chest.close();

// A later run opens it by its path: nothing is in memory until asked for.
const reopened = new Chest<Key, Value>({ path: where, availableMemory: BUDGET });
console.log(`reopened:  ${reopened.size.toLocaleString('en-US')} entries; ${status(reopened)}`);
console.log('the first records in key order:');
for (const [key, value] of reopened.entries({ prefix: ['record'], limit: 3 }))
  console.log(`  ${JSON.stringify(key)} -> ${JSON.stringify(value)}`);
reopened.close();

// Quoted for the shell when the path needs it.
const shown = /^[\w./-]+$/.test(where) ? where : `'${where.replaceAll("'", `'\\''`)}'`;
console.log(`\nLook into the chest with the chest command:\n\n  npx chest info ${shown}\n`);
