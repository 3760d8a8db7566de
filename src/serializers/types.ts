/**
 * Turns values into bytes (or text) and back. Binary values (typed arrays, `Buffer`, `DataView`,
 * `ArrayBuffer`) never reach a serializer: they are stored raw.
 *
 * A serializer's `name` is recorded when a chest is created; reopening the chest with a serializer of
 * another name is refused, so that no value is ever decoded with the wrong format.
 *
 * @example
 * ```ts
 * import { Chest, type Serializer } from 'spillchest';
 *
 * // Stores numbers as decimal text.
 * const decimal: Serializer<number> = { name: 'decimal', dump: (n) => String(n), load: (text) => Number(text) };
 * using chest = new Chest<string, number>({ serializer: decimal, availableMemory: 0 });
 * chest.set('pi', Math.PI);
 * console.log(chest.get('pi')); // 3.141592653589793, read back from disk
 * ```
 */
export interface Serializer<V = unknown> {
  readonly name: string;
  /** Returns bytes, or a string that is stored as UTF-8 text. */
  dump(value: V): Uint8Array | string;
  /** Receives a string exactly when `dump` returned one for this value. */
  load(data: Uint8Array | string): V;
}
