import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Chest, ErrorCode, isChestError } from '../../src/index.js';
import { encodeKey } from '../../src/keys/codec.js';
import { HEADER } from '../../src/stores/lmdb/record.js';
import { crc32 } from '../../src/values/crc32.js';
import { freshPath } from '../helpers.js';
import { editIndex, rawEntries, seededRandom } from './damage-tools.js';

/**
 * Damage, many times over: a chest is written, one stored value is truncated, has bytes flipped or
 * loses its file, and the chest is opened again. The damaged key must fail with a stable code naming
 * it (and its file), never give other data; every other key must read back equal.
 */
const SEED = 20261123;
const ROUNDS_PER_KIND = 12;

type Kind = 'inline' | 'file' | 'compressed' | 'binary' | 'record';
const KINDS: readonly Kind[] = ['inline', 'file', 'compressed', 'binary', 'record'];

function valueOf(kind: Kind, rnd: () => number, i: number): unknown {
  const n = 1 + Math.floor(rnd() * 4000);
  switch (kind) {
    case 'inline':
      return `small ${i} ${rnd()}`;
    case 'file':
      return Array.from({ length: n + 600 }, (_, j) => String.fromCharCode(33 + ((i * 7 + j) % 90))).join('');
    case 'compressed':
      return `${i} compressible `.repeat(40 + n);
    case 'binary':
      return Float64Array.from({ length: 8 + n }, () => rnd());
    case 'record':
      return {
        id: i,
        name: `record ${i}`,
        tags: ['a', 'b'],
        when: new Date(1_700_000_000_000 + i),
        r: rnd(),
      };
  }
}

const open = (dir: string, kind: Kind): Chest<string> =>
  new Chest<string, unknown>({
    path: dir,
    availableMemory: 0,
    inlineThreshold: 1024,
    ...(kind === 'compressed' ? { compress: 'gzip' as const } : {}),
  });

describe('damaged values', () => {
  it(`every value kind, truncated, flipped or deleted ${ROUNDS_PER_KIND * KINDS.length} times: a typed error naming the key, never other data`, () => {
    const rnd = seededRandom(SEED);
    const tally: Record<string, number> = {};
    for (const kind of KINDS) {
      for (let round = 0; round < ROUNDS_PER_KIND; round++) {
        const where = `seed ${SEED}, ${kind} round ${round}`;
        const dir = freshPath();
        const values = new Map<string, unknown>();
        const chest = open(dir, kind);
        for (let i = 0; i < 6; i++) values.set(`${kind}-${i}`, valueOf(kind, rnd, i));
        values.set('neighbour-inline', 'n');
        values.set('neighbour-file', 'x'.repeat(5000));
        for (const [k, v] of values) chest.set(k, v);
        const target = `${kind}-${Math.floor(rnd() * 6)}`;
        const file = chest.keyToFilename(target);
        const inFile = fs.existsSync(file);
        chest.close();

        const damage = inFile ? damageFile(file, rnd) : damageInline(dir, target, rnd);
        tally[`${inFile ? 'file' : 'inline'} ${damage}`] =
          (tally[`${inFile ? 'file' : 'inline'} ${damage}`] ?? 0) + 1;

        using again = open(dir, kind);
        let error: unknown;
        try {
          const got = again.get(target);
          expect.fail(`${where}: ${target} read back ${typeof got} after ${damage}`);
        } catch (e) {
          error = e;
        }
        expect(isChestError(error), `${where}: ${String(error)}`).toBe(true);
        if (!isChestError(error)) continue;
        const expected = damage === 'deleted' ? ErrorCode.MISSING_FILE : ErrorCode.CORRUPT;
        expect(error.code, where).toBe(expected);
        expect(error.keys, where).toEqual([target]);
        expect(error.message, where).toContain(target);
        if (inFile) expect(error.file, where).toBe(file);
        for (const [k, v] of values) if (k !== target) expect(again.get(k), `${where}: ${k}`).toEqual(v);
        const report = again.verify();
        expect(
          report.damaged.map((d) => [d.key, d.code]),
          where,
        ).toEqual([[target, expected]]);
      }
    }
    // Both storage places met every damage this seed can give them.
    expect(Object.keys(tally).sort()).toEqual([
      'file deleted',
      'file flipped',
      'file truncated',
      'inline flipped',
      'inline truncated',
    ]);
  });
});

