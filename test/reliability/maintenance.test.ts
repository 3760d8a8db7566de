import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Chest, ErrorCode, type Damage } from '../../src/index.js';
import { expectCode, freshPath } from '../helpers.js';
import { editIndex, editManifest, flipByte, rawEntries, truncateFile } from './damage-tools.js';

const big = (c: string): string => c.repeat(2000);
const open = (dir: string): Chest<string, string> =>
  new Chest<string, string>({ path: dir, inlineThreshold: 512, availableMemory: 0 });

function filled(dir: string, names: readonly string[]): void {
  const chest = open(dir);
  for (const n of names) chest.set(n, n.startsWith('f') ? big(n) : n);
  chest.close();
}

const fileOf = (dir: string, key: string): string => {
  const chest = open(dir);
  const file = chest.keyToFilename(key);
  chest.close();
  return file;
};

function byKey(damage: readonly Damage<string>[]): Record<string, ErrorCode> {
  const out: Record<string, ErrorCode> = {};
  for (const d of damage) out[String(d.key)] = d.code;
  return out;
}

/** Opens the chest at `dir` in another process; resolves once it is open, to a function that closes it. */
async function holdOpenElsewhere(dir: string): Promise<() => Promise<void>> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, '..', 'fixtures', 'hold-worker.ts'), dir],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  return async () => {
    child.stdin.end();
    await new Promise((resolve) => child.once('exit', resolve));
  };
}

