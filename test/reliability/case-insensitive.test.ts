import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Chest, ErrorCode, type Key } from '../../src/index.js';
import { keyIdentity } from '../../src/keys/codec.js';
import { expectCode, listFiles } from '../helpers.js';

/**
 * Keys that differ only in case, on a real case-insensitive file system: a FAT image this test makes
 * (mkfs.fat) and mounts through FUSE (fusefat). Needs root, /dev/fuse, mkfs.fat, fusefat, fusermount
 * and mount; without them it is skipped and says why, except under CI=true, where only a machine
 * without root, /dev/fuse or Linux may skip it.
 *
 * fusefat refuses ftruncate (EPERM), which LMDB needs to size its lock file, so the index cannot live
 * on the mount. When that is so, LMDB's files (data.mdb, lock.mdb, and the gate's) are bind-mounted from a
 * case-sensitive file system onto their places in the chest's folder on the mount: everything else
 * the chest writes (value files, their folders, temporaries and the renames between them) is on FAT.
 */
const TOOLS = ['mkfs.fat', 'fusefat', 'fusermount', 'mount', 'umount'] as const;

function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** What the machine lacks and CI cannot install: the test is skipped, even under CI=true. */
function machineLacks(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (!fs.existsSync('/dev/fuse')) return 'needs /dev/fuse';
  return undefined;
}

/** What CI provides (it runs as root and installs the tools): missing under CI=true, the test fails. */
function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to mount';
  const missing = TOOLS.filter((t) => findTool(t) === undefined);
  if (missing.length > 0) return `needs ${missing.join(', ')} (Debian: apt-get install fusefat dosfstools)`;
  return undefined;
}

const lacks = machineLacks();
const reason = lacks ?? whyNot();
// CI installs the tools, so under CI=true only what the machine itself lacks may skip the test.
const inCi = process.env.CI === 'true' && lacks === undefined;
if (reason !== undefined && !inCi) console.warn(`case-insensitive file system tests skipped: ${reason}`);

const IMAGE_BYTES = 64 * 2 ** 20;
let work = '';
let image = '';
let mnt = '';
let indexFiles = '';
const bound: string[] = [];

function run(tool: string, args: readonly string[]): void {
  const result = spawnSync(findTool(tool) ?? tool, args, { encoding: 'utf8', timeout: 20_000 });
  if (result.status !== 0)
    throw new Error(`${tool} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.error}`);
}

function isMounted(dir: string): boolean {
  return fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[1] === dir);
}

