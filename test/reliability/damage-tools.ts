import fs from 'node:fs';
import path from 'node:path';
import { open, type Database } from 'lmdb';
import { indexOptions } from '../../src/stores/lmdb/env.js';

/** Tools that damage a closed chest on disk the way a bad disk, a bug or a person would. */

/** Runs `edit` on the raw entries table of a chest that is closed in this process. */
export function editIndex(dir: string, edit: (entries: Database<Buffer, Buffer>) => void): void {
  const root = open(indexOptions(path.join(dir, '.chest')));
  const entries = root.openDB<Buffer, Buffer>({ name: 'entries', keyEncoding: 'binary', encoding: 'binary' });
  root.transactionSync(() => {
    edit(entries);
  });
  void root.close();
}

/** Replaces (or with `undefined`, removes) the manifest of a closed chest. */
export function editManifest(dir: string, text: string | undefined): void {
  const root = open(indexOptions(path.join(dir, '.chest')));
  const meta = root.openDB<string, string>({ name: 'meta', encoding: 'string' });
  root.transactionSync(() => {
    if (text === undefined) meta.removeSync('chest');
    else meta.putSync('chest', text);
  });
  void root.close();
}

/** Every raw entry of a closed chest. */
export function rawEntries(dir: string): { key: Buffer; value: Buffer }[] {
  const out: { key: Buffer; value: Buffer }[] = [];
  editIndex(dir, (entries) => {
    for (const { key, value } of entries.getRange({}))
      out.push({ key: Buffer.from(key), value: Buffer.from(value) });
  });
  return out;
}

/** Inverts the bits of the byte at `offset` (counted from the end when negative). */
export function flipByte(file: string, offset: number): void {
  const bytes = fs.readFileSync(file);
  const at = offset < 0 ? bytes.length + offset : offset;
  bytes[at] = bytes[at]! ^ 0xff;
  fs.writeFileSync(file, bytes);
}

export function truncateFile(file: string, length: number): void {
  fs.truncateSync(file, length);
}

/** A small seeded generator (the benchmarks' mulberry32), so that a failing run can be replayed from its seed. */
export { mulberry32 as seededRandom } from '../../bench/lib/rng.js';
