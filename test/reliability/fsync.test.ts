import fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Chest, ErrorCode } from '../../src/index.js';
import { expectCode, freshPath } from '../helpers.js';

/**
 * After a failed fsync the kernel may have dropped the written pages and marked them clean: a second
 * fsync "succeeds" over lost data. So a value file whose fsync failed is never synced again: the next
 * flush writes it anew. The failure is injected through `fs.fsyncSync`, the call the store makes.
 */
afterEach(() => {
  vi.restoreAllMocks();
});

const inode = (fd: number): number => fs.fstatSync(fd).ino;

describe('a failed fsync', () => {
  it('fails the flush with a typed error, and the next flush rewrites the file instead of syncing it again', () => {
    const dir = freshPath();
    const chest = new Chest<string, string>({ path: dir, inlineThreshold: 100, availableMemory: 0 });
    chest.set('big', 'b'.repeat(5000));
    const file = chest.keyToFilename('big');
    const failedInode = fs.statSync(file).ino;
    const synced: number[] = [];
    const real = fs.fsyncSync.bind(fs);
    let failures = 0;
    vi.spyOn(fs, 'fsyncSync').mockImplementation((fd: number) => {
      const ino = inode(fd);
      if (ino === failedInode && failures++ === 0) {
        throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO', errno: -5, syscall: 'fsync' });
      }
      synced.push(ino);
      real(fd);
    });
    expectCode(() => chest.flush(), ErrorCode.IO);
    chest.flush();
    expect(synced).not.toContain(failedInode);
    expect(failures).toBe(1);
    const now = fs.statSync(file).ino;
    expect(now).not.toBe(failedInode);
    expect(synced).toContain(now);
    vi.restoreAllMocks();
    chest.close();
    using again = new Chest<string, string>({ path: dir });
    expect(again.get('big')).toBe('b'.repeat(5000));
    expect(again.verify().ok).toBe(true);
  });
});