function damageFile(file: string, rnd: () => number): string {
  const bytes = fs.readFileSync(file);
  const what = Math.floor(rnd() * 3);
  if (what === 0) {
    fs.truncateSync(file, Math.floor(rnd() * bytes.length));
    return 'truncated';
  }
  if (what === 1) {
    const flips = 1 + Math.floor(rnd() * 3);
    for (let i = 0; i < flips; i++) flipBit(bytes, Math.floor(rnd() * bytes.length), Math.floor(rnd() * 8));
    // Two flips of one bit cancel out; a damaged file must differ from the sound one.
    if (bytes.equals(fs.readFileSync(file))) flipBit(bytes, 0, 0);
    fs.writeFileSync(file, bytes);
    return 'flipped';
  }
  fs.unlinkSync(file);
  return 'deleted';
}

/** Damages the value bytes of an inline entry (its 7-byte header is the index's own business). */
function damageInline(dir: string, target: string, rnd: () => number): string {
  const key = Buffer.from(encodeKey(target));
  const entry = rawEntries(dir).find((e) => e.key.equals(key))!;
  const value = entry.value;
  expect(value[0]! & 1, 'an inline entry').toBe(0);
  const dataLength = value.length - HEADER;
  let damaged: Buffer;
  let what: string;
  if (rnd() < 0.5) {
    damaged = value.subarray(0, HEADER + Math.floor(rnd() * dataLength));
    what = 'truncated';
  } else {
    damaged = Buffer.from(value);
    flipBit(damaged, HEADER + Math.floor(rnd() * dataLength), Math.floor(rnd() * 8));
    what = 'flipped';
  }
  editIndex(dir, (entries) => entries.putSync(key, damaged));
  return what;
}

const WORKER = path.join(import.meta.dirname, '..', 'fixtures', 'open-worker.ts');

interface OpenResult {
  open: string;
  equal: number;
  wrong: number;
  errors: Record<string, number>;
  other: string[];
}