describe('verify, repair, compact', () => {
  it('verify of a sound chest reports every entry checked and nothing else', () => {
    const dir = freshPath();
    filled(dir, ['a', 'b', 'fa', 'fb']);
    using chest = open(dir);
    const progress: number[] = [];
    const report = chest.verify({ onProgress: (done) => progress.push(done) });
    expect(report).toEqual({ entries: 4, checked: 4, damaged: [], orphanFiles: [], ok: true });
    expect(progress).toEqual([1, 2, 3, 4]);
  });

  it('verify reports every kind of damage without throwing, and the rest stays readable', () => {
    const dir = freshPath();
    filled(dir, ['a', 'b', 'fa', 'fb', 'fc', 'fd']);
    truncateFile(fileOf(dir, 'fa'), 10);
    flipByte(fileOf(dir, 'fb'), 100);
    fs.unlinkSync(fileOf(dir, 'fc'));
    // The inline entry of 'a' (the only inline one ending in 'a'): one bit of its value flipped.
    const inline = rawEntries(dir).find(
      (e) => (e.value[0]! & 1) === 0 && e.key.toString('latin1').endsWith('a'),
    )!;
    inline.value[inline.value.length - 1]! ^= 0x01;
    editIndex(dir, (entries) => entries.putSync(inline.key, inline.value));
    using chest = open(dir);
    const report = chest.verify();
    expect(report.entries).toBe(6);
    expect(report.checked).toBe(6);
    expect(report.ok).toBe(false);
    expect(byKey(report.damaged)).toEqual({
      a: ErrorCode.CORRUPT,
      fa: ErrorCode.CORRUPT,
      fb: ErrorCode.CORRUPT,
      fc: ErrorCode.MISSING_FILE,
    });
    expect(report.damaged.find((d) => d.key === 'fc')!.file).toBe('fc');
    expect(report.damaged.find((d) => d.key === 'fb')!.file).toBe('fb');
    expect(chest.get('b')).toBe('b');
    expect(chest.get('fd')).toBe(big('fd'));
    for (const [key, code] of Object.entries(byKey(report.damaged))) {
      const error = expectCode(() => chest.get(key), code);
      expect(error.keys).toEqual([key]);
      expect(error.message).toContain(key);
      if (key !== 'a') expect(error.file).toBe(path.join(dir, key));
    }
  });

  it('an entry whose key bytes cannot be decoded is reported with an undefined key', () => {
    const dir = freshPath();
    filled(dir, ['a']);
    const sound = rawEntries(dir)[0]!;
    // 0xfe is no type tag of the key encoding.
    editIndex(dir, (entries) => entries.putSync(Buffer.from([0xfe, 0xfe, 0xfe]), sound.value));
    using chest = open(dir);
    const report = chest.verify();
    expect(report.damaged).toHaveLength(1);
    expect(report.damaged[0]!.key).toBeUndefined();
    expect(report.damaged[0]!.code).toBe(ErrorCode.CORRUPT);
    const repaired = chest.repair();
    expect(repaired.dropped).toHaveLength(1);
    expect(chest.verify().ok).toBe(true);
    expect(chest.get('a')).toBe('a');
  });

  it('repair drops damaged entries, reports them, and leaves a sound chest', () => {
    const dir = freshPath();
    filled(dir, ['a', 'fa', 'fb', 'fc']);
    truncateFile(fileOf(dir, 'fa'), 0);
    fs.unlinkSync(fileOf(dir, 'fb'));
    using chest = open(dir);
    const report = chest.repair();
    expect(byKey(report.dropped)).toEqual({ fa: ErrorCode.CORRUPT, fb: ErrorCode.MISSING_FILE });
    expect(report.removedFiles).toEqual(['fa']); // fb's file was gone already
    expect(chest.verify()).toEqual({ entries: 2, checked: 2, damaged: [], orphanFiles: [], ok: true });
    expect(chest.get('fa')).toBeUndefined();
    expect(chest.has('fb')).toBe(false);
    expect([...chest.keys()].sort()).toEqual(['a', 'fc']);
    expect(chest.get('fc')).toBe(big('fc'));
  });

  it('repair keeps a value still held in memory and writes it again', () => {
    const dir = freshPath();
    filled(dir, ['fa']);
    const chest = new Chest<string, string>({ path: dir, inlineThreshold: 512 });
    expect(chest.get('fa')).toBe(big('fa')); // now in memory, clean
    fs.unlinkSync(chest.keyToFilename('fa'));
    expect(byKey(chest.repair().dropped)).toEqual({ fa: ErrorCode.MISSING_FILE });
    expect(chest.size).toBe(1);
    chest.close();
    using again = open(dir);
    expect(again.get('fa')).toBe(big('fa'));
    expect(again.verify().ok).toBe(true);
  });

  it('orphan files are reported by verify and removed by repair, never anything outside', () => {
    const dir = freshPath();
    filled(dir, ['fa']);
    const outside = path.join(path.dirname(dir), 'outside.txt');
    fs.writeFileSync(outside, 'keep me');
    fs.writeFileSync(path.join(dir, 'stray'), 'x');
    fs.mkdirSync(path.join(dir, '_sub'));
    fs.writeFileSync(path.join(dir, '_sub', 'gone'), 'x');
    fs.symlinkSync(outside, path.join(dir, 'link'));
    using chest = open(dir);
    // A temporary of a writer that no longer runs (no process has this pid).
    fs.writeFileSync(path.join(dir, '.chest', 'tmp', '2147483646-1.tmp'), 'half');
    const expected = ['.chest/tmp/2147483646-1.tmp', '_sub/gone', 'link', 'stray'];
    const report = chest.verify();
    expect(report.orphanFiles).toEqual(expected);
    expect(report.ok).toBe(false);
    expect(chest.repair()).toEqual({ dropped: [], removedFiles: expected });
    expect(fs.readFileSync(outside, 'utf8')).toBe('keep me');
    expect(chest.verify().ok).toBe(true);
    expect(chest.get('fa')).toBe(big('fa'));
  });

  it('a chest whose manifest is missing or damaged is refused as damaged, never taken for a new one', () => {
    for (const manifest of [undefined, '{}', 'null', '[]', '{"format":"x","serializer":"json"}']) {
      const dir = freshPath();
      {
        using c = new Chest<string, unknown>({ path: dir, serializer: 'json' });
        c.set('a', { n: 1 });
      }
      editManifest(dir, manifest);
      const error = expectCode(() => new Chest({ path: dir }), ErrorCode.CORRUPT);
      expect(error.message, String(manifest)).toMatch(
        manifest === undefined ? /manifest .* is missing/ : /manifest .* is damaged/,
      );
      expectCode(() => new Chest({ path: dir, serializer: 'json' }), ErrorCode.CORRUPT);
      expectCode(() => new Chest({ path: dir, readOnly: true }), ErrorCode.CORRUPT);
      // Nothing was rewritten: with the manifest put back, the chest reads as before.
      editManifest(dir, JSON.stringify({ format: 4, serializer: 'json', compression: 'none' }));
      using again = new Chest<string, unknown>({ path: dir });
      expect(again.get('a')).toEqual({ n: 1 });
    }
  });

  it('a chest is refused inside another, and repair of the outer one leaves one found there alone', () => {
    const outer = freshPath();
    new Chest<string, number>({ path: outer }).close();
    expectCode(() => new Chest({ path: path.join(outer, 'inner') }), ErrorCode.NOT_A_CHEST);
    expectCode(() => new Chest({ path: path.join(outer, 'a', 'b') }), ErrorCode.NOT_A_CHEST);
    expect(fs.existsSync(path.join(outer, 'inner'))).toBe(false);
    // One made elsewhere and moved in (as chests could be made inside others before they were refused).
    const elsewhere = freshPath();
    const made = new Chest<string, Uint8Array>({ path: elsewhere, inlineThreshold: 0 });
    made.set('k', new Uint8Array([1, 2, 3]));
    made.close();
    fs.renameSync(elsewhere, path.join(outer, 'inner'));
    fs.writeFileSync(path.join(outer, 'stray'), 'x');
    {
      using c = new Chest<string, number>({ path: outer });
      expect(c.verify().orphanFiles).toEqual(['stray']);
      expect(c.repair().removedFiles).toEqual(['stray']);
    }
    const inner = fs.mkdtempSync(`${elsewhere}-back`);
    fs.rmSync(inner, { recursive: true });
    fs.renameSync(path.join(outer, 'inner'), inner);
    using back = new Chest<string, Uint8Array>({ path: inner });
    expect(back.get('k')).toEqual(new Uint8Array([1, 2, 3]));
    expect(back.verify().ok).toBe(true);
  });

  it('compact shrinks the index after many deletes, keeps every value and removes orphans', () => {
    const dir = freshPath();
    const chest = new Chest<number, string>({ path: dir, availableMemory: 0 });
    for (let i = 0; i < 3000; i++) chest.set(i, `value ${i} `.repeat(40));
    chest.flush();
    for (let i = 0; i < 3000; i++) if (i % 10 !== 0) chest.delete(i);
    chest.set(5, 'latest');
    fs.writeFileSync(path.join(dir, 'stray'), 'x');
    const report = chest.compact();
    expect(report.removedFiles).toEqual(['stray']);
    expect(report.bytesAfter).toBeLessThan(report.bytesBefore / 2);
    expect(report.bytesAfter).toBe(fs.statSync(path.join(dir, '.chest', 'data.mdb')).size);
    expect(chest.size).toBe(301);
    expect(chest.get(5)).toBe('latest');
    chest.set(7, 'after');
    chest.close();
    using again = new Chest<number, string>({ path: dir });
    expect(again.size).toBe(302);
    for (let i = 0; i < 3000; i += 10) expect(again.get(i)).toBe(`value ${i} `.repeat(40));
    expect(again.get(7)).toBe('after');
    expect(again.verify().ok).toBe(true);
  });

  it('move is refused while another chest in this process or another process has the folder open', async () => {
    const dir = freshPath();
    filled(dir, ['a']);
    const chest = open(dir);
    const target = `${dir}-moved`;
    {
      using other = open(dir);
      expectCode(() => chest.move(target), ErrorCode.LOCKED);
      other.set('b', 'b');
      other.flush();
      expect(chest.get('b')).toBe('b');
    }
    const release = await holdOpenElsewhere(dir);
    expectCode(() => chest.move(target), ErrorCode.LOCKED);
    await release();
    expect(fs.existsSync(target)).toBe(false);
    chest.move(target);
    expect(chest.path).toBe(target);
    expect(chest.get('a')).toBe('a');
    expect(chest.get('b')).toBe('b');
    chest.drop();
  });

  it('compact is refused while another chest in this process or another process has the index open', async () => {
    const dir = freshPath();
    filled(dir, ['a']);
    using chest = open(dir);
    {
      using other = open(dir);
      expectCode(() => chest.compact(), ErrorCode.LOCKED);
      expect(other.get('a')).toBe('a');
    }
    const release = await holdOpenElsewhere(dir);
    expectCode(() => chest.compact(), ErrorCode.LOCKED);
    await release();
    expect(chest.compact().bytesAfter).toBeGreaterThan(0);
    expect(chest.get('a')).toBe('a');
  });
});
