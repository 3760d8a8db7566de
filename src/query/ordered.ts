/**
 * Ordered key queries: the keys of a chest that match a prefix and bounds, in key order, merged from
 * the store (a range read of encoded keys, no values) and the memory tier (keys not on disk yet).
 */
import { Buffer } from 'node:buffer';
import { decodeKey, encodeKey, encodeTuplePrefix, keyIdentity, prefixEnd } from '../keys/codec.js';
import { ownKey } from '../keys/own.js';
import type { Key } from '../keys/types.js';
import { Flag, type MemoryTier } from '../memory/tier.js';
import type { AsyncStore, KeyRange, SyncStore } from '../stores/types.js';

/**
 * Which keys `chest.keys(query)` and `chest.entries(query)` yield, in key order: tuples element by
 * element, numbers numerically, strings by code point (see the README's "Keys").
 *
 * @example
 * ```ts
 * import { Chest, type KeyQuery } from 'spillchest';
 *
 * using chest = new Chest<[string, number], string>();
 * for (let day = 1; day <= 31; day++) chest.set(['march', day], `entry ${day}`);
 * const secondWeek: KeyQuery = { prefix: ['march'], start: ['march', 8], end: ['march', 15] };
 * console.log([...chest.keys(secondWeek)].length); // 7
 * ```
 */
export interface KeyQuery {
  /**
   * A tuple prefix (`['user', 42]` matches `['user', 42]`, `['user', 42, 'x']`, … but not
   * `['user', 420]`), or a string prefix (`'log:'` matches the string keys that start with it).
   */
  readonly prefix?: string | readonly Key[];
  /** The first key to yield, if present (inclusive). */
  readonly start?: Key;
  /** The key to stop before (exclusive). */
  readonly end?: Key;
  /** The most keys to yield. */
  readonly limit?: number;
}

/** Encoded bounds of a query: `start` inclusive, `end` exclusive. */
export interface ByteRange {
  readonly start: Uint8Array | undefined;
  readonly end: Uint8Array | undefined;
  /** True when no key can match (the bounds cross). */
  readonly empty: boolean;
}

/** The encoded range a query covers. Throws a TypeError or RangeError for a malformed query. */
export function queryRange(query: KeyQuery): ByteRange {
  let start: Uint8Array | undefined;
  let end: Uint8Array | undefined;
  const { prefix } = query;
  if (prefix !== undefined) {
    let bytes: Uint8Array;
    if (typeof prefix === 'string') bytes = encodeKey(prefix);
    else if (Array.isArray(prefix)) bytes = encodeTuplePrefix(prefix);
    else throw new TypeError('prefix must be a string or an array (a tuple prefix)');
    start = bytes;
    end = prefixEnd(bytes);
  }
  if (query.start !== undefined) start = later(start, encodeKey(query.start));
  if (query.end !== undefined) {
    const bound = encodeKey(query.end);
    end = end === undefined || Buffer.compare(bound, end) < 0 ? bound : end;
  }
  const limit = query.limit;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw new RangeError(`limit must be a whole number >= 0, got ${String(limit)}`);
  }
  const empty = start !== undefined && end !== undefined && Buffer.compare(start, end) >= 0;
  return { start, end, empty };
}

function later(a: Uint8Array | undefined, b: Uint8Array): Uint8Array {
  return a === undefined || Buffer.compare(b, a) > 0 ? b : a;
}

function inRange(bytes: Uint8Array, range: ByteRange): boolean {
  if (range.start !== undefined && Buffer.compare(bytes, range.start) < 0) return false;
  return range.end === undefined || Buffer.compare(bytes, range.end) < 0;
}

/** The store's keys in the range, in byte order; read whole and sorted when the store has no order. */
function storeKeys(store: SyncStore, range: ByteRange): Iterable<Uint8Array> {
  if (store.features.ordered) return store.keys(bounds(range));
  const all = [...store.keys()].filter((bytes) => inRange(bytes, range));
  return all.sort((a, b) => Buffer.compare(a, b));
}

