import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { assertChest, formatBytes, globals, openIndex, write } from '../context.js';
import { progress } from '../progress.js';

export interface Info {
  path: string;
  entries: number;
  inline: { entries: number; bytes: number };
  files: { entries: number; bytes: number };
  diskBytes: number;
  format: number;
  serializer: string;
  compression: string;
}

/** Reads the index directly: every entry's size and place, no values. */
export function readInfo(dir: string): Info {
  const full = assertChest(dir);
  const store = openIndex(full);
  try {
    const meta = store.readMeta();
    const entries = store.count();
    const inline = { entries: 0, bytes: 0 };
    const files = { entries: 0, bytes: 0 };
    const bar = progress('reading the index', entries);
    let done = 0;
    for (const key of store.keys()) {
      const info = store.info(key);
      if (info !== undefined) {
        const place = info.file === undefined ? inline : files;
        place.entries++;
        place.bytes += info.byteLength;
      }
      bar.update(++done);
    }
    bar.finish();
    return {
      path: full,
      entries,
      inline,
      files,
      diskBytes: diskUsage(full),
      format: meta?.format ?? 0,
      serializer: meta?.serializer ?? 'unknown',
      compression: meta?.compression ?? 'unknown',
    };
  } finally {
    store.close();
  }
}

function diskUsage(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

export function register(program: Command): void {
  program
    .command('info')
    .description('entries, bytes inline and in files, bytes on disk, format and serializer')
    .argument('<path>', "the chest's directory")
    .action(async (dir: string, _options: object, command: Command) => {
      const info = readInfo(dir);
      if (globals(command).json) {
        await write(JSON.stringify(info) + '\n');
        return;
      }
      const count = (n: number): string => n.toLocaleString('en-US');
      const rows: [string, string][] = [
        ['path', info.path],
        ['entries', count(info.entries)],
        ['inline', `${count(info.inline.entries)} values, ${formatBytes(info.inline.bytes)}`],
        ['in files', `${count(info.files.entries)} values, ${formatBytes(info.files.bytes)}`],
        ['on disk', formatBytes(info.diskBytes)],
        ['format', String(info.format)],
        ['serializer', info.serializer],
        ['compression', info.compression],
      ];
      await write(rows.map(([name, value]) => `${name.padEnd(12)} ${value}\n`).join(''));
    });
}
