import type { Command } from 'commander';
import { openChest, write } from '../context.js';
import { toLine } from '../json.js';
import { progress, QUIET } from '../progress.js';

export function register(program: Command): void {
  program
    .command('export')
    .description('write every entry to stdout as NDJSON, in key order (see "chest import")')
    .argument('<path>', "the chest's directory")
    .action(async (dir: string) => {
      using chest = openChest(dir);
      // On a terminal the lines themselves show progress; a bar would be drawn across them.
      const bar = process.stdout.isTTY ? QUIET : progress('exporting', chest.size);
      let done = 0;
      try {
        for (const [key, value] of chest.entries({})) {
          await write(JSON.stringify(toLine(key, value)) + '\n');
          bar.update(++done);
        }
      } finally {
        bar.finish();
      }
    });
}
