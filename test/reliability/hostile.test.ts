import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AsyncChest, Chest, ErrorCode, isChestError } from '../../src/index.js';
import { encodeKey } from '../../src/keys/codec.js';
import { encodeFile, encodeInline } from '../../src/stores/lmdb/record.js';
import { compress } from '../../src/values/compression.js';
import { Codec, ValueKind } from '../../src/values/kinds.js';
import { expectCode, freshPath, listFiles } from '../helpers.js';
import { editIndex } from './damage-tools.js';

const big = (c: string): string => c.repeat(3000);

/** Every file and folder below `dir` with its permission bits. */
function modes(dir: string): [string, number][] {
  const out: [string, number][] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const name = rel === '' ? entry.name : `${rel}/${entry.name}`;
      out.push([name, fs.lstatSync(path.join(dir, name)).mode & 0o777]);
      if (entry.isDirectory()) walk(name);
    }
  };
  walk('');
  return out;
}

describe('permissions', () => {
  it('a temporary chest lives in a folder only its user can enter', () => {
    using chest = new Chest<string, string>();
    expect(fs.statSync(chest.path).mode & 0o777).toBe(0o700);
  });

  it('no file or folder of a chest is world-writable, even with a umask of 0', () => {
    const dir = freshPath();
    const before = process.umask(0);
    try {
      using chest = new Chest<string | string[], string>({ path: dir, inlineThreshold: 100 });
      chest.set('small', 'x');
      chest.set('big', big('b'));
      chest.set(['nested', 'key'], big('n'));
      chest.set('Not simple!', big('h'));
      chest.flush();
    } finally {
      process.umask(before);
    }
    const all = modes(dir);
    expect(all.length).toBeGreaterThan(6);
    expect(all.filter(([, mode]) => (mode & 0o002) !== 0)).toEqual([]);
  });
});

/** A chest holding 'a' as a file, closed, whose entry for 'a' is then replaced by `record`. */
function hostile(record: (dir: string) => Buffer): { dir: string; outside: string } {
  const dir = freshPath();
  {
    using chest = new Chest<string, string>({ path: dir, inlineThreshold: 100 });
    chest.set('a', big('a'));
    chest.set('b', 'b');
  }
  const outside = path.join(path.dirname(dir), 'outside');
  fs.writeFileSync(outside, big('a'));
  const bytes = record(dir);
  editIndex(dir, (entries) => entries.putSync(Buffer.from(encodeKey('a')), bytes));
  return { dir, outside };
}

