import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface DiskUsage {
  /** Bytes the file system allocated (st.blocks * 512): what the data really costs. */
  readonly allocated: number;
  /** Sum of file sizes (st.size); larger than `allocated` for sparse files. */
  readonly apparent: number;
  readonly files: number;
}

/** Walks a folder and adds up what its files take on disk. */
export function diskUsage(dir: string): DiskUsage {
  let allocated = 0;
  let apparent = 0;
  let files = 0;
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        walk(p);
        continue;
      }
      try {
        const st = lstatSync(p);
        allocated += st.blocks * 512;
        apparent += st.size;
        files++;
      } catch {
        // removed while walking
      }
    }
  };
  walk(dir);
  return { allocated, apparent, files };
}
