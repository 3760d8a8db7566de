import fs from 'node:fs';
import type { Command } from 'commander';
import { CliError, ExitCode, globals, openChest, write } from '../context.js';
import { keyToJson, parseKey } from '../json.js';

export function register(program: Command): void {
  program
    .command('set')
    .description('set a key to a JSON value (--text: to the text as it is)')
    .argument('<path>', "the chest's directory (created with --create)")
    .argument('<key>', 'the key as JSON')
    .argument('<value>', 'the value as JSON')
    .option('--text', 'store <value> as a string instead of parsing it as JSON')
    .option('--create', 'create the chest if the path holds none')
    .action(
      async (
        dir: string,
        keyText: string,
        valueText: string,
        options: { text?: boolean; create?: boolean },
        command: Command,
      ) => {
        const key = parseKey(keyText);
        let value: unknown = valueText;
        if (options.text !== true) {
          try {
            value = JSON.parse(valueText);
          } catch {
            throw new CliError(`value is not valid JSON: ${valueText} (use --text for text)`, ExitCode.USAGE);
          }
        }
        // The first set on a new path is where a newcomer meets --create: say so.
        if (options.create !== true && !fs.existsSync(dir))
          throw new CliError(`no such path: ${dir} (--create makes a new chest there)`, ExitCode.NO_CHEST);
        {
          using chest = openChest(dir, options.create === true ? 'create' : 'write');
          chest.set(key, value);
        }
        if (globals(command).json) await write(JSON.stringify({ set: keyToJson(key) }) + '\n');
      },
    );
}
