/**
 * The size estimate lru-cache is given as `sizeCalculation`: Chest's own `sizeOf(value, key)` when the
 * library exports it, so that both account the same bytes against the same budget.
 */
import { loadChestModule } from './chest.js';

export interface SizeEstimator {
  readonly sizeOf: (value: unknown, key: unknown) => number;
  readonly source: string;
}

/**
 * Rough V8 footprint of a value plus its key.
 * TODO: drop this fallback once the library exports `sizeOf` (it is only used while it does not).
 */
export function localSizeOf(value: unknown, key: unknown): number {
  return estimate(value, 0) + estimate(key, 0);
}

function estimate(v: unknown, depth: number): number {
  switch (typeof v) {
    case 'string':
      return 16 + ((v.length + 7) & ~7);
    case 'number':
      return Number.isInteger(v) ? 8 : 16;
    case 'boolean':
    case 'undefined':
      return 8;
    case 'bigint':
      return 24;
    case 'object': {
      if (v === null) return 8;
      if (ArrayBuffer.isView(v)) return 96 + v.byteLength;
      if (v instanceof ArrayBuffer) return 64 + v.byteLength;
      if (depth > 16) return 16;
      if (Array.isArray(v)) {
        let n = 32 + 8 * v.length;
        for (const x of v) n += estimate(x, depth + 1);
        return n;
      }
      let n = 32;
      for (const [k, x] of Object.entries(v)) n += 8 + estimate(k, depth + 1) / 4 + estimate(x, depth + 1);
      return n;
    }
    default:
      return 16;
  }
}

export async function loadSizeEstimator(): Promise<SizeEstimator> {
  try {
    const m = await loadChestModule();
    const own = m.sizeOf;
    if (typeof own === 'function') {
      // What Chest charges an entry against its budget: sizeOf plus its fixed per-entry bookkeeping.
      const overhead = typeof m.ENTRY_OVERHEAD === 'number' ? m.ENTRY_OVERHEAD : 0;
      return {
        sizeOf: (value, key) => own(value, key) + overhead,
        source: `spillchest's sizeOf(value, key) + ENTRY_OVERHEAD (${overhead} B), what Chest charges per entry`,
      };
    }
  } catch {
    // library not importable yet: fall back below
  }
  return { sizeOf: localSizeOf, source: 'local estimate (the library does not export sizeOf yet)' };
}
