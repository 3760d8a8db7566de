/**
 * A worked example of a custom store (see docs/STORES.md): every value in a file of its own in one
 * folder, through `fs/promises`. It is an `AsyncStore`, so `AsyncChest` runs on it; the test suite
 * runs the store conformance suite against it.
 *
 *   npx tsx examples/custom-store.ts   # a chest on it: set, spill, reopen, read back
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import {
  AsyncChest,
  ChestError,
  ErrorCode,
  type AsyncStore,
  type ChestMeta,
  type EntryInfo,
  type KeyRange,
  type StoreFeatures,
  type StoredValue,
  type WriteOp,
} from '../src/index.js';

/** Bytes before a value in its file: kind, codec, and the CRC-32 of the value. */
const HEADER = 6;

export class FolderStore implements AsyncStore {
  readonly features: StoreFeatures = {
    sync: false,
    persistent: true,
    processes: false,
    machines: false,
    // File names are the keys in lowercase hex, whose string order is the keys' byte order.
    ordered: true,
    files: false,
  };
  private closed = false;

  constructor(readonly location: string) {}

  /** Creates the folder; call before the first use. */
  async init(): Promise<this> {
    await fs.mkdir(path.join(this.location, 'values'), { recursive: true });
    return this;
  }

  async get(key: Uint8Array): Promise<StoredValue | undefined> {
    const bytes = await this.read(this.file(key));
    if (bytes === undefined) return undefined;
    const data = bytes.subarray(HEADER);
    const checksum = bytes.readUInt32LE(2);
    if (crc32(data) !== checksum) {
      throw new ChestError(ErrorCode.CORRUPT, `${this.file(key)} fails its checksum`, {
        file: this.file(key),
      });
    }
    return { kind: bytes[0]!, codec: bytes[1]!, data, checksum };
  }

  async has(key: Uint8Array): Promise<boolean> {
    return (await this.info(key)) !== undefined;
  }

  async info(key: Uint8Array): Promise<EntryInfo | undefined> {
    const value = await this.get(key);
    return value === undefined
      ? undefined
      : { kind: value.kind, codec: value.codec, byteLength: value.data.byteLength, file: undefined };
  }

  /** Each key's file is replaced whole by a rename; a batch across keys is not atomic. */
  async write(ops: readonly WriteOp[]): Promise<void> {
    this.assertOpen();
    for (const op of ops) {
      if (op.type === 'delete') await this.delete(op.key);
      else await this.replace(this.file(op.key), encode(op.value));
    }
  }

  async delete(key: Uint8Array): Promise<boolean> {
    this.assertOpen();
    try {
      await fs.unlink(this.file(key));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new ChestError(ErrorCode.IO, `cannot delete ${this.file(key)}`, { cause: error });
    }
  }

  /** Not atomic against other processes: this store declares `processes: false`. */
  async modify(
    key: Uint8Array,
    fn: (current: StoredValue | undefined) => StoredValue | undefined,
  ): Promise<void> {
    const next = fn(await this.get(key));
    await this.write([next === undefined ? { type: 'delete', key } : { type: 'put', key, value: next }]);
  }

  async count(): Promise<number> {
    return (await this.names()).length;
  }

  async *keys(range: KeyRange = {}): AsyncGenerator<Uint8Array> {
    // Listed before the first key is yielded: writes made during the iteration are not seen.
    const names = (await this.names()).sort();
    const start = range.start === undefined ? undefined : hex(range.start);
    const end = range.end === undefined ? undefined : hex(range.end);
    let left = range.limit ?? Infinity;
    for (const name of names) {
      if (left <= 0 || (end !== undefined && name >= end)) return;
      if (start !== undefined && name < start) continue;
      left--;
      yield Buffer.from(name, 'hex');
    }
  }

  async clear(): Promise<void> {
    for (const name of await this.names())
      await fs.rm(path.join(this.location, 'values', name), { force: true });
  }

  async readMeta(): Promise<ChestMeta | undefined> {
    const bytes = await this.read(path.join(this.location, 'meta.json'));
    return bytes === undefined ? undefined : (JSON.parse(bytes.toString()) as ChestMeta);
  }

  async writeMeta(meta: ChestMeta): Promise<void> {
    this.assertOpen();
    await this.replace(path.join(this.location, 'meta.json'), Buffer.from(JSON.stringify(meta)));
  }

  /** Files are not fsynced in this example: a crash of the machine may lose recent writes. */
  async flush(): Promise<void> {
    this.assertOpen();
    await Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.resolve();
  }

  private file(key: Uint8Array): string {
    return path.join(this.location, 'values', hex(key));
  }

  private async names(): Promise<string[]> {
    this.assertOpen();
    return (await fs.readdir(path.join(this.location, 'values'))).filter((n) => !n.endsWith('.tmp'));
  }

  private async read(file: string): Promise<Buffer | undefined> {
    this.assertOpen();
    try {
      return await fs.readFile(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ChestError(ErrorCode.IO, `cannot read ${file}`, { cause: error, file });
    }
  }

  /** Writes a whole new file under a temporary name, then renames it over the old one. */
  private async replace(file: string, bytes: Buffer): Promise<void> {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await fs.writeFile(tmp, bytes);
      await fs.rename(tmp, file);
    } catch (error) {
      await fs.rm(tmp, { force: true });
      throw new ChestError(ErrorCode.IO, `cannot write ${file}`, { cause: error, file });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ChestError(ErrorCode.CLOSED, `the store at ${this.location} is closed`);
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function encode(value: StoredValue): Buffer {
  const out = Buffer.allocUnsafe(HEADER + value.data.byteLength);
  out[0] = value.kind;
  out[1] = value.codec;
  out.writeUInt32LE(value.checksum ?? crc32(value.data), 2);
  out.set(value.data, HEADER);
  return out;
}

/** The example run: a chest on the store, past its budget, closed and reopened. */
export async function main(dir: string): Promise<number> {
  const open = async (): Promise<AsyncChest<string, number[]>> =>
    AsyncChest.open<string, number[]>({ store: await new FolderStore(dir).init(), availableMemory: 1000 });
  const chest = await open();
  for (let i = 0; i < 100; i++) await chest.set(`k${i}`, [i, i * i]);
  await chest.close();
  await using again = await open();
  return (await again.get('k9'))![1]! + (await again.size());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chest-folder-store-'));
  console.log(`k9 squared plus the number of keys: ${await main(dir)}`);
  await fs.rm(dir, { recursive: true, force: true });
}
