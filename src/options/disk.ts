import { parseMemorySize } from './memory.js';

/** The disk quota options as the LMDB store takes them. */
export interface DiskOptions {
  availableDisk?: number;
  onDiskFull?: 'fail' | 'evict';
  onEvict?: (keys: Uint8Array[]) => void;
}

/** Checks `availableDisk` and `onDiskFull`; `evicted` receives the store's evictions. */
export function diskOptions(
  options: { availableDisk?: number | string; onDiskFull?: 'fail' | 'evict' },
  evicted: (keys: Uint8Array[]) => void,
): DiskOptions {
  const { availableDisk, onDiskFull } = options;
  if (onDiskFull !== undefined && onDiskFull !== 'fail' && onDiskFull !== 'evict') {
    throw new TypeError(`onDiskFull must be 'fail' or 'evict', got ${JSON.stringify(onDiskFull)}`);
  }
  if (availableDisk === undefined) {
    if (onDiskFull !== undefined) throw new TypeError('onDiskFull needs availableDisk');
    return {};
  }
  if (typeof availableDisk === 'string' && availableDisk.trim().endsWith('%')) {
    throw new TypeError(
      `availableDisk is a number of bytes or a size such as '10 GB', not a share: ${availableDisk}`,
    );
  }
  return {
    availableDisk: parseMemorySize(availableDisk),
    onDiskFull: onDiskFull ?? 'fail',
    onEvict: evicted,
  };
}
