import fs from 'node:fs';
import readline from 'node:readline';
import type { Command } from 'commander';
import { encodeKey } from '../../keys/codec.js';
import type { Key } from '../../keys/types.js';
import { MAX_KEY_BYTES } from '../../stores/lmdb/store.js';
import { assertChest, CliError, describeFailure, ExitCode, globals, openChest, write } from '../context.js';
import { fromLine } from '../json.js';
import { progress } from '../progress.js';

/** A line that cannot be imported, by its number in the input (from 1, blank lines counted). */
interface BadLine {
  line: number;
  error: string;
}

/** The lines of the input, numbered, blank ones skipped; `bytes` read so far, for the bar. */
async function* numberedLines(input: NodeJS.ReadableStream): AsyncGenerator<[number, string, number]> {
  let number = 0;
  let bytes = 0;
  for await (const text of readline.createInterface({ input, crlfDelay: Infinity })) {
    number++;
    bytes += Buffer.byteLength(text) + 1;
    if (text.trim() !== '') yield [number, text, bytes];
  }
}

/** The entry of one line, checked as `set` would check it, without a chest. */
function check(text: string): { key: Key; value: unknown } {
  const entry = fromLine(text);
  const length = encodeKey(entry.key).byteLength;
  if (length > MAX_KEY_BYTES)
    throw new Error(`a key of ${length} encoded bytes is longer than a chest's limit of ${MAX_KEY_BYTES}`);
  return entry;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const entries = (n: number): string => `${n.toLocaleString('en-US')} ${n === 1 ? 'entry' : 'entries'}`;

export function register(program: Command): void {
  program
    .command('import')
    .description(
      'read NDJSON lines as written by "chest export" into a chest, created if missing; ' +
        'stops at the first bad line, keeping the entries before it',
    )
    .argument('<path>', "the chest's directory")
    .argument('[file]', 'the NDJSON file (default: stdin)')
    .option('--dry-run', 'check every line and report the bad ones, writing nothing')
    .action(
      async (dir: string, file: string | undefined, options: { dryRun?: boolean }, command: Command) => {
        if (file !== undefined && !fs.existsSync(file))
          throw new CliError(`no such file: ${file}`, ExitCode.USAGE);
        const input = file === undefined ? process.stdin : fs.createReadStream(file);
        const total = file === undefined ? undefined : fs.statSync(file).size;
        const json = globals(command).json;
        if (options.dryRun === true) {
          // The path as the import would take it: a chest, an empty folder or nothing yet.
          const empty =
            fs.existsSync(dir) && fs.statSync(dir).isDirectory() && fs.readdirSync(dir).length === 0;
          if (fs.existsSync(dir) && !empty) assertChest(dir);
          return await dryRun(input, total, json);
        }

        const bar = progress('importing', total);
        let count = 0;
        let bad: BadLine | undefined;
        const chest = openChest(dir, 'create');
        try {
          // Breaking out of the loop closes the input: nothing after a bad line is read.
          for await (const [line, text, bytes] of numberedLines(input)) {
            try {
              const entry = fromLine(text);
              chest.set(entry.key, entry.value);
            } catch (error) {
              bad = { line, error: describeFailure(error).message };
              break;
            }
            count++;
            bar.update(total === undefined ? count : bytes);
          }
        } finally {
          bar.finish();
          // Closing commits what was set; a failure here is reported as it is, since then the count
          // of what stays is not known.
          chest.close();
        }
        if (bad !== undefined) {
          const kept =
            count === 0
              ? 'nothing was imported'
              : count === 1
                ? 'the entry before it is imported and stays in the chest, the rest is not'
                : `the ${entries(count)} before it are imported and stay in the chest, the rest is not`;
          throw new CliError(
            `import stopped at line ${bad.line}: ${bad.error}; ${kept} (--dry-run lists every bad line)`,
            ExitCode.FAILED,
            { line: bad.line, imported: count },
          );
        }
        await write(json ? JSON.stringify({ imported: count }) + '\n' : `${entries(count)} imported\n`);
      },
    );
}

/** Checks every line, lists the bad ones on stdout and fails if there is one; opens no chest. */
async function dryRun(input: NodeJS.ReadableStream, total: number | undefined, json: boolean): Promise<void> {
  const bar = progress('checking', total);
  let checked = 0;
  const bad: BadLine[] = [];
  try {
    for await (const [line, text, bytes] of numberedLines(input)) {
      checked++;
      try {
        check(text);
      } catch (error) {
        bad.push({ line, error: reasonOf(error) });
        if (!json) await write(`line ${line}: ${reasonOf(error)}\n`);
      }
      bar.update(total === undefined ? checked : bytes);
    }
  } finally {
    bar.finish();
  }
  if (json) await write(JSON.stringify({ ok: bad.length === 0, checked, bad }) + '\n');
  else await write(`${checked.toLocaleString('en-US')} lines checked, ${bad.length} bad\n`);
  if (bad.length > 0) {
    throw new CliError(
      `${bad.length} bad ${bad.length === 1 ? 'line' : 'lines'}, the first at line ${bad[0]!.line}; nothing was imported`,
      ExitCode.FAILED,
    );
  }
}
