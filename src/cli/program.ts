import fs from 'node:fs';
import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.js';
import { describeFailure, ExitCode } from './context.js';

const EXIT_CODES = `
Exit codes:
  0  done
  1  the operation failed (I/O error, damaged data, a value that cannot be shown as asked,
     a bad import line)
  2  usage error (unknown command or option, missing argument, key or value not valid JSON)
  3  no such path, or the path holds no chest
  4  no such key (get, rm)

Keys are JSON: '"name"', '7', '["user", 42]'; keys JSON cannot write are one-field objects:
{"$bigint":"12"}, {"$date":"2024-01-01T00:00:00.000Z"}, {"$undefined":true}, {"$number":"NaN"}.`;

function version(): string {
  const url = new URL('../../package.json', import.meta.url);
  try {
    return (JSON.parse(fs.readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Commander's usage errors (with a suggestion on a line of its own) as one line, like every failure. */
function oneLine(text: string): string {
  const message = text
    .trim()
    .replace(/^error: /, '')
    .replaceAll(/\s*\n\s*/g, ' ');
  return `${message} (see chest --help)`;
}

/** The `chest` program with every command registered. */
export function buildProgram(): Command {
  const program = new Command('chest')
    .description('Look into, query and change a spillchest chest on disk.')
    .version(version())
    .option('--json', 'machine-readable JSON output')
    // Each command's help lists --json too: it is given to the program but changes every command.
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', EXIT_CODES);
  for (const register of commands) register(program);
  // --json is parsed before commander finds what is wrong with the rest, wherever it stands.
  const outputError = (text: string): void => {
    const message = oneLine(text);
    const json = program.opts<{ json?: boolean }>().json === true;
    process.stderr.write(
      (json ? JSON.stringify({ error: message, exitCode: ExitCode.USAGE }) : `chest: ${message}`) + '\n',
    );
  };
  for (const command of [program, ...program.commands])
    command.exitOverride().configureOutput({ outputError });
  return program;
}

/** Runs the CLI on `argv` (without node and the script); resolves to the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end with exitCode 0; everything else commander rejects is usage.
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    const { message, exitCode, details } = describeFailure(error);
    // With --json, a failure is a JSON line too, for scripts that parse everything.
    const json = program.opts<{ json?: boolean }>().json === true;
    const line = json ? JSON.stringify({ error: message, exitCode, ...details }) : `chest: ${message}`;
    process.stderr.write(line + '\n');
    return exitCode;
  }
}
