import type { Command } from 'commander';
import { counted, formatBytes, globals, openChest, write } from '../context.js';

export function register(program: Command): void {
  program
    .command('compact')
    .description(
      'rewrite the index compactly and remove orphan files (no other process may have the chest open)',
    )
    .argument('<path>', "the chest's directory")
    .action(async (dir: string, _options: object, command: Command) => {
      let report;
      {
        using chest = openChest(dir, 'write');
        report = chest.compact();
      }
      if (globals(command).json) {
        await write(JSON.stringify(report) + '\n');
        return;
      }
      await write(
        `index ${formatBytes(report.bytesBefore)} -> ${formatBytes(report.bytesAfter)}, ` +
          `${counted(report.removedFiles.length, 'orphan file')} removed\n`,
      );
    });
}