describe('a hostile chest', () => {
  it('a length far beyond the file is refused before anything is allocated', () => {
    const { dir } = hostile(() => encodeFile(7, 0, 0, 2 ** 52, 'a'));
    using chest = new Chest<string, string>({ path: dir });
    const error = expectCode(() => chest.get('a'), ErrorCode.CORRUPT);
    expect(error.message).toContain(String(2 ** 52));
    expect(chest.get('b')).toBe('b');
  });

  it('a compressed value that inflates past the length it records is refused, not inflated', () => {
    // 256 MiB of zeros in about 256 KiB of gzip, claiming to be 100 bytes, with a matching checksum.
    const bomb = Buffer.concat([Buffer.from([100]), compress(Codec.GZIP, new Uint8Array(256 * 2 ** 20))]);
    const { dir } = hostile(() => encodeInline(ValueKind.BUFFER, Codec.GZIP_SIZED, bomb));
    using chest = new Chest<string, string>({ path: dir, compress: 'gzip' });
    const before = process.memoryUsage().arrayBuffers;
    expectCode(() => chest.get('a'), ErrorCode.CORRUPT);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
    expect(chest.get('b')).toBe('b');
  });

  for (const name of [
    '../outside',
    '/etc/passwd',
    '.chest/data.mdb',
    'a/../../outside',
    'a\\..\\x',
    'a\0b',
  ]) {
    it(`an entry naming ${JSON.stringify(name)} is CORRUPT and nothing outside is read or touched`, () => {
      const { dir, outside } = hostile(() => encodeFile(7, 0, 0, 9000, name));
      using chest = new Chest<string, string>({ path: dir });
      expectCode(() => chest.get('a'), ErrorCode.CORRUPT);
      chest.set('a', 'replaced');
      chest.flush();
      expect(chest.repair().dropped).toEqual([]);
      expect(fs.readFileSync(outside, 'utf8')).toBe(big('a'));
    });
  }

  it('a value file replaced by a symlink is not followed', () => {
    const dir = freshPath();
    {
      using chest = new Chest<string, string>({ path: dir, inlineThreshold: 100 });
      chest.set('a', big('a'));
    }
    const outside = path.join(path.dirname(dir), 'outside');
    fs.writeFileSync(outside, big('a'));
    fs.rmSync(path.join(dir, 'a'));
    fs.symlinkSync(outside, path.join(dir, 'a'));
    using chest = new Chest<string, string>({ path: dir });
    expectCode(() => chest.get('a'), ErrorCode.CORRUPT);
    expect(chest.repair().dropped.map((d) => d.key)).toEqual(['a']);
    expect(fs.readFileSync(outside, 'utf8')).toBe(big('a'));
  });

  it('AsyncChest does not follow a value file replaced by a symlink either', async () => {
    const dir = freshPath();
    {
      using chest = new Chest<string, string>({ path: dir, inlineThreshold: 100 });
      chest.set('a', big('a'));
    }
    // The very bytes of the value, so only refusing the symlink can tell it from the real file.
    const outside = path.join(path.dirname(dir), 'outside');
    fs.renameSync(path.join(dir, 'a'), outside);
    fs.symlinkSync(outside, path.join(dir, 'a'));
    await using chest = await AsyncChest.open<string, string>({ path: dir });
    const error: unknown = await chest.get('a').catch((e: unknown) => e);
    expect(isChestError(error, ErrorCode.CORRUPT), String(error)).toBe(true);
    expect((error as Error).message).toMatch(/is a symlink/);
  });

  // 4096 bytes: the size ext4 gives a folder, which a length check alone would let through.
  for (const [what, make] of [
    ['a folder', (file: string) => fs.mkdirSync(file)],
    ['a FIFO', (file: string) => execFileSync('mkfifo', [file])],
  ] as const) {
    it(`a value file replaced by ${what} is CORRUPT naming the key and the path, for get, AsyncChest and verify`, async () => {
      const dir = freshPath();
      let file: string;
      {
        using chest = new Chest<string, Float64Array>({ path: dir, inlineThreshold: 100 });
        chest.set('a', new Float64Array(512).fill(1));
        chest.set('b', new Float64Array(512).fill(2));
        file = chest.keyToFilename('a');
      }
      fs.rmSync(file);
      make(file);
      // Were a FIFO's open to block again, this writer would end it after 10 s: the test then fails
      // on the wrong message instead of hanging the run.
      const unblock =
        what === 'a FIFO'
          ? spawn('sh', ['-c', 'sleep 10 && : > "$0"', file], { stdio: 'ignore' })
          : undefined;
      onTestFinished(() => void unblock?.kill());
      const message = `the value file ${file} is not a regular file but ${what} (key 'a')`;
      {
        using chest = new Chest<string, Float64Array>({ path: dir });
        const error = expectCode(() => chest.get('a'), ErrorCode.CORRUPT);
        expect(error.message).toBe(message);
        expect(error.keys).toEqual(['a']);
        expect(error.file).toBe(file);
        expect(chest.get('b')).toEqual(new Float64Array(512).fill(2));
        expect(chest.verify().damaged).toEqual([
          { key: 'a', code: ErrorCode.CORRUPT, file: 'a', message: message.replace(" (key 'a')", '') },
        ]);
      }
      await using chest = await AsyncChest.open<string, Float64Array>({ path: dir });
      const error: unknown = await chest.get('a').catch((e: unknown) => e);
      expect(isChestError(error, ErrorCode.CORRUPT), String(error)).toBe(true);
      expect((error as Error).message).toBe(message);
    });
  }

  it('a folder replaced by a symlink cannot make a writer put files outside the chest', () => {
    const dir = freshPath();
    const elsewhere = path.join(path.dirname(dir), 'elsewhere');
    fs.mkdirSync(elsewhere);
    {
      using chest = new Chest<string[], string>({ path: dir, inlineThreshold: 100 });
      chest.set(['x', 'y'], 'small');
    }
    fs.symlinkSync(elsewhere, path.join(dir, '_x'));
    using chest = new Chest<string[], string>({ path: dir, inlineThreshold: 100, availableMemory: 0 });
    expectCode(() => chest.set(['x', 'z'], big('z')), ErrorCode.CORRUPT);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    expect(chest.get(['x', 'y'])).toBe('small');
  });

  it('a file that no entry holds is never overwritten by a new value: the value takes another name', () => {
    const dir = freshPath();
    fs.mkdirSync(dir);
    using chest = new Chest<string, string>({ path: dir, inlineThreshold: 100 });
    fs.writeFileSync(path.join(dir, 'a'), 'not mine');
    chest.set('a', big('a'));
    chest.flush();
    expect(fs.readFileSync(path.join(dir, 'a'), 'utf8')).toBe('not mine');
    expect(chest.keyToFilename('a')).not.toBe(path.join(dir, 'a'));
    expect(listFiles(dir).filter((f) => !f.startsWith('.chest/'))).toHaveLength(2);
  });
});
