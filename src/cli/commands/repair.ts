import type { Command } from 'commander';
import { counted, globals, openChest, write } from '../context.js';
import { progress } from '../progress.js';
import { describeDamage } from './verify.js';

export function register(program: Command): void {
  program
    .command('repair')
    .description('drop entries whose data is damaged or gone, and remove orphan files; lists what it removed')
    .argument('<path>', "the chest's directory")
    .action(async (dir: string, _options: object, command: Command) => {
      let report;
      {
        using chest = openChest(dir, 'write');
        const bar = progress('repairing', chest.size);
        try {
          report = chest.repair({ onProgress: (done) => bar.update(done) });
        } finally {
          bar.finish();
        }
      }
      const dropped = report.dropped.map(describeDamage);
      if (globals(command).json) {
        await write(JSON.stringify({ dropped, removedFiles: report.removedFiles }) + '\n');
        return;
      }
      for (const d of dropped) await write(`dropped ${JSON.stringify(d.key)}: ${d.code}: ${d.message}\n`);
      for (const file of report.removedFiles) await write(`removed file ${file}\n`);
      await write(
        `${counted(dropped.length, 'entry', 'entries')} dropped, ${counted(report.removedFiles.length, 'file')} removed\n`,
      );
    });
}
