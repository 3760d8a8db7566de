import os from 'node:os';

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
};

/**
 * A byte count, or a string such as `'512 MB'`, `'1.5GiB'`, `'25%'`.
 *
 * @example
 * ```ts
 * import { Chest, type MemorySize } from 'spillchest';
 *
 * const budget: MemorySize = process.env.CHEST_MEMORY ?? '10%';
 * using chest = new Chest({ availableMemory: budget });
 * chest.availableMemory = '1 MB'; // lowering the budget spills at once
 * ```
 */
export type MemorySize = number | string;

/** Memory the process may use: its cgroup limit when it has one, else the machine's memory. */
export function memoryLimit(): number {
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  // Without a limit Node reports 0 or a huge sentinel; fall back to the machine's memory then.
  const total = os.totalmem();
  return constrained !== undefined && constrained > 0 && constrained < total ? constrained : total;
}

/** Default budget of a chest's memory tier: 25% of the memory the process may use, at most 1 GB. */
export function defaultAvailableMemory(): number {
  return Math.min(1e9, Math.floor(memoryLimit() * 0.25));
}

/** Parses a memory size; throws a `TypeError` or `RangeError` that quotes the bad input. */
export function parseMemorySize(value: MemorySize): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`a memory size must be a finite number of bytes >= 0, got ${value}`);
    }
    return Math.floor(value);
  }
  if (typeof value !== 'string') {
    throw new TypeError(`a memory size must be a number or a string such as '512 MB', got ${typeof value}`);
  }
  const match = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z%]*)\s*$/i.exec(value);
  if (match === null) throw new TypeError(`cannot read ${JSON.stringify(value)} as a memory size`);
  const amount = Number(match[1]);
  const unit = (match[2] ?? '').toLowerCase();
  if (unit === '%') {
    if (amount > 100) throw new RangeError(`a memory share must be at most 100%, got ${value}`);
    return Math.floor((memoryLimit() * amount) / 100);
  }
  const scale = unit === '' ? 1 : UNITS[unit];
  if (scale === undefined)
    throw new TypeError(`unknown unit ${JSON.stringify(match[2])} in ${JSON.stringify(value)}`);
  return Math.floor(amount * scale);
}
