/** The values of W0, W1, W3, W4 and W5: `{ id: i, name: "item" + i, tags: ["a", "b"], score: i * 0.5 }` under `"k" + i`. */
export interface Rec {
  id: number;
  name: string;
  tags: string[];
  score: number;
}

export function record(i: number): Rec {
  return { id: i, name: `item${i}`, tags: ['a', 'b'], score: i * 0.5 };
}

export function keyOf(i: number): string {
  return `k${i}`;
}

/** Cheap check used inside timed loops: the value is there and is the record of index i. */
export function isRecordOf(v: unknown, i: number): boolean {
  return v !== undefined && v !== null && (v as Rec).id === i;
}

/** Full check (W5, where a wrong value is a result). */
export function equalsRecord(v: unknown, i: number): boolean {
  if (v === undefined || v === null || typeof v !== 'object') return false;
  const r = v as Partial<Rec>;
  return (
    r.id === i &&
    r.name === `item${i}` &&
    r.score === i * 0.5 &&
    Array.isArray(r.tags) &&
    r.tags.length === 2 &&
    r.tags[0] === 'a' &&
    r.tags[1] === 'b'
  );
}

/** The values of W2: array i holds i * 1e6 + j at position j. */
export function makeArray(i: number, length: number): Float64Array {
  const a = new Float64Array(length);
  const base = i * 1e6;
  for (let j = 0; j < length; j++) a[j] = base + j;
  return a;
}

export function isArrayOf(v: unknown, i: number, length: number): boolean {
  if (!(v instanceof Float64Array) || v.length !== length) return false;
  return (
    v[0] === i * 1e6 && v[length - 1] === i * 1e6 + length - 1 && v[length >> 1] === i * 1e6 + (length >> 1)
  );
}
