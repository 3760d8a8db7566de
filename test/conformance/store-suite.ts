import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isChestError } from '../../src/errors.js';
import type { StoredValue, SyncStore, WriteOp } from '../../src/stores/types.js';

/** How the suite makes stores: a fresh one, and the same location opened again. */
export interface StoreFactory {
  /** A new, empty store. */
  open(): SyncStore;
  /** The same location as `store`, opened anew after `store` was closed (persistent stores only). */
  reopen(store: SyncStore): SyncStore;
  /** Removes whatever `open` created. */
  cleanup(): void;
}

const key = (s: string): Buffer => Buffer.from(s, 'latin1');
const value = (s: string | Uint8Array, kind = 0, codec = 0): StoredValue => ({
  kind,
  codec,
  data: typeof s === 'string' ? Buffer.from(s) : s,
});
const text = (v: StoredValue | undefined): string | undefined =>
  v === undefined ? undefined : Buffer.from(v.data).toString();

/**
 * The contract every store keeps. A store's own test file calls this with a factory; cases that need
 * a feature the store does not declare are skipped, with the feature named.
 */
export function storeSuite(label: string, factory: StoreFactory): void {
  describe(`${label} conformance`, () => {
    const opened: SyncStore[] = [];
    const open = (): SyncStore => {
      const store = factory.open();
      opened.push(store);
      return store;
    };
    const reopen = (store: SyncStore): SyncStore => {
      store.close();
      const again = factory.reopen(store);
      opened.push(again);
      return again;
    };
    afterEach(() => {
      for (const store of opened.splice(0)) store.close();
      factory.cleanup();
    });

    it('store answers nothing for a key it never had', () => {
      const store = open();
      expect(store.get(key('a'))).toBeUndefined();
      expect(store.has(key('a'))).toBe(false);
      expect(store.info(key('a'))).toBeUndefined();
      expect(store.delete(key('a'))).toBe(false);
      expect(store.count()).toBe(0);
      expect([...store.keys()]).toEqual([]);
    });

    it('store returns what was put, with its kind and codec', () => {
      const store = open();
      store.write([{ type: 'put', key: key('a'), value: value('hello', 7, 2) }]);
      const got = store.get(key('a'));
      expect(got?.kind).toBe(7);
      expect(got?.codec).toBe(2);
      expect(text(got)).toBe('hello');
      expect(store.has(key('a'))).toBe(true);
      expect(store.info(key('a'))).toMatchObject({ kind: 7, codec: 2, byteLength: 5 });
      expect(store.count()).toBe(1);
    });

    it('store keeps an empty value apart from a missing one', () => {
      const store = open();
      store.write([{ type: 'put', key: key('e'), value: value('') }]);
      expect(store.get(key('e'))?.data.byteLength).toBe(0);
      expect(store.has(key('e'))).toBe(true);
    });

    it('store replaces a value and keeps one entry', () => {
      const store = open();
      store.write([{ type: 'put', key: key('a'), value: value('one') }]);
      store.write([{ type: 'put', key: key('a'), value: value('two') }]);
      expect(text(store.get(key('a')))).toBe('two');
      expect(store.count()).toBe(1);
    });

    it('store deletes and reports whether the key was there', () => {
      const store = open();
      store.write([{ type: 'put', key: key('a'), value: value('one') }]);
      expect(store.delete(key('a'))).toBe(true);
      expect(store.delete(key('a'))).toBe(false);
      expect(store.get(key('a'))).toBeUndefined();
      expect(store.count()).toBe(0);
    });

    it('store applies a batch in order, later ops winning', () => {
      const store = open();
      store.write([
        { type: 'put', key: key('a'), value: value('1') },
        { type: 'put', key: key('b'), value: value('2') },
        { type: 'put', key: key('a'), value: value('3') },
        { type: 'delete', key: key('b') },
        { type: 'put', key: key('c'), value: value('4') },
      ]);
      expect(text(store.get(key('a')))).toBe('3');
      expect(store.get(key('b'))).toBeUndefined();
      expect(text(store.get(key('c')))).toBe('4');
      expect(store.count()).toBe(2);
    });

    it('store holds large values byte for byte', () => {
      const store = open();
      const big = new Uint8Array(3 * 2 ** 20);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 255;
      store.write([{ type: 'put', key: key('big'), value: value(big, 13) }]);
      const got = store.get(key('big'));
      expect(got?.kind).toBe(13);
      expect(Buffer.compare(Buffer.from(got!.data), Buffer.from(big))).toBe(0);
      store.write([{ type: 'put', key: key('big'), value: value('small now') }]);
      expect(text(store.get(key('big')))).toBe('small now');
    });

    it('store copies: changing given or returned bytes changes nothing stored', () => {
      const store = open();
      const small = Buffer.from('abc');
      const large = Buffer.alloc(200_000, 1);
      store.write([
        { type: 'put', key: key('s'), value: value(small) },
        { type: 'put', key: key('l'), value: value(large) },
      ]);
      small[0] = 0x7a;
      large[0] = 9;
      const got = store.get(key('s'))!;
      (got.data as Buffer)[1] = 0x7a;
      expect(text(store.get(key('s')))).toBe('abc');
      expect(store.get(key('l'))!.data[0]).toBe(1);
    });

    it('store clears everything', () => {
      const store = open();
      store.write([
        { type: 'put', key: key('a'), value: value('1') },
        { type: 'put', key: key('b'), value: value(Buffer.alloc(200_000, 2)) },
      ]);
      store.clear();
      expect(store.count()).toBe(0);
      expect([...store.keys()]).toEqual([]);
      expect(store.get(key('b'))).toBeUndefined();
      store.write([{ type: 'put', key: key('b'), value: value('again') }]);
      expect(text(store.get(key('b')))).toBe('again');
    });

    it('store keeps its meta', () => {
      const store = open();
      expect(store.readMeta()).toBeUndefined();
      store.writeMeta({ format: 1, serializer: 'json', compression: 'none' });
      expect(store.readMeta()).toEqual({ format: 1, serializer: 'json', compression: 'none' });
    });

    it('store yields keys in byte order within a range', (ctx) => {
      const store = open();
      if (!store.features.ordered) ctx.skip('store does not declare ordered keys');
      const names = ['b', 'a', 'ab', 'c', '\u00ff', '\u0000', 'ba'];
      store.write(names.map((n): WriteOp => ({ type: 'put', key: key(n), value: value(n) })));
      const all = [...store.keys()].map((k) => Buffer.from(k).toString('latin1'));
      expect(all).toEqual(['\u0000', 'a', 'ab', 'b', 'ba', 'c', '\u00ff']);
      const some = [...store.keys({ start: key('ab'), end: key('c') })].map((k) =>
        Buffer.from(k).toString('latin1'),
      );
      expect(some).toEqual(['ab', 'b', 'ba']);
      expect([...store.keys({ start: key('b'), limit: 2 })].length).toBe(2);
    });

    it('store iteration is a snapshot: writes during it are not seen', () => {
      const store = open();
      store.write([
        { type: 'put', key: key('a'), value: value('1') },
        { type: 'put', key: key('b'), value: value('2') },
      ]);
      const seen: string[] = [];
      for (const k of store.keys()) {
        seen.push(Buffer.from(k).toString('latin1'));
        store.write([{ type: 'put', key: key(`z${seen.length}`), value: value('x') }]);
      }
      expect(seen).toEqual(['a', 'b']);
    });

    it('store keeps its data when reopened', (ctx) => {
      let store = open();
      if (!store.features.persistent) ctx.skip('store does not declare persistence');
      store.write([
        { type: 'put', key: key('a'), value: value('one', 1) },
        { type: 'put', key: key('big'), value: value(Buffer.alloc(300_000, 5), 3) },
      ]);
      store.writeMeta({ format: 1, serializer: 'structured', compression: 'gzip' });
      store.flush();
      store = reopen(store);
      expect(text(store.get(key('a')))).toBe('one');
      expect(store.get(key('big'))?.data.byteLength).toBe(300_000);
      expect(store.count()).toBe(2);
      expect(store.readMeta()?.compression).toBe('gzip');
    });

    it('store refuses every call once closed, and closes twice quietly', () => {
      const store = open();
      store.close();
      store.close();
      const calls: (() => unknown)[] = [
        () => store.get(key('a')),
        () => store.has(key('a')),
        () => store.write([]),
        () => store.delete(key('a')),
        () => store.count(),
        () => [...store.keys()],
        () => {
          store.clear();
        },
      ];
      for (const call of calls) {
        let caught: unknown;
        try {
          call();
        } catch (error) {
          caught = error;
        }
        expect(isChestError(caught, ErrorCode.CLOSED)).toBe(true);
      }
    });

    it('store agrees with a Map under random operations', () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.oneof(
              fc.record({
                op: fc.constant('put' as const),
                k: fc.string({ minLength: 1, maxLength: 3 }),
                v: fc.string(),
              }),
              fc.record({
                op: fc.constant('big' as const),
                k: fc.string({ minLength: 1, maxLength: 3 }),
                n: fc.nat(5),
              }),
              fc.record({ op: fc.constant('delete' as const), k: fc.string({ minLength: 1, maxLength: 3 }) }),
              fc.record({ op: fc.constant('reopen' as const) }),
            ),
            { maxLength: 30 },
          ),
          (ops) => {
            let store = open();
            const model = new Map<string, string>();
            for (const op of ops) {
              if (op.op === 'put') {
                store.write([{ type: 'put', key: key(op.k), value: value(op.v) }]);
                model.set(op.k, op.v);
              } else if (op.op === 'big') {
                const v = String(op.n).repeat(70_000);
                store.write([{ type: 'put', key: key(op.k), value: value(v) }]);
                model.set(op.k, v);
              } else if (op.op === 'delete') {
                expect(store.delete(key(op.k))).toBe(model.delete(op.k));
              } else if (store.features.persistent) {
                store.flush();
                store = reopen(store);
              }
            }
            expect(store.count()).toBe(model.size);
            for (const [k, v] of model) expect(text(store.get(key(k)))).toBe(v);
            const keys = [...store.keys()].map((k) => Buffer.from(k).toString('latin1'));
            expect(new Set(keys)).toEqual(new Set(model.keys()));
            store.close();
            factory.cleanup();
          },
        ),
        { numRuns: 40 },
      );
    });
  });
}
