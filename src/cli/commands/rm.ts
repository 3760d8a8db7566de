import type { Command } from 'commander';
import { CliError, ExitCode, globals, openChest, write } from '../context.js';
import { keyToJson, parseKey } from '../json.js';

export function register(program: Command): void {
  program
    .command('rm')
    .description('delete keys; exit code 4 if one of them was not there')
    .argument('<path>', "the chest's directory")
    .argument('<keys...>', 'the keys as JSON')
    .action(async (dir: string, keyTexts: string[], _options: object, command: Command) => {
      const keys = keyTexts.map(parseKey);
      const missing: string[] = [];
      const removed: unknown[] = [];
      {
        using chest = openChest(dir, 'write');
        keys.forEach((key, i) => {
          if (chest.delete(key)) removed.push(keyToJson(key));
          else missing.push(keyTexts[i]!);
        });
      }
      if (globals(command).json) await write(JSON.stringify({ removed, missing }) + '\n');
      if (missing.length > 0) throw new CliError(`no such key: ${missing.join(', ')}`, ExitCode.NO_KEY);
    });
}
