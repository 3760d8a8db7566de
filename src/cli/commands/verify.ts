import type { Command } from 'commander';
import { CliError, counted, ExitCode, globals, openChest, write } from '../context.js';
import { keyToJson } from '../json.js';
import { progress } from '../progress.js';
import type { Damage } from '../../maintenance.js';
import type { Key } from '../../keys/types.js';

/** One damaged entry as a line of text, or as JSON with the key in the CLI's key notation. */
export function describeDamage(damage: Damage<Key>): {
  key: unknown;
  code: string;
  file?: string;
  message: string;
} {
  const key = damage.key === undefined ? null : keyToJson(damage.key);
  return {
    key,
    code: damage.code,
    ...(damage.file === undefined ? {} : { file: damage.file }),
    message: damage.message,
  };
}

export function register(program: Command): void {
  program
    .command('verify')
    .description(
      'read every entry and check its checksum and file, and look for orphan files; exit code 1 if it finds damage or orphans',
    )
    .argument('<path>', "the chest's directory")
    .action(async (dir: string, _options: object, command: Command) => {
      let report;
      {
        using chest = openChest(dir, 'read');
        const bar = progress('verifying', chest.size);
        try {
          report = chest.verify({ onProgress: (done) => bar.update(done) });
        } finally {
          bar.finish();
        }
      }
      const damaged = report.damaged.map(describeDamage);
      if (globals(command).json) {
        const { entries, checked, orphanFiles, ok } = report;
        await write(JSON.stringify({ ok, entries, checked, damaged, orphanFiles }) + '\n');
      } else {
        // The message too: the code alone does not tell a checksum from a folder in a file's place.
        for (const d of damaged) await write(`damaged ${JSON.stringify(d.key)}: ${d.code}: ${d.message}\n`);
        for (const file of report.orphanFiles) await write(`orphan file ${file}\n`);
        await write(
          `${counted(report.checked, 'entry', 'entries')} checked, ${damaged.length} damaged, ` +
            `${counted(report.orphanFiles.length, 'orphan file')}\n`,
        );
      }
      if (!report.ok) {
        throw new CliError(
          `${counted(damaged.length, 'damaged entry', 'damaged entries')}, ${counted(report.orphanFiles.length, 'orphan file')}: run chest repair`,
          ExitCode.FAILED,
        );
      }
    });
}