describe('a damaged index', () => {
  it('opens with a typed error or reads back only sound values, in a child process that must not crash', () => {
    const rnd = seededRandom(SEED + 1);
    const dir = freshPath();
    const expected: [string, string][] = [];
    {
      using chest = new Chest<string, string>({ path: dir, availableMemory: 0 });
      for (let i = 0; i < 300; i++) expected.push([`k${i}`, 'v'.repeat(i * 7) + String(i)]);
      for (const [k, v] of expected) chest.set(k, v);
    }
    const expectedFile = path.join(path.dirname(dir), 'expected.json');
    fs.writeFileSync(expectedFile, JSON.stringify(expected));
    const indexFile = path.join(dir, '.chest', 'data.mdb');
    const sound = fs.readFileSync(indexFile);
    const page = 4096;
    const cases: [string, Buffer][] = [];
    for (const length of [0, 100, page, 2 * page, Math.floor(sound.length / 2), sound.length - page])
      cases.push([`truncated to ${length}`, sound.subarray(0, length)]);
    const flipped = (at: number): [string, Buffer] => {
      const bytes = Buffer.from(sound);
      for (let bit = 0; bit < 8; bit++) flipBit(bytes, at, bit);
      return [`byte ${at} flipped`, bytes];
    };
    // The meta pages' fields (the first 168 bytes of pages 0 and 1), then anywhere.
    for (let i = 0; i < 4; i++) cases.push(flipped((rnd() < 0.5 ? 0 : page) + Math.floor(rnd() * 168)));
    for (let i = 0; i < 4; i++) cases.push(flipped(2 * page + Math.floor(rnd() * (sound.length - 2 * page))));

    const outcomes: Record<string, number> = {};
    for (const [what, bytes] of cases) {
      fs.writeFileSync(indexFile, bytes);
      fs.rmSync(path.join(dir, '.chest', 'lock.mdb'), { force: true });
      const child = spawnSync(process.execPath, ['--import', 'tsx', WORKER, dir, expectedFile], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      const where = `seed ${SEED + 1}, ${what}: ${child.stderr}`;
      expect(child.signal, where).toBeNull();
      expect(child.status, where).toBe(0);
      const result = JSON.parse(child.stdout) as OpenResult;
      expect(result.wrong, where).toBe(0);
      expect(result.other, where).toEqual([]);
      expect([ErrorCode.CORRUPT, ErrorCode.IO, 'ok'], where).toContain(result.open);
      if (result.open === 'ok') {
        const failed = Object.values(result.errors).reduce((a, b) => a + b, 0);
        expect(result.equal + failed, where).toBeGreaterThanOrEqual(expected.length);
      }
      const outcome =
        result.open === 'ok'
          ? result.equal === expected.length
            ? 'intact'
            : 'some values CORRUPT'
          : `open ${result.open}`;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    // Every truncation is refused at open; a flip in a meta page's magic too.
    expect(outcomes[`open ${ErrorCode.CORRUPT}`]).toBeGreaterThanOrEqual(6);
  }, 180_000);
});

function flipBit(bytes: Buffer, at: number, bit: number): void {
  bytes.writeUInt8(bytes.readUInt8(at) ^ (1 << bit), at);
}

describe('damaged tags', () => {
  const kinds: readonly Kind[] = ['inline', 'file', 'compressed', 'binary'];

  it.each(kinds)(
    '%s entry, any bit of its kind or codec byte flipped: fails with CHEST_CORRUPT naming the key',
    (kind) => {
      const rnd = seededRandom(SEED);
      const value = valueOf(kind, rnd, 1);
      for (const at of [1, 2]) {
        for (let bit = 0; bit < 8; bit++) {
          const dir = freshPath();
          const chest = open(dir, kind);
          chest.set('target', value);
          chest.set('neighbour', 'n');
          chest.close();
          const key = Buffer.from(encodeKey('target'));
          const entry = rawEntries(dir).find((e) => e.key.equals(key))!;
          const damaged = Buffer.from(entry.value);
          flipBit(damaged, at, bit);
          editIndex(dir, (entries) => entries.putSync(key, damaged));
          const reopened = open(dir, kind);
          let error: unknown;
          try {
            reopened.get('target');
          } catch (e) {
            error = e;
          }
          expect(isChestError(error, ErrorCode.CORRUPT), `byte ${at} bit ${bit}: ${String(error)}`).toBe(
            true,
          );
          expect((error as Error).message).toContain('target');
          expect(reopened.get('neighbour')).toBe('n');
          reopened.close();
        }
      }
    },
  );

  it('entries written before checksums were sealed (format 2 headers) still read, and are sealed once rewritten', () => {
    const dir = freshPath();
    const chest = open(dir, 'inline');
    chest.set('old', 'written by an older version');
    chest.close();
    const key = Buffer.from(encodeKey('old'));
    const sealed = rawEntries(dir).find((e) => e.key.equals(key))!.value;
    // The format 2 layout, built from its description: flags (bit 1: stamped), kind, codec, the
    // plain CRC-32 of the data, the stamp, the data.
    const data = sealed.subarray(HEADER);
    const unsealed = Buffer.concat([sealed.subarray(0, 3), Buffer.alloc(4), sealed.subarray(7)]);
    unsealed[0] = 2;
    unsealed.writeUInt32LE(crc32(data), 3);
    editIndex(dir, (entries) => entries.putSync(key, unsealed));
    const reopened = open(dir, 'inline');
    expect(reopened.get('old')).toBe('written by an older version');
    reopened.set('old', 'rewritten');
    reopened.close();
    const rewritten = rawEntries(dir).find((e) => e.key.equals(key))!.value;
    expect(rewritten[0]! & 4, 'sealed').toBe(4);
    expect(open(dir, 'inline').get('old')).toBe('rewritten');
  });
});
