/**
 * A set of strings with no limit on its size but memory. V8 refuses a `Set` past 2^24 entries
 * ("RangeError: Set maximum size exceeded"), and a chest may hold more files than that: this one
 * fills a `Set` up to `perSet` entries and then starts another, so a lookup asks one `Set` per
 * 2^23 entries held.
 */
export class LargeSet {
  private readonly sets: Set<string>[] = [new Set()];

  constructor(private readonly perSet = 2 ** 23) {}

  has(value: string): boolean {
    for (const set of this.sets) if (set.has(value)) return true;
    return false;
  }

  add(value: string): this {
    if (this.has(value)) return this;
    let last = this.sets[this.sets.length - 1]!;
    if (last.size >= this.perSet) this.sets.push((last = new Set()));
    last.add(value);
    return this;
  }

  *[Symbol.iterator](): Generator<string> {
    for (const set of this.sets) yield* set;
  }

  get size(): number {
    let total = 0;
    for (const set of this.sets) total += set.size;
    return total;
  }
}