/** As `storeKeys`, from an `AsyncStore`; one without order is read whole (as Redis's keys are). */
export async function* asyncStoreKeys(store: AsyncStore, range: ByteRange): AsyncGenerator<Uint8Array> {
  if (store.features.ordered) {
    yield* store.keys(bounds(range));
    return;
  }
  const all: Uint8Array[] = [];
  for await (const bytes of store.keys(bounds(range))) if (inRange(bytes, range)) all.push(bytes);
  yield* all.sort((a, b) => Buffer.compare(a, b));
}

function bounds(range: ByteRange): KeyRange {
  return {
    ...(range.start === undefined ? {} : { start: range.start }),
    ...(range.end === undefined ? {} : { end: range.end }),
  };
}

/**
 * Merges the keys a query reads from the store, in byte order, with the keys held only in memory,
 * taken when the merge is made: each store key is passed to `upTo`, which yields the memory-only
 * keys before it and then it. Keys with a tombstone are skipped, checked as each is yielded. Shared
 * by `Chest` and `AsyncChest`, which differ only in how they read the store.
 */
export class OrderedMerge<K extends Key, V> {
  /** Keys the store may not hold yet: not known to be on disk, and not deleted. */
  private readonly pending: { bytes: Uint8Array; key: K }[] = [];
  private next = 0;
  private left: number;

  constructor(
    private readonly tier: MemoryTier<K, V>,
    range: ByteRange,
    limit: number | undefined,
  ) {
    this.left = range.empty ? 0 : (limit ?? Infinity);
    if (this.left === 0) return;
    for (const slot of tier.all()) {
      if ((tier.flags(slot) & (Flag.ON_DISK | Flag.DELETED)) !== 0) continue;
      const key = tier.key(slot);
      const bytes = encodeKey(key);
      if (inRange(bytes, range)) this.pending.push({ bytes, key });
    }
    this.pending.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  }

  /** True once the limit is reached (or no key can match): no store key need be read. */
  get done(): boolean {
    return this.left === 0;
  }

  /** Yields the memory-only keys before `encoded`, then its key; every one left when `undefined`. */
  *upTo(encoded: Uint8Array | undefined): Generator<K, undefined> {
    for (; this.next < this.pending.length && this.left > 0; this.next++) {
      const { bytes, key } = this.pending[this.next]!;
      const order = encoded === undefined ? -1 : Buffer.compare(bytes, encoded);
      if (order > 0) break;
      // Equal: a key whose presence on disk was not known yet; the store's copy yields it once.
      if (order === 0 || !this.live(key)) continue;
      this.left--;
      yield ownKey(key);
    }
    if (encoded === undefined || this.left === 0) return;
    const key = decodeKey(encoded) as K;
    if (!this.live(key)) return;
    this.left--;
    yield key;
  }

  private live(key: Key): boolean {
    const slot = this.tier.find(keyIdentity(key));
    return slot === 0 || (this.tier.flags(slot) & Flag.DELETED) === 0;
  }
}

/**
 * Yields the chest's keys that match `query`, in key order, each once. Keys held only in memory are
 * taken when iteration starts and merged in; keys with a tombstone are skipped. As with `keys()`, a key
 * deleted during the iteration may still be yielded once its deletion has reached the store (whose
 * keys are read in a snapshot); `entries()` looks each value up and skips it.
 */
export function* orderedKeys<K extends Key, V>(
  tier: MemoryTier<K, V>,
  store: SyncStore,
  query: KeyQuery,
): Generator<K, undefined> {
  const range = queryRange(query);
  const merge = new OrderedMerge(tier, range, query.limit);
  if (merge.done) return;
  for (const encoded of storeKeys(store, range)) {
    yield* merge.upTo(encoded);
    if (merge.done) return;
  }
  yield* merge.upTo(undefined);
}
