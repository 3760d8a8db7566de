import { randomBytes } from 'node:crypto';
import { crc32 } from '../../values/crc32.js';
import { sealChecksum } from '../../values/seal.js';
import { Cluster, Redis } from 'ioredis';
import { ChestError, ErrorCode } from '../../errors.js';
import type {
  AsyncStore,
  ChestMeta,
  EntryInfo,
  KeyRange,
  StoreFeatures,
  StoredValue,
  WriteOp,
} from '../types.js';
import { PUBLISH, REMOVE } from './scripts.js';

export interface RedisStoreOptions {
  /** A single server: `redis://host:port[/db]`. */
  readonly url?: string;
  /** A Redis Cluster: some of its nodes, as `'host:port'` or `{ host, port }`. */
  readonly cluster?: readonly (string | { readonly host: string; readonly port: number })[];
  /**
   * A client of your own (ioredis `Redis` or `Cluster`) instead of `url` or `cluster`. The store
   * does not close it. Give it `maxRetriesPerRequest` so that a lost connection fails calls in time.
   */
  readonly client?: Redis | Cluster;
  /**
   * Every key of this chest starts with it; `clear` removes only keys under it. No `{` or `}`: the
   * store adds a hash tag per value. Default `'spillchest:'`.
   */
  readonly prefix?: string;
  /** Bytes per part of a large value. Default 8 MiB; at most 512 MiB (Redis's limit of one string). */
  readonly partSize?: number;
  /**
   * Reconnections a call waits through before it fails with `CHEST_UNAVAILABLE` (for the clients the
   * store makes). Default 2.
   */
  readonly maxRetriesPerRequest?: number;
}

/** Parts not yet published expire, so a writer that dies between parts and publishing leaves nothing. */
const PART_TTL_MS = 60 * 60 * 1000;
/** Parts of one value in flight at once, to bound the memory of a large read or write. */
const PART_CONCURRENCY = 4;
const DEFAULT_PART_SIZE = 8 * 2 ** 20;

/** A head as read: see scripts.ts. */
interface Head {
  readonly version: string;
  readonly kind: number;
  readonly codec: number;
  readonly parts: number;
  readonly length: number;
  /** The plain CRC-32 of the bytes (unsealed when read). */
  readonly checksum: number;
  readonly data: Buffer | undefined;
}

interface Scripts {
  chestPublish(keyCount: number, ...keysAndArgs: (string | number | Buffer)[]): Promise<unknown>;
  chestRemove(head: string, expected: string): Promise<unknown>;
}

type Client = (Redis | Cluster) & Scripts;

/**
 * A store on Redis, a single server or a cluster, shared by every process and machine that opens
 * the same prefix.
 *
 * Each value has a head (a hash holding its version, kind, codec, length and checksum, and the bytes
 * themselves when they fit in one part) and, when larger, parts of `partSize` bytes under its
 * version. A write sends the parts first, then publishes the head in one Lua script; the parts of
 * the version it replaced are deleted after. A reader reads the head, then the parts of that
 * version; if one is gone (replaced meanwhile) it starts again, so no reader sees half a value. A
 * value's head and parts share a hash tag, so in a cluster they live in one slot.
 *
 * A batch is applied key by key: each key's change is atomic, a batch across keys is not (Redis
 * Cluster cannot commit across slots). `count` and `keys` scan the prefix.
 */
export class RedisStore implements AsyncStore {
  readonly features: StoreFeatures = {
    sync: false,
    persistent: true,
    processes: true,
    machines: true,
    ordered: false,
    files: false,
  };
  readonly location: string;
  private readonly client: Client;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly partSize: number;
  private closed = false;
  /** The last error the client reported, for messages. */
  private lastError: Error | undefined;

