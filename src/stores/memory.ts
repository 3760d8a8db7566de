import { ChestError, ErrorCode } from '../errors.js';
import type {
  ChestMeta,
  EntryInfo,
  KeyRange,
  StoreFeatures,
  StoredValue,
  StructureTable,
  SyncStore,
  WriteOp,
} from './types.js';

/**
 * A store that keeps everything in this process's memory: for tests, and for a chest that only
 * needs the memory tier's accounting. Keys are kept as Latin-1 strings of their bytes, whose string
 * order is their byte order.
 *
 * @example
 * ```ts
 * import { Chest, MemoryStore } from 'spillchest';
 *
 * // No budget: every value goes to the store, which keeps it in this process's memory.
 * using chest = new Chest<string, number>({ store: new MemoryStore(), availableMemory: 0 });
 * chest.set('a', 1);
 * console.log(chest.get('a')); // 1
 * ```
 */
export class MemoryStore implements SyncStore {
  readonly features: StoreFeatures = {
    sync: true,
    persistent: false,
    processes: false,
    machines: false,
    ordered: true,
    files: false,
  };
  readonly location = 'memory';
  private readonly data = new Map<string, StoredValue>();
  private meta: ChestMeta | undefined;
  private shapes: string[][] = [];
  private closed = false;

  get(key: Uint8Array): StoredValue | undefined {
    this.assertOpen();
    const value = this.data.get(name(key));
    // Hand out a copy: the caller may keep or change what it gets.
    return value === undefined ? undefined : { ...value, data: Buffer.from(value.data) };
  }

  has(key: Uint8Array): boolean {
    this.assertOpen();
    return this.data.has(name(key));
  }

  info(key: Uint8Array): EntryInfo | undefined {
    this.assertOpen();
    const value = this.data.get(name(key));
    return value === undefined
      ? undefined
      : { kind: value.kind, codec: value.codec, byteLength: value.data.byteLength, file: undefined };
  }

  write(ops: readonly WriteOp[]): void {
    this.assertOpen();
    for (const op of ops) {
      if (op.type === 'delete') this.data.delete(name(op.key));
      else this.data.set(name(op.key), { ...op.value, data: Buffer.from(op.value.data) });
    }
  }

  delete(key: Uint8Array): boolean {
    this.assertOpen();
    return this.data.delete(name(key));
  }

  modify(key: Uint8Array, fn: (current: StoredValue | undefined) => StoredValue | undefined): void {
    this.assertOpen();
    const next = fn(this.get(key));
    if (next === undefined) this.data.delete(name(key));
    else this.data.set(name(key), { ...next, data: Buffer.from(next.data) });
  }

  count(): number {
    this.assertOpen();
    return this.data.size;
  }

  *keys(range: KeyRange = {}): Generator<Uint8Array> {
    this.assertOpen();
    const start = range.start === undefined ? undefined : name(range.start);
    const end = range.end === undefined ? undefined : name(range.end);
    const sorted = [...this.data.keys()].sort();
    let left = range.limit ?? Infinity;
    for (const key of sorted) {
      if (left <= 0) return;
      if (start !== undefined && key < start) continue;
      if (end !== undefined && key >= end) return;
      left--;
      yield Buffer.from(key, 'latin1');
    }
  }

  clear(): void {
    this.assertOpen();
    this.data.clear();
  }

  readMeta(): ChestMeta | undefined {
    this.assertOpen();
    return this.meta;
  }

  writeMeta(meta: ChestMeta): void {
    this.assertOpen();
    this.meta = meta;
  }

  readonly structures: StructureTable = {
    read: () => {
      this.assertOpen();
      return this.shapes.map((keys) => [...keys]);
    },
    update: (accept, next) => {
      this.assertOpen();
      if (!accept(this.structures.read())) return false;
      this.shapes = next.map((keys) => [...keys]);
      return true;
    },
  };

  flush(): void {
    this.assertOpen();
  }

  close(): void {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new ChestError(ErrorCode.CLOSED, 'the memory store is closed');
  }
}

function name(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}
