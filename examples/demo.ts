/**
 * A minute with a chest: fill it past its memory budget, read everything back, reopen it from its
 * path, and see what sits in memory and what on disk.
 *
 *   npm start                 # a chest in a new temporary folder, removed at the end
 *   npm start -- ./my-chest   # a chest at ./my-chest, kept for `chest info ./my-chest` later
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Chest, type Key } from '../src/index.js';

type Value = Float64Array | { id: number; name: string; tags: string[]; score: number };

const given = process.argv[2];
const dir = given ?? fs.mkdtempSync(path.join(os.tmpdir(), 'chest-demo-'));
const budget = 32 * 2 ** 20;
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function diskUsage(folder: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

function report(chest: Chest<Key, Value>, label: string): void {
  let inMemory = 0;
  for (const key of chest.keys()) if (chest.inMemory(key)) inMemory++;
  console.log(
    `${label.padEnd(28)} ${String(chest.size).padStart(7)} entries, ${String(inMemory).padStart(6)} in memory ` +
      `(${mb(chest.memoryUsage)} of ${mb(chest.availableMemory)}), ${mb(diskUsage(chest.path))} on disk`,
  );
}

console.log(`A chest at ${dir} with a memory budget of ${mb(budget)}\n`);
const chest = new Chest<Key, Value>({ path: path.join(dir, 'chest'), availableMemory: budget });

// 24 arrays of 4 MiB each: three times the budget.
for (let i = 0; i < 24; i++) chest.set(['array', i], new Float64Array(2 ** 19).fill(i));
report(chest, 'after 24 arrays of 4 MiB');

// 200,000 small records, which the chest keeps inline in its index once they spill.
for (let i = 0; i < 200_000; i++)
  chest.set(`k${i}`, { id: i, name: `item${i}`, tags: ['a', 'b'], score: i / 2 });
report(chest, 'after 200,000 records');

// Everything reads back, whether it was in memory or on disk.
let sum = 0;
for (let i = 0; i < 24; i++) sum += (chest.get(['array', i]) as Float64Array)[0]!;
for (let i = 0; i < 200_000; i += 1000) sum += (chest.get(`k${i}`) as { id: number }).id;
console.log(`\nread back: checksum ${sum} (expected ${276 + 19_900_000})`);
console.log('stats:', chest.stats);

chest.close();
const reopened = new Chest<Key, Value>({ path: path.join(dir, 'chest'), availableMemory: budget });
report(reopened, '\nreopened from its path');
console.log(`record k123456 after reopening:`, reopened.get('k123456'));
reopened.close();

if (given === undefined) {
  fs.rmSync(dir, { recursive: true, force: true });
  console.log('\nThe demo chest was temporary and is removed. Keep one with: npm start -- ./my-chest');
} else {
  console.log(`\nThe chest stays at ${path.join(dir, 'chest')}.`);
}