  constructor(options: RedisStoreOptions) {
    // From plain JavaScript, `new RedisStore()` would otherwise fail reading `url` of undefined.
    if (typeof options !== 'object' || (options as unknown) === null)
      throw new TypeError(
        "give the Redis store its options: { url: 'redis://…' }, { cluster } or { client }",
      );
    const given = [options.url, options.cluster, options.client].filter((o) => o !== undefined);
    if (given.length !== 1) throw new TypeError('give the Redis store exactly one of url, cluster or client');
    this.prefix = options.prefix ?? 'spillchest:';
    if (/[{}]/.test(this.prefix)) throw new TypeError(`a Redis prefix may not hold { or }: ${this.prefix}`);
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
    if (!Number.isSafeInteger(this.partSize) || this.partSize < 1 || this.partSize > 512 * 2 ** 20) {
      throw new RangeError(
        `partSize must be a whole number of bytes from 1 to 512 MiB, got ${this.partSize}`,
      );
    }
    const retries = options.maxRetriesPerRequest ?? 2;
    const redisOptions = {
      maxRetriesPerRequest: retries,
      // Reconnect for ever, at most a second apart; calls made meanwhile wait `retries` attempts.
      retryStrategy: (times: number) => Math.min(times * 50, 1000),
      enableAutoPipelining: true,
    };
    let client: Redis | Cluster;
    if (options.client !== undefined) client = options.client;
    else if (options.url !== undefined) client = new Redis(options.url, redisOptions);
    else {
      const nodes = options.cluster!.map((node) => {
        if (typeof node !== 'string') return node;
        const [host, port] = node.split(':');
        return { host: host ?? '127.0.0.1', port: Number(port) };
      });
      // Without automatic pipelining: ioredis's groups keys of several slots into one pipeline.
      client = new Cluster(nodes, {
        redisOptions: { ...redisOptions, enableAutoPipelining: false },
        clusterRetryStrategy: (times: number) => Math.min(times * 50, 1000),
      });
    }
    this.owned = options.client === undefined;
    // Without a listener, the client's 'error' events would be reported as unhandled.
    client.on('error', (error: Error) => {
      this.lastError = error;
    });
    client.defineCommand('chestPublish', { lua: PUBLISH });
    client.defineCommand('chestRemove', { numberOfKeys: 1, lua: REMOVE });
    this.client = client as Client;
    const where =
      options.url ??
      (options.cluster === undefined
        ? 'redis'
        : `redis-cluster://${options.cluster.map((n) => (typeof n === 'string' ? n : `${n.host}:${n.port}`)).join(',')}`);
    this.location = `${where.replace(/\/\/[^@/]*@/, '//')}#${this.prefix}`;
  }

  async get(key: Uint8Array): Promise<StoredValue | undefined> {
    return (await this.read(key))?.value;
  }

  async has(key: Uint8Array): Promise<boolean> {
    return this.call(async () => (await this.client.exists(this.head(key))) === 1);
  }

  async info(key: Uint8Array): Promise<EntryInfo | undefined> {
    const head = await this.call(() => this.readHead(this.head(key)));
    return head === undefined
      ? undefined
      : { kind: head.kind, codec: head.codec, byteLength: head.length, file: undefined };
  }

  async version(key: Uint8Array): Promise<string | undefined> {
    return this.call(async () => (await this.client.hget(this.head(key), 'v')) ?? undefined);
  }

  async write(ops: readonly WriteOp[]): Promise<void> {
    this.assertOpen();
    // Later ops on one key win: only the last one of each key is sent.
    const last = new Map<string, WriteOp>();
    for (const op of ops) {
      const head = this.head(op.key);
      last.delete(head);
      last.set(head, op);
    }
    await this.call(() =>
      Promise.all(
        [...last].map(([head, op]) =>
          op.type === 'put' ? this.publish(head, op.value, '*') : this.remove(head, '*'),
        ),
      ),
    );
  }

  async delete(key: Uint8Array): Promise<boolean> {
    return this.call(async () => (await this.remove(this.head(key), '*')) !== undefined);
  }

  /**
   * Optimistic: reads the value, computes `fn`, and publishes only if nobody published meanwhile;
   * else reads again. `fn` may thus run more than once, and must not have side effects.
   */
  async modify(
    key: Uint8Array,
    fn: (current: StoredValue | undefined) => StoredValue | undefined,
  ): Promise<void> {
    const head = this.head(key);
    for (;;) {
      const found = await this.read(key);
      const expected = found?.version ?? '';
      const next = fn(found?.value);
      const done = await this.call(async () => {
        if (next === undefined) {
          if (found === undefined) return true;
          return (await this.remove(head, expected)) !== 'conflict';
        }
        return (await this.publish(head, next, expected)) !== 'conflict';
      });
      if (done) return;
    }
  }

  async count(): Promise<number> {
    return this.call(async () => (await this.scanHeads()).length);
  }

