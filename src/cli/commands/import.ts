import fs from 'node:fs';
import readline from 'node:readline';
import type { Command } from 'commander';
import { CliError, ExitCode, globals, openChest, write } from '../context.js';
import { fromLine } from '../json.js';
import { progress } from '../progress.js';

export function register(program: Command): void {
  program
    .command('import')
    .description('read NDJSON lines as written by "chest export" into a chest, created if missing')
    .argument('<path>', "the chest's directory")
    .argument('[file]', 'the NDJSON file (default: stdin)')
    .action(async (dir: string, file: string | undefined, _options: object, command: Command) => {
      if (file !== undefined && !fs.existsSync(file))
        throw new CliError(`no such file: ${file}`, ExitCode.USAGE);
      const input = file === undefined ? process.stdin : fs.createReadStream(file);
      const total = file === undefined ? undefined : fs.statSync(file).size;
      const bar = progress('importing', total);
      let count = 0;
      let bytes = 0;
      let lineNumber = 0;
      using chest = openChest(dir, 'create');
      try {
        for await (const text of readline.createInterface({ input, crlfDelay: Infinity })) {
          lineNumber++;
          bytes += Buffer.byteLength(text) + 1;
          if (text.trim() === '') continue;
          let entry: ReturnType<typeof fromLine>;
          try {
            entry = fromLine(text);
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            throw new CliError(`line ${lineNumber}: ${reason}`, ExitCode.FAILED);
          }
          chest.set(entry.key, entry.value);
          count++;
          bar.update(total === undefined ? count : bytes);
        }
      } finally {
        bar.finish();
      }
      if (globals(command).json) await write(JSON.stringify({ imported: count }) + '\n');
    });
}
