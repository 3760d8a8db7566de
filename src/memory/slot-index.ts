/**
 * The memory tier's index from key identity (see `keyIdentity`) to slot: an open-addressing hash
 * table in one `Int32Array` of (hash, slot) pairs, linear probing, kept at most half full.
 *
 * Why not a `Map`: the tier adds and removes an entry for every value that passes through memory,
 * and with hundreds of thousands of entries each `Map` operation misses the CPU caches several
 * times (its buckets, its entry, the stored key string, the chain). Measured with 280,000 live
 * string keys, a lookup that misses plus an add plus a removal of the oldest took 1.0–1.2 µs with a
 * `Map` and 0.35 µs with this table: a probe reads one cache line of hashes and slot numbers, and
 * the stored identity is compared only when the hashes match. A removal needs no comparison at all,
 * since the caller names the slot.
 *
 * Strings and numbers go in the table. The rare others (`bigint`, `boolean`, `null`, `undefined`,
 * `NaN`, which equals itself as a key) go in a small `Map`, which compares them as keys should.
 */
export class SlotIndex {
  /** Identity of each slot (undefined for a free one); index 0 is never a slot. */
  private ids: unknown[] = [undefined];
  /**
   * Hash of each slot's identity, so that a removal finds its bucket without touching the identity
   * itself: by the time an entry is evicted its key string has long left the CPU caches.
   */
  private hashes = new Int32Array(MIN_BUCKETS);
  /** Pairs (hash, slot); slot 0 marks an empty bucket. */
  private table = new Int32Array(2 * MIN_BUCKETS);
  private mask = MIN_BUCKETS - 1;
  private inTable = 0;
  private readonly others = new Map<unknown, number>();

  /** Number of identities held. */
  get size(): number {
    return this.inTable + this.others.size;
  }

  /** Slot of an identity, or 0 when absent. */
  find(id: unknown): number {
    if (!inTable(id)) return this.others.get(id) ?? 0;
    const hash = hashOf(id);
    const { table, mask, ids } = this;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const slot = table[2 * i + 1]!;
      if (slot === 0) return 0;
      if (table[2 * i] === hash && ids[slot] === id) return slot;
    }
  }

  /** Records that `slot` (a positive integer) holds `id`, which must not be present. */
  set(id: unknown, slot: number): void {
    this.ids[slot] = id;
    if (!inTable(id)) {
      this.others.set(id, slot);
      return;
    }
    if (2 * (this.inTable + 1) > this.mask + 1) this.rehash(2 * (this.mask + 1));
    const hash = hashOf(id);
    if (slot >= this.hashes.length) {
      const grown = new Int32Array(Math.max(2 * this.hashes.length, slot + 1));
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[slot] = hash;
    this.place(hash, slot);
    this.inTable++;
  }

  /** Forgets the identity held in `slot`. */
  delete(slot: number): void {
    const id = this.ids[slot];
    this.ids[slot] = undefined;
    // Only an identity that is not a string or a number can be in `others`, so a lookup there
    // answers without a type check on `id` (which would read the cold string).
    if (this.others.size > 0 && this.others.get(id) === slot) {
      this.others.delete(id);
      return;
    }
    const { table, mask } = this;
    let i = this.hashes[slot]! & mask;
    while (table[2 * i + 1] !== slot) {
      if (table[2 * i + 1] === 0) return; // not held
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: later entries of the probe run move up into the hole unless their
    // home bucket lies after it, so that no run is ever broken and no tombstones accumulate.
    for (let j = (i + 1) & mask; table[2 * j + 1] !== 0; j = (j + 1) & mask) {
      const home = table[2 * j]! & mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      table[2 * i] = table[2 * j]!;
      table[2 * i + 1] = table[2 * j + 1]!;
      i = j;
    }
    table[2 * i] = 0;
    table[2 * i + 1] = 0;
    this.inTable--;
    const buckets = mask + 1;
    if (buckets > MIN_BUCKETS && 8 * this.inTable < buckets) this.rehash(buckets / 2);
  }

  clear(): void {
    this.ids = [undefined];
    this.hashes = new Int32Array(MIN_BUCKETS);
    this.table = new Int32Array(2 * MIN_BUCKETS);
    this.mask = MIN_BUCKETS - 1;
    this.inTable = 0;
    this.others.clear();
  }

  private place(hash: number, slot: number): void {
    const { table, mask } = this;
    let i = hash & mask;
    while (table[2 * i + 1] !== 0) i = (i + 1) & mask;
    table[2 * i] = hash;
    table[2 * i + 1] = slot;
  }

  private rehash(buckets: number): void {
    const old = this.table;
    this.table = new Int32Array(2 * buckets);
    this.mask = buckets - 1;
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.place(old[i]!, old[i + 1]!);
  }
}

const MIN_BUCKETS = 64;

function inTable(id: unknown): id is string | number {
  return typeof id === 'string' || (typeof id === 'number' && id === id);
}

const f64 = new Float64Array(1);
const words = new Int32Array(f64.buffer);

/** The hash of an identity held in the table (also the spill thread's filter of keys in flight, src/core/in-flight.ts). */
export function hashOf(id: string | number): number {
  if (typeof id === 'string') return hashString(id);
  if ((id | 0) === id) return finish(id);
  f64[0] = id;
  return finish(words[0]! ^ Math.imul(words[1]!, 0x9e3779b1));
}

/**
 * FNV-1a over the string's UTF-16 code units. A long string is hashed on its first and last 128
 * units and 128 spread between them: identities that differ only elsewhere share a hash, which
 * costs probing time, never correctness.
 */
function hashString(s: string): number {
  const n = s.length;
  let h = 0x811c9dc5 ^ n;
  if (n <= 384) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  } else {
    for (let i = 0; i < 128; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    const step = Math.floor((n - 256) / 128);
    for (let i = 128, k = 0; k < 128; i += step, k++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    for (let i = n - 128; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return finish(h);
}

/** Murmur3's finalizer: every input bit reaches the low bits that pick the bucket. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