  async *keys(range: KeyRange = {}): AsyncGenerator<Uint8Array> {
    // Collected before the first key is yielded: writes made during the iteration are not seen.
    const heads = await this.call(() => this.scanHeads());
    let left = range.limit ?? Infinity;
    for (const head of heads) {
      if (left <= 0) return;
      const key = Buffer.from(head.slice(this.prefix.length + 1, -1), 'base64url');
      if (range.start !== undefined && Buffer.compare(key, range.start) < 0) continue;
      if (range.end !== undefined && Buffer.compare(key, range.end) >= 0) continue;
      left--;
      yield key;
    }
  }

  async clear(): Promise<void> {
    await this.call(async () => {
      // Heads and parts: every key of this chest but its manifest.
      const names = await this.scan(`${globEscape(this.prefix)}{*`);
      await Promise.all(names.map((name) => this.client.unlink(name)));
    });
  }

  async readMeta(): Promise<ChestMeta | undefined> {
    const text = await this.call(() => this.client.get(this.metaKey()));
    if (text === null) return undefined;
    try {
      return JSON.parse(text) as ChestMeta;
    } catch (error) {
      throw new ChestError(ErrorCode.CORRUPT, `the manifest of ${this.location} is damaged`, {
        cause: error,
      });
    }
  }

  async writeMeta(meta: ChestMeta): Promise<void> {
    await this.call(() => this.client.set(this.metaKey(), JSON.stringify(meta)));
  }

