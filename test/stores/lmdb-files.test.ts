import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { LmdbStore, MAX_KEY_BYTES } from '../../src/stores/lmdb/store.js';
import { encodeFile } from '../../src/stores/lmdb/record.js';
import { expectCode, freshPath, listFiles } from '../helpers.js';

const key = (s: string): Buffer => Buffer.from(s);
const open = (dir: string, inlineThreshold = 16): LmdbStore =>
  new LmdbStore({ path: dir, inlineThreshold, fileName: (k) => `v_${Buffer.from(k).toString('hex')}` });
const put = (store: LmdbStore, k: string, data: Uint8Array): void => {
  store.write([{ type: 'put', key: key(k), value: { kind: 6, codec: 0, data } }]);
};

describe('LmdbStore files', () => {
  it('LmdbStore keeps a large value in a file of exactly its bytes, and small ones inline', () => {
    const dir = freshPath();
    using store = disposable(open(dir));
    put(store, 'big', Buffer.from('x'.repeat(100)));
    put(store, 'small', Buffer.from('tiny'));
    const info = store.info(key('big'))!;
    expect(fs.readFileSync(info.file!, 'utf8')).toBe('x'.repeat(100));
    expect(store.info(key('small'))!.file).toBeUndefined();
    expect(listFiles(dir).filter((f) => !f.startsWith('.chest/'))).toEqual(['v_626967']);
  });

  it('LmdbStore gives a new version a new name and removes the old file after the commit', () => {
    const dir = freshPath();
    using store = disposable(open(dir));
    put(store, 'big', Buffer.from('a'.repeat(100)));
    const first = store.info(key('big'))!.file!;
    put(store, 'big', Buffer.from('b'.repeat(100)));
    const second = store.info(key('big'))!.file!;
    expect(second).not.toBe(first);
    expect(fs.existsSync(first)).toBe(false);
    put(store, 'big', Buffer.from('c'.repeat(100)));
    expect(store.info(key('big'))!.file).toBe(first);
    put(store, 'big', Buffer.from('small'));
    expect(listFiles(dir).filter((f) => !f.startsWith('.chest/'))).toEqual([]);
    expect(fs.readdirSync(path.join(dir, '.chest/tmp'))).toEqual([]);
  });

  it('LmdbStore replaces and deletes, in one batch, entries placed earlier in that batch, starting with no files', () => {
    const dir = freshPath();
    using store = disposable(open(dir));
    const value = (data: string) => ({ kind: 6, codec: 0, data: Buffer.from(data) });
    put(store, 'small', Buffer.from('tiny'));
    store.write([
      { type: 'put', key: key('big'), value: value('a'.repeat(100)) },
      { type: 'put', key: key('big'), value: value('now small') },
      { type: 'put', key: key('gone'), value: value('b'.repeat(100)) },
      { type: 'delete', key: key('gone') },
      { type: 'delete', key: key('small') },
    ]);
    expect(store.get(key('big'))!.data.toString()).toBe('now small');
    expect(store.get(key('gone'))).toBeUndefined();
    expect(store.get(key('small'))).toBeUndefined();
    expect(store.count()).toBe(1);
    // The files placed and then replaced or deleted within the batch are gone too.
    expect(listFiles(dir).filter((f) => !f.startsWith('.chest/'))).toEqual([]);
  });

  it('LmdbStore reports a damaged value file as CHEST_CORRUPT naming the file, others stay readable', () => {
    const dir = freshPath();
    using store = disposable(open(dir));
    put(store, 'a', Buffer.alloc(100, 1));
    put(store, 'b', Buffer.alloc(100, 2));
    const file = store.info(key('a'))!.file!;
    const bytes = fs.readFileSync(file);
    bytes[50] = bytes[50]! ^ 0xff;
    fs.writeFileSync(file, bytes);
    const flipped = expectCode(() => store.get(key('a')), ErrorCode.CORRUPT);
    expect(flipped.file).toBe(file);
    fs.truncateSync(file, 10);
    expectCode(() => store.get(key('a')), ErrorCode.CORRUPT);
    fs.unlinkSync(file);
    expectCode(() => store.get(key('a')), ErrorCode.MISSING_FILE);
    expect(store.get(key('b'))!.data).toEqual(Buffer.alloc(100, 2));
    put(store, 'a', Buffer.alloc(100, 3));
    expect(store.get(key('a'))!.data).toEqual(Buffer.alloc(100, 3));
  });

  it('LmdbStore refuses an index entry naming a path outside the chest', () => {
    const dir = freshPath();
    const outside = path.join(path.dirname(dir), 'outside');
    fs.writeFileSync(outside, 'secret');
    using store = disposable(open(dir));
    put(store, 'a', Buffer.alloc(100, 1));
    // Forge an entry as a hostile writer would.
    const root = (store as unknown as { entries: { putSync(k: Buffer, v: Buffer): void } }).entries;
    (store as unknown as { transact(fn: () => void, flags: number): void }).transact(
      () => root.putSync(key('a'), encodeFile(6, 0, 0, 6, '../outside')),
      3,
    );
    expectCode(() => store.get(key('a')), ErrorCode.CORRUPT);
    put(store, 'a', Buffer.alloc(100, 2));
    expect(fs.readFileSync(outside, 'utf8')).toBe('secret');
  });

  it('LmdbStore removes temporary files left by a dead process when opened', () => {
    const dir = freshPath();
    open(dir).close();
    const tmp = path.join(dir, '.chest/tmp');
    fs.writeFileSync(path.join(tmp, '999999999-0.tmp'), 'left over');
    fs.writeFileSync(path.join(tmp, `${process.pid}-zz.tmp`), 'mine');
    open(dir).close();
    expect(fs.readdirSync(tmp)).toEqual([`${process.pid}-zz.tmp`]);
  });

  it('LmdbStore refuses a key longer than LMDB allows with CHEST_KEY_TOO_LONG', () => {
    using store = disposable(open(freshPath()));
    const long = Buffer.alloc(MAX_KEY_BYTES + 1, 97);
    expectCode(
      () => store.write([{ type: 'put', key: long, value: { kind: 0, codec: 0, data: Buffer.from('x') } }]),
      ErrorCode.KEY_TOO_LONG,
    );
    expect(store.get(long)).toBeUndefined();
    expect(store.has(long)).toBe(false);
    expect(store.count()).toBe(0);
  });

  it('LmdbStore importFrom hard-links files and copies inline entries', () => {
    using from = disposable(open(freshPath()));
    using to = disposable(open(freshPath()));
    put(from, 'big', Buffer.alloc(100, 7));
    put(from, 'small', Buffer.from('s'));
    to.importFrom(from, [key('big'), key('small'), key('absent')]);
    expect(to.count()).toBe(2);
    expect(fs.statSync(to.info(key('big'))!.file!).ino).toBe(fs.statSync(from.info(key('big'))!.file!).ino);
    expect(Buffer.from(to.get(key('small'))!.data).toString()).toBe('s');
  });
});

function disposable(store: LmdbStore): LmdbStore & Disposable {
  return Object.assign(store, { [Symbol.dispose]: () => store.close() });
}