function mountFat(): void {
  run('fusefat', ['-o', 'rw+', image, mnt]);
  // fusefat returns once it has forked; wait until the kernel lists the mount.
  const deadline = Date.now() + 5000;
  while (!isMounted(mnt)) {
    if (Date.now() > deadline) throw new Error(`fusefat did not mount ${image} on ${mnt}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

function unmountFat(): void {
  for (const target of bound.splice(0).reverse()) {
    // Lazily if need be: lmdb-js may keep the index mapped a moment after close.
    if (spawnSync(findTool('umount') ?? 'umount', [target]).status !== 0)
      spawnSync(findTool('umount') ?? 'umount', ['-l', target]);
  }
  if (isMounted(mnt)) run('fusermount', ['-u', mnt]);
}

/** Whether a file on the mount can be resized with ftruncate, as LMDB resizes its lock file. */
function ftruncateWorks(dir: string): boolean {
  const file = path.join(dir, 'ftruncate-probe');
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, 8192);
    return true;
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe('EPERM');
    return false;
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file);
  }
}

/**
 * Prepares `dir` on the mount for a chest. Where the mount refuses ftruncate, the index files are
 * bind-mounted from a folder of their own on a case-sensitive file system.
 */
/** LMDB's files: the index's and its gate's (an LMDB environment of its own, see the store). */
const INDEX_FILES = ['data.mdb', 'lock.mdb', 'gate/data.mdb', 'gate/lock.mdb'];

function prepareChestDir(dir: string, indexOnMount: boolean): void {
  if (indexOnMount) return;
  const index = path.join(dir, '.chest');
  const source = path.join(indexFiles, path.basename(dir));
  fs.mkdirSync(index, { recursive: true });
  fs.mkdirSync(source, { recursive: true });
  for (const name of INDEX_FILES) {
    fs.mkdirSync(path.dirname(path.join(index, name)), { recursive: true });
    fs.mkdirSync(path.dirname(path.join(source, name)), { recursive: true });
    fs.writeFileSync(path.join(index, name), '');
    fs.writeFileSync(path.join(source, name), '');
  }
  bindIndex(dir);
}

function bindIndex(dir: string): void {
  const source = path.join(indexFiles, path.basename(dir));
  for (const name of INDEX_FILES) {
    const target = path.join(dir, '.chest', name);
    run('mount', ['--bind', path.join(source, name), target]);
    bound.push(target);
  }
}

/**
 * Case twins: strings (short ones get readable names, the rest hashed ones) and tuples (folders).
 * fusefat refuses to create names outside ASCII (EPERM), so a naming that keeps keys as they are
 * gets only the ASCII ones.
 */
function caseTwins(asciiOnly: boolean): Key[] {
  const ascii = ['abc', 'readme', 'key', 'data_1', 'x', 'a'.repeat(70)];
  const words = asciiOnly ? ascii : [...ascii, 'straße', 'Ünïcode'];
  const keys: Key[] = [];
  for (const word of words) {
    const upper = word.toUpperCase();
    const title = word.charAt(0).toUpperCase() + word.slice(1);
    const alternating = word.replace(/./gu, (c, i: number) =>
      i % 2 === 0 ? c.toUpperCase() : c.toLowerCase(),
    );
    for (const variant of new Set([word.toLowerCase(), upper, title, alternating])) keys.push(variant);
  }
  keys.push(['dir', 'x'], ['Dir', 'x'], ['DIR', 'x'], ['dir', 'X'], ['a', 'b', 'c'], ['A', 'B', 'C']);
  return keys;
}

/** A value that goes to a file (bytes unique to `seed`, over the inline threshold) or a short string. */
function valueFor(seed: number, large: boolean): Uint8Array | string {
  if (!large) return `small ${seed}`;
  const bytes = new Uint8Array(1024 + ((seed * 977) % 20_000));
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < bytes.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

const INLINE_THRESHOLD = 256;

function checkAll(chest: Chest<Key, Uint8Array | string>, model: ReadonlyMap<unknown, [Key, unknown]>): void {
  expect(chest.size).toBe(model.size);
  for (const [key, value] of model.values()) expect(chest.get(key), JSON.stringify(key)).toEqual(value);
  expect(new Set([...chest.keys()].map(keyIdentity))).toEqual(new Set(model.keys()));
  const report = chest.verify();
  expect(report.ok, JSON.stringify(report)).toBe(true);
}

/** The value files of the chest at `dir` (the index folder left out). */
function valueFiles(dir: string): string[] {
  return listFiles(dir).filter((f) => !f.startsWith('.chest/'));
}

/**
 * Writes every key (large values to files, small ones inline) in one flush, then overwrites and
 * deletes some one by one, closes, reopens (and repairs), then unmounts the FAT image, mounts it again and reopens: every value must read
 * back exactly, and there must be exactly one file per key whose value is large.
 */
function exercise(name: string, indexOnMount: boolean, keyToFilename?: (key: Key) => string): void {
  const dir = path.join(mnt, name);
  prepareChestDir(dir, indexOnMount);
  const options = {
    path: dir,
    inlineThreshold: INLINE_THRESHOLD,
    ...(keyToFilename === undefined ? {} : { keyToFilename }),
  };
  const keys = caseTwins(keyToFilename !== undefined);
  const model = new Map<unknown, [Key, Uint8Array | string]>();
  {
    // Every key in memory first, so that the flush writes all the twins in one transaction.
    using chest = new Chest<Key, Uint8Array | string>(options);
    keys.forEach((key, i) => {
      const value = valueFor(i, i % 3 !== 2);
      chest.set(key, value);
      model.set(keyIdentity(key), [key, value]);
    });
    chest.flush();
  }
  {
    // New versions, each written at its set: a file replaced by a file, a file by an inline value
    // and back, some keys deleted.
    using chest = new Chest<Key, Uint8Array | string>({ ...options, availableMemory: 0 });
    keys.forEach((key, i) => {
      if (i % 5 === 0) {
        chest.delete(key);
        model.delete(keyIdentity(key));
      } else if (i % 2 === 0) {
        const value = valueFor(1000 + i, i % 4 !== 0);
        chest.set(key, value);
        model.set(keyIdentity(key), [key, value]);
      }
    });
    chest.flush();
    checkAll(chest, model);
  }
  const large = [...model.values()].filter(([, v]) => typeof v !== 'string').length;
  const check = (): void => {
    using again = new Chest<Key, Uint8Array | string>(options);
    checkAll(again, model);
    // Repair removes only what verify calls an orphan: no value file of a live entry may go.
    again.repair();
    checkAll(again, model);
    const files = valueFiles(dir);
    expect(files).toHaveLength(large);
    // Distinct even ignoring case: no two keys' files can be one file here.
    expect(new Set(files.map((f) => f.toLowerCase())).size).toBe(files.length);
  };
  check();
  // What was written must be in the image, not only in fusefat's or the kernel's caches.
  unmountFat();
  mountFat();
  if (!indexOnMount) bindIndex(dir);
  check();
}

describe.skipIf(reason !== undefined && !inCi)('keys that differ only in case, on FAT through FUSE', () => {
  let indexOnMount = false;

  beforeAll(() => {
    if (reason !== undefined) throw new Error(`CI=true needs this test to run: ${reason}`);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'chest-fat-'));
    image = path.join(work, 'fat.img');
    mnt = path.join(work, 'mnt');
    indexFiles = path.join(work, 'index');
    fs.mkdirSync(mnt);
    fs.mkdirSync(indexFiles);
    fs.writeFileSync(image, '');
    fs.truncateSync(image, IMAGE_BYTES);
    run('mkfs.fat', ['-F', '32', '-n', 'CHEST', image]);
    mountFat();
    indexOnMount = ftruncateWorks(mnt);
    if (!indexOnMount) console.info('fusefat refuses ftruncate: the index files are bind-mounted');
  });

  afterAll(() => {
    try {
      if (mnt !== '') unmountFat();
    } finally {
      if (work !== '') fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('the mount ignores case: a file created as A is found as a, and is the same file', () => {
    fs.writeFileSync(path.join(mnt, 'CaseProbe'), 'upper');
    expect(fs.readFileSync(path.join(mnt, 'caseprobe'), 'utf8')).toBe('upper');
    fs.writeFileSync(path.join(mnt, 'CASEPROBE'), 'again');
    expect(fs.readdirSync(mnt).filter((n) => n.toLowerCase() === 'caseprobe')).toHaveLength(1);
    fs.rmSync(path.join(mnt, 'caseprobe'));
  });

  it('a chest whose index would sit where files cannot be resized: CHEST_IO, not a crash', ({ skip }) => {
    if (indexOnMount) skip();
    expectCode(() => new Chest({ path: path.join(mnt, 'no-index') }), ErrorCode.IO);
  });

  it('with the default file names, every value of every case twin round-trips, one file per key', () => {
    exercise('default', indexOnMount);
  });

  it('with file names that keep case, twins still get a file each: a name taken is never written over', () => {
    const keepCase = (key: Key): string =>
      Array.isArray(key) ? key.map((k) => `k${String(k)}`).join('/') : `k${String(key)}`;
    exercise('keep-case', indexOnMount, keepCase);
  });
});