  /**
   * Every write has been acknowledged by the server before it resolved; how durable it is then is
   * the server's setting (`appendonly yes` with `appendfsync always` or `everysec`).
   */
  async flush(): Promise<void> {
    this.assertOpen();
    await Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.owned) return;
    try {
      await this.client.quit();
    } catch {
      // Already disconnected: nothing is left to release but the socket, which disconnect ends.
      this.client.disconnect();
    }
  }

  /** The head of a key: `prefix{base64url(key)}`; the braces make the key its own hash tag. */
  private head(key: Uint8Array): string {
    return `${this.prefix}{${Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64url')}}`;
  }

  private metaKey(): string {
    return `${this.prefix}meta`;
  }

  /** Reads a value with its version; starts again when a part vanished under it (a newer version was published). */
  private async read(key: Uint8Array): Promise<{ value: StoredValue; version: string } | undefined> {
    const name = this.head(key);
    return this.call(async () => {
      for (let attempt = 0; ; attempt++) {
        const head = await this.readHead(name);
        if (head === undefined) return undefined;
        const data = head.parts === 0 ? (head.data ?? Buffer.alloc(0)) : await this.readParts(name, head);
        if (data === undefined) {
          if (attempt >= 20) throw new ChestError(ErrorCode.CORRUPT, `the parts of ${name} keep vanishing`);
          continue;
        }
        if (data.byteLength !== head.length || crc32(data) !== head.checksum) {
          throw new ChestError(ErrorCode.CORRUPT, `the value of ${name} fails its checksum`);
        }
        const value: StoredValue = {
          kind: head.kind,
          codec: head.codec,
          data,
          checksum: head.checksum,
          version: head.version,
        };
        return { value, version: head.version };
      }
    });
  }

  private async readHead(name: string): Promise<Head | undefined> {
    this.assertOpen();
    const fields = await this.client.hgetallBuffer(name);
    const version = fields.v;
    if (version === undefined) return undefined;
    const number = (field: string): number => {
      const n = Number(fields[field]?.toString('latin1'));
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new ChestError(ErrorCode.CORRUPT, `the head ${name} has a bad field ${field}`);
      }
      return n;
    };
    const kind = number('k');
    const codec = number('c');
    return {
      version: version.toString('latin1'),
      kind,
      codec,
      parts: number('n'),
      length: number('l'),
      // Unsealed, a damaged kind or codec makes the data fail its checksum.
      checksum: fields.x === undefined ? number('s') : sealChecksum(number('x'), kind, codec),
      data: fields.d,
    };
  }

  /** The parts of `head`, reassembled into one buffer; `undefined` if one is gone. */
  private async readParts(name: string, head: Head): Promise<Buffer | undefined> {
    const out = Buffer.allocUnsafeSlow(head.length);
    let missing = false;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (!missing && next < head.parts) {
        const i = next++;
        const part = await this.client.getBuffer(partName(name, head.version, i));
        if (part === null) missing = true;
        else part.copy(out, i * this.partSize);
      }
    };
    await Promise.all(Array.from({ length: PART_CONCURRENCY }, worker));
    return missing ? undefined : out;
  }

  /** Writes the parts, then publishes the head; `'conflict'` when the head is not at `expected`. */
  private async publish(name: string, value: StoredValue, expected: string): Promise<'conflict' | undefined> {
    this.assertOpen();
    const version = typeof value.version === 'string' ? value.version : randomBytes(8).toString('hex');
    const { data } = value;
    const parts = data.byteLength <= this.partSize ? 0 : Math.ceil(data.byteLength / this.partSize);
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < parts) {
        const i = next++;
        const slice = bytes.subarray(i * this.partSize, (i + 1) * this.partSize);
        await this.client.set(partName(name, version, i), slice, 'PX', PART_TTL_MS);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, parts) }, worker));
    const names = Array.from({ length: parts }, (_, i) => partName(name, version, i));
    const reply = await this.client.chestPublish(
      1 + parts,
      name,
      ...names,
      version,
      value.kind,
      value.codec,
      parts,
      data.byteLength,
      sealChecksum(value.checksum ?? crc32(data), value.kind, value.codec),
      parts === 0 ? bytes : '',
      expected,
    );
    if (reply === 'SAME') return undefined;
    if (reply === 'MISSING') {
      throw new ChestError(ErrorCode.UNAVAILABLE, `${name}: parts expired before they were published`);
    }
    if (reply === 'CONFLICT') {
      await this.dropParts(name, version, parts);
      return 'conflict';
    }
    const [oldVersion, oldParts] = reply as [string, string];
    if (oldVersion !== '') await this.dropParts(name, oldVersion, Number(oldParts));
    return undefined;
  }

  /** Removes a head, then its parts; the removed version, `undefined` if none, or `'conflict'`. */
  private async remove(name: string, expected: string): Promise<string | undefined> {
    this.assertOpen();
    const reply = await this.client.chestRemove(name, expected);
    if (reply === 'CONFLICT') return 'conflict';
    const [oldVersion, oldParts] = reply as [string, string];
    if (oldVersion === '') return undefined;
    await this.dropParts(name, oldVersion, Number(oldParts));
    return oldVersion;
  }

  private async dropParts(name: string, version: string, parts: number): Promise<void> {
    if (parts <= 0) return;
    const names = Array.from({ length: parts }, (_, i) => partName(name, version, i));
    // One slot (one hash tag): a single UNLINK is allowed in a cluster too.
    await this.client.unlink(...names);
  }

  /** Every head of this chest, once each. */
  private async scanHeads(): Promise<string[]> {
    return this.scan(`${globEscape(this.prefix)}{*}`);
  }

  /** Every key matching `pattern` on every master (SCAN may repeat keys: they are made unique). */
  private async scan(pattern: string): Promise<string[]> {
    this.assertOpen();
    const nodes = this.client instanceof Cluster ? this.client.nodes('master') : [this.client as Redis];
    const found = new Set<string>();
    await Promise.all(
      nodes.map(async (node) => {
        let cursor = '0';
        do {
          const [next, names] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          for (const name of names) found.add(name);
        } while (cursor !== '0');
      }),
    );
    return [...found];
  }

  /** Runs a call against the server, turning what the client throws into a `ChestError`. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await fn();
    } catch (error) {
      throw this.storeError(error);
    }
  }

  private storeError(error: unknown): ChestError {
    if (error instanceof ChestError) return error;
    const message = error instanceof Error ? error.message : String(error);
    const name = error instanceof Error ? error.name : '';
    // A reply from the server is an answer (out of memory, a bad command); anything else means the
    // connection failed or the cluster is reconfiguring.
    const answered = name === 'ReplyError' && !/^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN)/.test(message);
    const cause = this.lastError === undefined ? error : new AggregateError([error, this.lastError], message);
    return new ChestError(
      answered ? ErrorCode.IO : ErrorCode.UNAVAILABLE,
      `${this.location}: ${answered ? 'Redis refused the call' : 'Redis could not be reached'}: ${message}`,
      { cause },
    );
  }

  private assertOpen(): void {
    if (this.closed) throw new ChestError(ErrorCode.CLOSED, `the store at ${this.location} is closed`);
  }
}

function partName(head: string, version: string, index: number): string {
  return `${head}:${version}:${index}`;
}

/** A string matched literally by a Redis glob pattern. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
