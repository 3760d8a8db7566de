/**
 * Event-loop delay under load: how long a timer waits while a chest works, for Chest (synchronous)
 * and AsyncChest (value files through fs/promises) on the default LMDB store. Each does the same
 * work, yielding to the event loop between calls as a server handling one request after another
 * does: 16 Float64Arrays of 8 MiB with a 16 MiB budget (set, flush, read back), then 20,000 small
 * records with a 1 MiB budget (set, random gets). Prints p50, p99 and max of the delay in ms.
 *
 *   npx tsx bench/event-loop-delay.ts [--arrays 16] [--records 20000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { AsyncChest, Chest } from '../src/index.js';

const { values: args } = parseArgs({
  options: { arrays: { type: 'string', default: '16' }, records: { type: 'string', default: '20000' } },
});
const ARRAYS = Number(args.arrays);
const RECORDS = Number(args.records);

/** The calls one workload makes; each may return a promise. */
interface Target {
  set(key: string, value: unknown): unknown;
  get(key: string): unknown;
  flush(): unknown;
  close(): unknown;
}

async function measure(
  work: () => Promise<void>,
): Promise<{ p50: number; p99: number; max: number; s: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = performance.now();
  await work();
  const s = (performance.now() - t0) / 1000;
  h.disable();
  const ms = (ns: number): number => Math.round((ns / 1e6) * 10) / 10;
  return {
    p50: ms(h.percentile(50)),
    p99: ms(h.percentile(99)),
    max: ms(h.max),
    s: Math.round(s * 100) / 100,
  };
}

async function arrays(open: (dir: string, budget: number) => Promise<Target>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chest-eld-'));
  const chest = await open(dir, 16 * 2 ** 20);
  for (let i = 0; i < ARRAYS; i++) {
    await chest.set(`a${i}`, new Float64Array(2 ** 20).fill(i));
    await turn();
  }
  await chest.flush();
  for (let i = 0; i < ARRAYS; i++) {
    await chest.get(`a${i}`);
    await turn();
  }
  await chest.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

async function records(open: (dir: string, budget: number) => Promise<Target>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chest-eld-'));
  const chest = await open(dir, 2 ** 20);
  for (let i = 0; i < RECORDS; i++) {
    await chest.set(`r${i}`, { id: i, name: `name ${i}`, tags: ['a', 'b'], score: i / 3 });
    if (i % 16 === 0) await turn();
  }
  for (let i = 0; i < RECORDS; i++) {
    await chest.get(`r${(i * 7919) % RECORDS}`);
    if (i % 16 === 0) await turn();
  }
  await chest.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

const peers: Record<string, (dir: string, budget: number) => Promise<Target>> = {
  Chest: (dir, budget) => Promise.resolve(new Chest<string>({ path: dir, availableMemory: budget })),
  AsyncChest: (dir, budget) => AsyncChest.open<string>({ path: dir, availableMemory: budget }),
};

console.log(`| chest | load | p50 ms | p99 ms | max ms | wall s |`);
console.log(`| --- | --- | --- | --- | --- | --- |`);
for (const [name, open] of Object.entries(peers)) {
  const a = await measure(() => arrays(open));
  console.log(`| ${name} | ${ARRAYS} × 8 MiB arrays | ${a.p50} | ${a.p99} | ${a.max} | ${a.s} |`);
  const r = await measure(() => records(open));
  console.log(`| ${name} | ${RECORDS} small records | ${r.p50} | ${r.p99} | ${r.max} | ${r.s} |`);
}
