import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isChestError } from '../../src/errors.js';
import { isSyncStore, toAsyncStore } from '../../src/stores/async.js';
import type { AnyStore, AsyncStore, StoredValue, WriteOp } from '../../src/stores/types.js';
import { collect } from '../helpers.js';

/**
 * How the suite makes stores: a fresh one, and the same location opened again. A synchronous store
 * runs the suite through `toAsyncStore`, which calls its synchronous methods.
 */
export interface StoreFactory {
  /** A new, empty store. */
  open(): AnyStore | Promise<AnyStore>;
  /** The same location as `store`, opened anew after `store` was closed (persistent stores only). */
  reopen(store: AnyStore): AnyStore | Promise<AnyStore>;
  /** Removes whatever `open` created. */
  cleanup(): void | Promise<void>;
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
    const opened: AsyncStore[] = [];
    const given = new Map<AsyncStore, AnyStore>();
    const track = (store: AnyStore): AsyncStore => {
      const wrapped = toAsyncStore(store);
      given.set(wrapped, store);
      opened.push(wrapped);
      return wrapped;
    };
    const open = async (): Promise<AsyncStore> => track(await factory.open());
    const reopen = async (store: AsyncStore): Promise<AsyncStore> => {
      await store.close();
      return track(await factory.reopen(given.get(store)!));
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
      given.clear();
      await factory.cleanup();
    });

    it('store answers nothing for a key it never had', async () => {
      const store = await open();
      expect(await store.get(key('a'))).toBeUndefined();
      expect(await store.has(key('a'))).toBe(false);
      expect(await store.info(key('a'))).toBeUndefined();
      expect(await store.delete(key('a'))).toBe(false);
      expect(await store.count()).toBe(0);
      expect(await collect(store.keys())).toEqual([]);
    });

    it('store returns what was put, with its kind and codec', async () => {
      const store = await open();
      await store.write([{ type: 'put', key: key('a'), value: value('hello', 7, 2) }]);
      const got = await store.get(key('a'));
      expect(got?.kind).toBe(7);
      expect(got?.codec).toBe(2);
      expect(text(got)).toBe('hello');
      expect(await store.has(key('a'))).toBe(true);
      expect(await store.info(key('a'))).toMatchObject({ kind: 7, codec: 2, byteLength: 5 });
      expect(await store.count()).toBe(1);
    });

    it('store keeps an empty value apart from a missing one', async () => {
      const store = await open();
      await store.write([{ type: 'put', key: key('e'), value: value('') }]);
      expect((await store.get(key('e')))?.data.byteLength).toBe(0);
      expect(await store.has(key('e'))).toBe(true);
    });

    it('store replaces a value and keeps one entry', async () => {
      const store = await open();
      await store.write([{ type: 'put', key: key('a'), value: value('one') }]);
      await store.write([{ type: 'put', key: key('a'), value: value('two') }]);
      expect(text(await store.get(key('a')))).toBe('two');
      expect(await store.count()).toBe(1);
    });

    it('store deletes and reports whether the key was there', async () => {
      const store = await open();
      await store.write([{ type: 'put', key: key('a'), value: value('one') }]);
      expect(await store.delete(key('a'))).toBe(true);
      expect(await store.delete(key('a'))).toBe(false);
      expect(await store.get(key('a'))).toBeUndefined();
      expect(await store.count()).toBe(0);
    });

    it('store applies a batch in order, later ops winning', async () => {
      const store = await open();
      await store.write([
        { type: 'put', key: key('a'), value: value('1') },
        { type: 'put', key: key('b'), value: value('2') },
        { type: 'put', key: key('a'), value: value('3') },
        { type: 'delete', key: key('b') },
        { type: 'put', key: key('c'), value: value('4') },
      ]);
      expect(text(await store.get(key('a')))).toBe('3');
      expect(await store.get(key('b'))).toBeUndefined();
      expect(text(await store.get(key('c')))).toBe('4');
      expect(await store.count()).toBe(2);
    });

    it('store takes keys of its declared maximum length and refuses longer ones, changing nothing', async (ctx) => {
      const store = await open();
      const limit = store.features.maxKeyBytes;
      if (limit === undefined) return ctx.skip('the store declares no key limit');
      const longest = Buffer.alloc(limit, 0x61);
      await store.write([{ type: 'put', key: longest, value: value('fits') }]);
      expect(text(await store.get(longest))).toBe('fits');
      const tooLong = Buffer.alloc(limit + 1, 0x61);
      const refused = await store
        .write([
          { type: 'put', key: key('other'), value: value('x') },
          { type: 'put', key: tooLong, value: value('no') },
        ])
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(isChestError(refused, ErrorCode.KEY_TOO_LONG), String(refused)).toBe(true);
      expect(await store.get(key('other'))).toBeUndefined();
      expect(await store.count()).toBe(1);
    });

    it('store holds large values byte for byte', async () => {
      const store = await open();
      const big = new Uint8Array(3 * 2 ** 20);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 255;
      await store.write([{ type: 'put', key: key('big'), value: value(big, 13) }]);
      const got = await store.get(key('big'));
      expect(got?.kind).toBe(13);
      expect(Buffer.compare(Buffer.from(got!.data), Buffer.from(big))).toBe(0);
      await store.write([{ type: 'put', key: key('big'), value: value('small now') }]);
      expect(text(await store.get(key('big')))).toBe('small now');
    });

    it('store copies: changing given or returned bytes changes nothing stored', async () => {
      const store = await open();
      const small = Buffer.from('abc');
      const large = Buffer.alloc(200_000, 1);
      await store.write([
        { type: 'put', key: key('s'), value: value(small) },
        { type: 'put', key: key('l'), value: value(large) },
      ]);
      small[0] = 0x7a;
      large[0] = 9;
      const got = (await store.get(key('s')))!;
      (got.data as Buffer)[1] = 0x7a;
      expect(text(await store.get(key('s')))).toBe('abc');
      expect((await store.get(key('l')))!.data[0]).toBe(1);
    });

    it('store clears everything', async () => {
      const store = await open();
      await store.write([
        { type: 'put', key: key('a'), value: value('1') },
        { type: 'put', key: key('b'), value: value(Buffer.alloc(200_000, 2)) },
      ]);
      await store.clear();
      expect(await store.count()).toBe(0);
      expect(await collect(store.keys())).toEqual([]);
      expect(await store.get(key('b'))).toBeUndefined();
      await store.write([{ type: 'put', key: key('b'), value: value('again') }]);
      expect(text(await store.get(key('b')))).toBe('again');
    });

    it('store that declares sync access answers its calls directly, as the adapter does', async (ctx) => {
      const store = await open();
      const sync = given.get(store)!;
      if (!isSyncStore(sync)) ctx.skip('store does not declare synchronous access');
      else {
        sync.write([{ type: 'put', key: key('a'), value: value('direct') }]);
        expect(text(sync.get(key('a')))).toBe('direct');
        expect(sync.count()).toBe(1);
        expect([...sync.keys()].length).toBe(1);
        expect(text(await store.get(key('a')))).toBe('direct');
      }
    });

    it('store keeps its meta', async () => {
      const store = await open();
      expect(await store.readMeta()).toBeUndefined();
      await store.writeMeta({ format: 1, serializer: 'json', compression: 'none' });
      expect(await store.readMeta()).toEqual({ format: 1, serializer: 'json', compression: 'none' });
    });

    it('store with a structure table starts it empty and replaces it only when the check accepts the stored list', async (ctx) => {
      const store = await open();
      const table = store.structures;
      if (table === undefined) return ctx.skip('store keeps no structure table');
      expect(table.read()).toEqual([]);
      const seen: string[][][] = [];
      expect(table.update((stored) => (seen.push(stored), stored.length === 0), [['id', 'name']])).toBe(true);
      // A writer that still expects the empty list lost the race: nothing changes, and it was shown the winner's list.
      expect(table.update((stored) => (seen.push(stored), stored.length === 0), [['other']])).toBe(false);
      expect(seen).toEqual([[], [['id', 'name']]]);
      const next = [['id', 'name'], ['x', '\ud800 lone', ''], []];
      expect(table.update((stored) => stored.length === 1, next)).toBe(true);
      expect(table.read()).toEqual(next);
      // Every read is a copy of its own.
      table.read()[0]!.push('changed');
      expect(table.read()).toEqual(next);
    });

    it('store keeps its structure table when reopened and when cleared', async (ctx) => {
      let store = await open();
      const table = store.structures;
      if (table === undefined) return ctx.skip('store keeps no structure table');
      table.update(() => true, [['a', 'b']]);
      await store.clear();
      expect(table.read()).toEqual([['a', 'b']]);
      if (!store.features.persistent) return;
      await store.flush();
      store = await reopen(store);
      expect(store.structures?.read()).toEqual([['a', 'b']]);
    });

    it('store yields keys in byte order within a range', async (ctx) => {
      const store = await open();
      if (!store.features.ordered) ctx.skip('store does not declare ordered keys');
      const names = ['b', 'a', 'ab', 'c', '\u00ff', '\u0000', 'ba'];
      await store.write(names.map((n): WriteOp => ({ type: 'put', key: key(n), value: value(n) })));
      const all = (await collect(store.keys())).map((k) => Buffer.from(k).toString('latin1'));
      expect(all).toEqual(['\u0000', 'a', 'ab', 'b', 'ba', 'c', '\u00ff']);
      const some = (await collect(store.keys({ start: key('ab'), end: key('c') }))).map((k) =>
        Buffer.from(k).toString('latin1'),
      );
      expect(some).toEqual(['ab', 'b', 'ba']);
      expect((await collect(store.keys({ start: key('b'), limit: 2 }))).length).toBe(2);
    });

    it('store iteration is a snapshot: writes during it are not seen', async () => {
      const store = await open();
      await store.write([
        { type: 'put', key: key('a'), value: value('1') },
        { type: 'put', key: key('b'), value: value('2') },
      ]);
      const seen: string[] = [];
      for await (const k of store.keys()) {
        seen.push(Buffer.from(k).toString('latin1'));
        await store.write([{ type: 'put', key: key(`z${seen.length}`), value: value('x') }]);
      }
      // Unordered stores may yield them in any order.
      expect(seen.sort()).toEqual(['a', 'b']);
    });

    it('store keeps its data when reopened', async (ctx) => {
      let store = await open();
      if (!store.features.persistent) ctx.skip('store does not declare persistence');
      await store.write([
        { type: 'put', key: key('a'), value: value('one', 1) },
        { type: 'put', key: key('big'), value: value(Buffer.alloc(300_000, 5), 3) },
      ]);
      await store.writeMeta({ format: 1, serializer: 'structured', compression: 'gzip' });
      await store.flush();
      store = await reopen(store);
      expect(text(await store.get(key('a')))).toBe('one');
      expect((await store.get(key('big')))?.data.byteLength).toBe(300_000);
      expect(await store.count()).toBe(2);
      expect((await store.readMeta())?.compression).toBe('gzip');
    });

    it('store refuses every call once closed, and closes twice quietly', async () => {
      const store = await open();
      await store.close();
      await store.close();
      const calls: (() => Promise<unknown>)[] = [
        () => store.get(key('a')),
        () => store.has(key('a')),
        () => store.write([]),
        () => store.delete(key('a')),
        () => store.count(),
        () => collect(store.keys()),
        () => store.clear(),
      ];
      for (const call of calls) {
        const caught: unknown = await call().catch((error: unknown) => error);
        expect(isChestError(caught, ErrorCode.CLOSED)).toBe(true);
      }
    });

    it('store agrees with a Map under random operations', async () => {
      await fc.assert(
        fc.asyncProperty(
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
          async (ops) => {
            let store = await open();
            const model = new Map<string, string>();
            for (const op of ops) {
              if (op.op === 'put') {
                await store.write([{ type: 'put', key: key(op.k), value: value(op.v) }]);
                model.set(op.k, op.v);
              } else if (op.op === 'big') {
                const v = String(op.n).repeat(70_000);
                await store.write([{ type: 'put', key: key(op.k), value: value(v) }]);
                model.set(op.k, v);
              } else if (op.op === 'delete') {
                expect(await store.delete(key(op.k))).toBe(model.delete(op.k));
              } else if (store.features.persistent) {
                await store.flush();
                store = await reopen(store);
              }
            }
            expect(await store.count()).toBe(model.size);
            for (const [k, v] of model) expect(text(await store.get(key(k)))).toBe(v);
            const keys = (await collect(store.keys())).map((k) => Buffer.from(k).toString('latin1'));
            expect(new Set(keys)).toEqual(new Set(model.keys()));
            await store.close();
            await factory.cleanup();
          },
        ),
        { numRuns: 40 },
      );
    });
  });
}
