import { Buffer } from 'node:buffer';
import { inspect } from 'node:util';
import type { Command } from 'commander';
import { CliError, ExitCode, globals, openChest, write } from '../context.js';
import { binaryOf, parseKey, toLine } from '../json.js';

export function register(program: Command): void {
  program
    .command('get')
    .description("print a key's value (--raw: its bytes; --json: an export line)")
    .argument('<path>', "the chest's directory")
    .argument('<key>', "the key as JSON: '\"name\"', '[\"user\", 42]', '7'")
    .option('--raw', "write the value's bytes to stdout (binary values and strings)")
    .action(async (dir: string, keyText: string, options: { raw?: boolean }, command: Command) => {
      const key = parseKey(keyText);
      using chest = openChest(dir);
      if (!chest.has(key)) throw new CliError(`no such key: ${keyText}`, ExitCode.NO_KEY);
      const value = chest.get(key);
      if (options.raw === true) {
        if (typeof value === 'string') return await write(value);
        const binary = binaryOf(value);
        if (binary === undefined)
          throw new CliError('--raw needs a binary value or a string; this one is not', ExitCode.FAILED);
        return await write(
          Buffer.from(binary.bytes.buffer, binary.bytes.byteOffset, binary.bytes.byteLength),
        );
      }
      if (globals(command).json) return await write(JSON.stringify(toLine(key, value)) + '\n');
      const colors = process.stdout.isTTY;
      return await write(
        inspect(value, { depth: null, colors, maxArrayLength: 20, breakLength: 100 }) + '\n',
      );
    });
}
