/**
 * What every command shares: exit codes, the one-line error, opening a chest by path, and output.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Chest } from '../chest.js';
import { ErrorCode, isChestError } from '../errors.js';
import type { Key } from '../keys/types.js';
import type { Serializer } from '../serializers/types.js';
import { INDEX_DIR, LmdbStore } from '../stores/lmdb/store.js';

/** Exit codes scripts can rely on. Documented in the README and in `chest --help`. */
export const ExitCode = {
  /** Done. */
  OK: 0,
  /** The operation failed (an I/O error, a damaged entry, a value that cannot be shown as asked). */
  FAILED: 1,
  /** Bad usage: an unknown command or option, a missing argument, a key that is not valid JSON. */
  USAGE: 2,
  /** The path does not exist or holds no chest. */
  NO_CHEST: 3,
  /** The key is not in the chest (`get`, `rm`). */
  NO_KEY: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error the CLI reports as one line, exiting with `exitCode`. `details` are added to the JSON
 * line `--json` writes, for scripts that would otherwise have to parse the message.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The exit code and one-line message for anything a command throws. */
export function describeFailure(error: unknown): {
  message: string;
  exitCode: ExitCode;
  details?: Readonly<Record<string, unknown>>;
} {
  // The library wraps what a serializer throws (see `foreignSerializer`) in errors of its own.
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause)
    if (cause instanceof CliError && cause !== error) return describeFailure(cause);
  if (error instanceof CliError)
    return { message: error.message, exitCode: error.exitCode, details: error.details };
  if (isChestError(error)) {
    const noChest = error.code === ErrorCode.NOT_A_CHEST;
    return {
      message: `${error.code}: ${firstLine(error.message)}`,
      exitCode: noChest ? ExitCode.NO_CHEST : ExitCode.FAILED,
    };
  }
  // Misuse caught by the library, such as a key of an unsupported type.
  if (error instanceof TypeError || error instanceof RangeError)
    return { message: firstLine(error.message), exitCode: ExitCode.USAGE };
  const message = error instanceof Error ? error.message : String(error);
  return { message: firstLine(message), exitCode: ExitCode.FAILED };
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!;
}

/** Options every command accepts. */
export interface GlobalOptions {
  json: boolean;
}

export function globals(command: Command): GlobalOptions {
  const options = command.optsWithGlobals<{ json?: boolean }>();
  return { json: options.json === true };
}

/** Checks that `dir` holds a chest, with the CLI's own messages. */
export function assertChest(dir: string): string {
  const full = path.resolve(dir);
  if (!fs.existsSync(full)) throw new CliError(`no such path: ${dir}`, ExitCode.NO_CHEST);
  if (!fs.statSync(full).isDirectory() || !fs.existsSync(path.join(full, INDEX_DIR)))
    throw new CliError(`not a chest: ${dir} (no ${INDEX_DIR} folder)`, ExitCode.NO_CHEST);
  return full;
}

/**
 * Opens the chest at `dir`. Read-only unless `write`; with `create`, a missing chest is made.
 * The memory budget is kept small: the CLI streams through a chest rather than holding it.
 */
export function openChest(dir: string, mode: 'read' | 'write' | 'create' = 'read'): Chest {
  const full = mode === 'create' ? path.resolve(dir) : assertChest(dir);
  const options = { path: full, readOnly: mode === 'read', availableMemory: '64 MB' } as const;
  try {
    return new Chest<Key, unknown>(options);
  } catch (error) {
    if (!isChestError(error, ErrorCode.SERIALIZER_MISMATCH)) throw error;
    // Written with the program's own dump and load: what needs no value (keys, checksums, files,
    // compaction) still works, and a value asked for fails naming the serializer.
    const name = recordedSerializer(full);
    if (name === undefined) throw error;
    return new Chest<Key, unknown>({ ...options, serializer: foreignSerializer(name) });
  }
}

function recordedSerializer(dir: string): string | undefined {
  const store = openIndex(dir);
  try {
    return store.readMeta()?.serializer;
  } finally {
    store.close();
  }
}

/** The index of the chest at `dir` (a full path), read-only: entries and the manifest, no values. */
export function openIndex(dir: string): LmdbStore {
  return new LmdbStore({
    path: dir,
    inlineThreshold: 0,
    readOnly: true,
    fileName: () => {
      throw new Error('a read-only store names no files');
    },
  });
}

/** Stands for a serializer the CLI does not have: every value through it fails with one message. */
function foreignSerializer(name: string): Serializer {
  const refuse = (): never => {
    throw new CliError(
      `this chest's values were written with the serializer ${name}, which only the program that wrote them has; ls, info, verify, repair and compact work without it, and get --raw gives a binary value's bytes`,
      ExitCode.FAILED,
    );
  };
  return { name, dump: refuse, load: refuse };
}

/** Writes to stdout, waiting when the pipe is full so that a large export does not pile up in memory. */
export async function write(text: string | Uint8Array): Promise<void> {
  if (process.stdout.write(text)) return;
  await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}

/** Parses `--limit` and the like: a whole number >= 0. */
export function wholeNumber(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n) || n < 0)
    throw new CliError(`not a whole number: ${text}`, ExitCode.USAGE);
  return n;
}

/** `1234567` as `1.2 MB`. */
/** `1 orphan file`, `2 orphan files`: a count with its noun, singular for one. */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]!}`;
}
