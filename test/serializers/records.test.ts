import { describe, expect, it } from 'vitest';
import { ChestError, ErrorCode } from '../../src/errors.js';
import { SharedRecords } from '../../src/serializers/records.js';
import { structured } from '../../src/serializers/structured.js';
import { MemoryStore } from '../../src/stores/memory.js';
import type { StructureTable } from '../../src/stores/types.js';

const record = (i: number): unknown => ({ id: i, name: `item${i}`, tags: ['a', 'b'], score: i * 0.5 });

/** A shape of its own per `n`: objects with properties p<n>a and p<n>b, one nested. */
const shaped = (n: number, i: number): unknown => ({ [`p${n}a`]: i, [`p${n}b`]: { [`q${n}`]: `v${i}` } });

function table(): StructureTable {
  return new MemoryStore().structures;
}

/** A table whose updates fail with `error` while `failing` is set, as a full disk makes them. */
function flakyTable(error: ChestError): { table: StructureTable; failing: { on: boolean } } {
  const inner = table();
  const failing = { on: false };
  return {
    failing,
    table: {
      read: () => inner.read(),
      update: (accept, next) => {
        if (failing.on) throw error;
        return inner.update(accept, next);
      },
    },
  };
}

describe('SharedRecords', () => {
  it('keeps a record’s property names in the table, not in the value', () => {
    const t = table();
    const records = new SharedRecords(t);
    const bytes = records.dump(record(123456));
    expect(records.shared).toBe(true);
    expect(t.read()).toEqual([['id', 'name', 'tags', 'score']]);
    const alone = structured.dump(record(123456)) as Uint8Array;
    expect(bytes.byteLength).toBeLessThan(alone.byteLength - 15);
    expect(Buffer.from(bytes).includes('name')).toBe(false);
    expect(records.load(bytes)).toEqual(record(123456));
    // Another reader of the same table reads it; one of another table does not.
    expect(new SharedRecords(t).load(bytes)).toEqual(record(123456));
    expect(() => new SharedRecords(table()).load(bytes)).toThrow();
  });

  it('gives the same bytes for the same value, so a clean value is recognized when packed again', () => {
    const records = new SharedRecords(table());
    const first = Buffer.from(records.dump(record(7)));
    for (let n = 0; n < 5; n++) records.dump(shaped(n, n));
    expect(Buffer.from(records.dump(record(7)))).toEqual(first);
  });

  it('leaves values with shared references to structured, which keeps them', () => {
    const records = new SharedRecords(table());
    const shared = { x: 1 };
    const value = { a: shared, b: shared };
    const bytes = records.dump(value);
    expect(records.shared).toBe(false);
    const back = structured.load(bytes) as { a: unknown; b: unknown };
    expect(back.a).toBe(back.b);
  });

  it('two writers adding structures to one table at once never give one number two shapes', () => {
    const t = table();
    const a = new SharedRecords(t);
    const b = new SharedRecords(t);
    // Both know the table as it is, then each adds shapes the other has not seen.
    const written: [SharedRecords, Uint8Array, unknown][] = [];
    a.load(a.dump(record(1)));
    b.load(b.dump(record(2)));
    for (let n = 0; n < 12; n++) {
      const writer = n % 3 === 0 ? b : a;
      const value = shaped(n % 8, n);
      written.push([writer, writer.dump(value), value]);
    }
    const stored = t.read();
    expect(new Set(stored.map((keys) => keys.join('\0'))).size).toBe(stored.length);
    // Every value reads back with the other writer and with a newcomer.
    const fresh = new SharedRecords(t);
    for (const [writer, bytes, value] of written) {
      expect((writer === a ? b : a).load(bytes)).toEqual(value);
      expect(fresh.load(bytes)).toEqual(value);
    }
  });

  it('stops adding structures at 32 and then writes each further shape inside its value', () => {
    const t = table();
    const records = new SharedRecords(t);
    const values = Array.from({ length: 40 }, (_, n) => shaped(n, n));
    const bytes = values.map((v) => records.dump(v));
    expect(t.read().length).toBe(32);
    const fresh = new SharedRecords(t);
    bytes.forEach((b, n) => expect(fresh.load(b)).toEqual(values[n]));
  });

  it('does not share the structure of an object with many properties', () => {
    const t = table();
    const records = new SharedRecords(t);
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    expect(records.load(records.dump(wide))).toEqual(wide);
    expect(t.read()).toEqual([]);
  });

  it('passes on an error of the table, and never writes a structure the table did not take', () => {
    const full = new ChestError(ErrorCode.DISK_FULL, 'the disk is full');
    const { table: t, failing } = flakyTable(full);
    const records = new SharedRecords(t);
    records.dump(record(1));
    failing.on = true;
    expect(() => records.dump(shaped(1, 1))).toThrow(full);
    // A known shape still packs while the table refuses writes.
    expect(records.load(records.dump(record(2)))).toEqual(record(2));
    failing.on = false;
    const bytes = records.dump(shaped(1, 2));
    expect(t.read()).toEqual([['id', 'name', 'tags', 'score'], ['p1a', 'p1b'], ['q1']]);
    expect(new SharedRecords(t).load(bytes)).toEqual(shaped(1, 2));
  });

  it('reload forgets a structure recorded in a transaction that was then rolled back', () => {
    const copy = (list: readonly (readonly string[])[]): string[][] => list.map((keys) => [...keys]);
    let committed: string[][] = [];
    let pending: string[][] | undefined;
    const t: StructureTable = {
      read: () => copy(pending ?? committed),
      update: (accept, next) => {
        if (!accept(t.read())) return false;
        pending = copy(next);
        return true;
      },
    };
    const records = new SharedRecords(t);
    records.dump(shaped(1, 1));
    pending = undefined; // the transaction is rolled back
    records.reload();
    const bytes = records.dump(shaped(1, 2));
    committed = pending ?? committed; // this one commits
    pending = undefined;
    expect(committed).toEqual([['p1a', 'p1b'], ['q1']]);
    expect(new SharedRecords(t).load(bytes)).toEqual(shaped(1, 2));
  });

  it('adopt: takes on a table that extends its own, keeps one that extends the other, refuses a different one', () => {
    const sourceTable = table();
    const source = new SharedRecords(sourceTable);
    source.dump(record(1));
    source.dump(shaped(1, 1));
    const emptyTable = table();
    expect(new SharedRecords(emptyTable).adopt(source)).toBe(true);
    expect(emptyTable.read()).toEqual(sourceTable.read());
    const longerTable = table();
    const longer = new SharedRecords(longerTable);
    longer.dump(record(1));
    longer.dump(shaped(1, 1));
    longer.dump(shaped(2, 1));
    expect(longer.adopt(source)).toBe(true);
    expect(longerTable.read().length).toBe(5);
    const otherTable = table();
    const other = new SharedRecords(otherTable);
    other.dump(shaped(9, 9));
    expect(other.adopt(source)).toBe(false);
    expect(otherTable.read()).toEqual([['p9a', 'p9b'], ['q9']]);
  });
});
