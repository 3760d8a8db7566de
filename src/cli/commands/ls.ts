import type { Command } from 'commander';
import type { Key } from '../../keys/types.js';
import type { KeyQuery } from '../../query/ordered.js';
import { CliError, ExitCode, globals, openChest, wholeNumber, write } from '../context.js';
import { keyToJson, parseKey } from '../json.js';

interface LsOptions {
  prefix?: string;
  start?: string;
  end?: string;
  limit?: number;
}

function prefixOf(text: string): string | readonly Key[] {
  const prefix = parseKey(text);
  if (typeof prefix === 'string' || Array.isArray(prefix)) return prefix;
  throw new CliError(`--prefix must be a JSON string or array, got ${text}`, ExitCode.USAGE);
}

export function register(program: Command): void {
  program
    .command('ls')
    .description('list keys in key order, one JSON key per line')
    .argument('<path>', "the chest's directory")
    .option('--prefix <json>', 'only keys starting with this tuple prefix (["user", 42]) or string ("log:")')
    .option('--start <json>', 'the first key to list (inclusive)')
    .option('--end <json>', 'the key to stop before (exclusive)')
    .option('--limit <n>', 'list at most n keys', wholeNumber)
    .action(async (dir: string, options: LsOptions, command: Command) => {
      const query: { -readonly [P in keyof KeyQuery]: KeyQuery[P] } = {};
      if (options.prefix !== undefined) query.prefix = prefixOf(options.prefix);
      if (options.start !== undefined) query.start = parseKey(options.start);
      if (options.end !== undefined) query.end = parseKey(options.end);
      if (options.limit !== undefined) query.limit = options.limit;
      const json = globals(command).json;
      using chest = openChest(dir);
      if (json) await write('[');
      let first = true;
      for (const key of chest.keys(query)) {
        const text = JSON.stringify(keyToJson(key));
        await write(json ? (first ? text : ',' + text) : text + '\n');
        first = false;
      }
      if (json) await write(']\n');
    });
}
