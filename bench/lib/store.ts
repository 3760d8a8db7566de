/**
 * Results kept per workload (and, for W4, per N) in `<out>/workloads/<key>.json`, so that a run of
 * one workload replaces that workload's latest result and leaves the others: the report, the chart
 * and the README block are then made from all of them.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkloadResult } from './results.js';
import { WORKLOAD_IDS } from './types.js';

const FOLDER = 'workloads';

/** `W0` … `W5`, and `W4-10000000` for W4 (one result per N). */
export function resultKey(w: WorkloadResult): string {
  return w.id === 'W4' && w.records !== undefined ? `${w.id}-${w.records}` : w.id;
}

export function saveWorkloadResult(outDir: string, w: WorkloadResult): void {
  const dir = join(outDir, FOLDER);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${resultKey(w)}.json`);
  // Written aside and renamed, so an interrupted run never leaves half a file behind.
  writeFileSync(`${file}.tmp`, JSON.stringify(w, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

/** Every saved workload result, in workload order (W4 by N). Unreadable files are skipped. */
export function loadWorkloadResults(outDir: string): WorkloadResult[] {
  const dir = join(outDir, FOLDER);
  if (!existsSync(dir)) return [];
  const out: WorkloadResult[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    try {
      const w = JSON.parse(readFileSync(join(dir, name), 'utf8')) as WorkloadResult;
      if (WORKLOAD_IDS.includes(w.id)) out.push(w);
    } catch {
      // A file from an older layout or damaged: the next run of that workload replaces it.
    }
  }
  return out.sort(
    (a, b) => WORKLOAD_IDS.indexOf(a.id) - WORKLOAD_IDS.indexOf(b.id) || (a.records ?? 0) - (b.records ?? 0),
  );
}

export const README_START = '<!-- bench:results:start (written by npm run bench) -->';
export const README_END = '<!-- bench:results:end -->';

/**
 * Replaces the text between the README's markers with `block`, formatted as the project's Prettier
 * settings format the README (so that the lint step passes); false when the markers are absent.
 */
export async function updateReadmeBlock(readme: string, block: string): Promise<boolean> {
  let text: string;
  try {
    text = readFileSync(readme, 'utf8');
  } catch {
    return false;
  }
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start) return false;
  let next = `${text.slice(0, start + README_START.length)}\n\n${block.trim()}\n\n${text.slice(end)}`;
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(readme)) ?? {};
    next = await prettier.format(next, { ...config, filepath: readme });
  } catch {
    // Without Prettier the block is still right, only not aligned.
  }
  if (next !== text) writeFileSync(readme, next);
  return true;
}
