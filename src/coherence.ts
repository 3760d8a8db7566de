import type { ChangeFeed } from './stores/types.js';

/** How often a chest asks whether other processes or chests have its path open. */
const PROBE_MS = 100;

/**
 * Keeps a chest's memory tier coherent with a store that other processes (or other chests, in
 * this or another thread) write to.
 *
 * Every slot of the tier remembers the version stamp of the store's entry its value came from (or
 * was written as), and the epoch in which that was last known to be current. The chest starts a
 * new epoch whenever it finds that the store has commits it did not make. A memory hit whose
 * epoch is old reads its key's stamp once (one index lookup): unchanged, the hit stands; changed
 * or gone, the value is read again. So a stale copy is never served, and after someone else
 * commits, each key held in memory costs one extra index read on its next hit.
 *
 * Looking for foreign commits reads LMDB's newest transaction id (about a microsecond). A chest
 * does it on every memory hit while `watching`: while another process or chest has its path open.
 * Alone, it does it once per event-loop turn, on the first hit or read of the store (a miss,
 * `has`, `size`, iteration) of that turn (anything that could tell this process that another one
 * wrote, a message, a child's exit, a timer, arrives in a later turn), and after those of its own
 * commits that do not directly follow the last one it saw; every other hit costs one comparison. Whether others have the path open is asked
 * every `PROBE_MS` of event-loop time, and found out at once when they commit.
 */
export class Coherence {
  /** True while others may write the store: every memory hit is then checked. */
  watching = false;
  /** True when the next memory hit must look for foreign commits: while watching, and once a turn. */
  private alert = true;
  private turn: NodeJS.Immediate | undefined;
  private epoch = 1;
  /** Newest commit id whose changes this chest has taken into account. */
  private seen: number;
  private stamps = new Float64Array(16);
  private epochs = new Uint32Array(16);
  private resolvedEpoch = 1;

  constructor(private readonly feed: ChangeFeed = UNSHARED) {
    this.seen = feed.latest();
    this.watching = feed.othersOpen();
    if (feed === UNSHARED) {
      this.alert = false;
      return;
    }
    feed.onCommit = (id) => {
      this.committed(id);
    };
    watched.add(this);
    if (timer === undefined) {
      timer = setInterval(probe, PROBE_MS);
      timer.unref();
    }
  }

  /**
   * The hot path: true when a memory hit on `slot` may be served without looking at the store.
   * Alone on its path, that is one comparison; otherwise the chest calls `revalidate`.
   */
  settled(slot: number): boolean {
    return !this.alert && this.epochs[slot] === this.epoch;
  }

  /**
   * Notes commits made by others since the last look; true if there were any. Alone, the first
   * call of an event-loop turn looks and the others of that turn do not: reading the newest
   * transaction id costs about as much as reading an entry, and within one turn nothing can have
   * told this process that another one wrote (as for memory hits, see the class comment).
   */
  catchUp(): boolean {
    if (!this.watching && this.turn !== undefined) return false;
    return this.look();
  }

  private look(): boolean {
    const latest = this.feed.latest();
    if (!this.watching && this.turn === undefined && this.feed !== UNSHARED) {
      // Alone, one look per event-loop turn is enough: anything that could tell this process
      // that another one wrote (a message, a child's exit, a timer) arrives in a later turn.
      this.alert = false;
      this.turn = setImmediate(() => {
        this.turn = undefined;
        this.alert = true;
      });
      this.turn.unref();
    }
    if (latest === this.seen) return false;
    this.seen = latest;
    this.epoch++;
    this.alert = this.watching = true;
    this.feed.refresh();
    return true;
  }

  /** Whether a slot's value is known to be current; looks for foreign commits first. */
  fresh(slot: number): boolean {
    if (this.feed === UNSHARED) return true;
    this.catchUp();
    return this.epochs[slot] === this.epoch;
  }

  /** The store's version stamp of a key's entry now, undefined when it has none. */
  storedVersion(key: Uint8Array): number | undefined {
    return this.feed.version(key);
  }

  /** A slot now holds the value of the store's version `stamp` (0: a value the store does not have). */
  remember(slot: number, stamp: number): void {
    if (slot >= this.stamps.length) this.grow(slot);
    // Entries keep the low 32 bits of the id.
    this.stamps[slot] = stamp >>> 0;
    this.epochs[slot] = this.epoch;
  }

  /** A slot's value was checked in this epoch and is current (or is this chest's own newer write). */
  confirm(slot: number): void {
    if (slot >= this.epochs.length) this.grow(slot);
    this.epochs[slot] = this.epoch;
  }

  stamp(slot: number): number {
    return slot < this.stamps.length ? this.stamps[slot]! : 0;
  }

  /** The stamp of this chest's newest commit. */
  get lastCommit(): number {
    return this.feed.lastCommit;
  }

  /**
   * True once per epoch in which others committed, for `size` and iteration: what this chest
   * believes about which of its unwritten keys the store holds must then be found out again.
   */
  takeForeignChanges(): boolean {
    this.catchUp();
    if (this.resolvedEpoch === this.epoch) return false;
    this.resolvedEpoch = this.epoch;
    return true;
  }

  close(): void {
    if (this.turn !== undefined) clearImmediate(this.turn);
    this.feed.onCommit = undefined;
    watched.delete(this);
    if (watched.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  /**
   * One of this chest's own commits. If it directly follows the last one seen, nothing else
   * happened in between; otherwise others committed too, and the next look starts a new epoch.
   */
  private committed(id: number): void {
    if (id === this.seen + 1) this.seen = id;
    else this.look();
  }

  private grow(slot: number): void {
    let capacity = this.stamps.length;
    while (capacity <= slot) capacity *= 2;
    const stamps = new Float64Array(capacity);
    stamps.set(this.stamps);
    this.stamps = stamps;
    const epochs = new Uint32Array(capacity);
    epochs.set(this.epochs);
    this.epochs = epochs;
  }

  /**
   * Asks the store whether others have it open. Commits they made up to now are noted first: a
   * slot from an older epoch is still checked on its next hit, watching or not.
   */
  reprobe(): void {
    const others = this.feed.othersOpen();
    this.look();
    this.watching = others;
    if (others) this.alert = true;
  }
}

/** The feed of a store no one else can write to (a memory store): nothing ever changes under it. */
const UNSHARED: ChangeFeed = {
  latest: () => 0,
  lastCommit: 0,
  onCommit: undefined,
  refresh: () => undefined,
  version: () => undefined,
  othersOpen: () => false,
};

const watched = new Set<Coherence>();
let timer: NodeJS.Timeout | undefined;

function probe(): void {
  for (const coherence of watched) {
    try {
      coherence.reprobe();
    } catch {
      // A store closed under it: the chest's own close removes it.
    }
  }
}
