/**
 * Stable error codes. Tests and callers match on `code`, never on the message.
 * Misuse of the API (a bad option, an unsupported key type) is a plain `TypeError` or `RangeError`;
 * a `ChestError` means the data or its surroundings are not as they should be.
 *
 * @example
 * ```ts
 * import fs from 'node:fs';
 * import { Chest, ErrorCode, isChestError } from 'spillchest';
 *
 * fs.mkdirSync('./notes');
 * fs.writeFileSync('./notes/todo.txt', 'not a chest');
 * try {
 *   new Chest({ path: './notes' });
 * } catch (error) {
 *   console.log(isChestError(error, ErrorCode.NOT_A_CHEST)); // true
 * }
 * ```
 */
export const ErrorCode = {
  /** The chest was closed (or dropped); open a new one. */
  CLOSED: 'CHEST_CLOSED',
  /** A stored value or index entry failed its checksum or could not be decoded. */
  CORRUPT: 'CHEST_CORRUPT',
  /** A value's file is missing although the index lists it. */
  MISSING_FILE: 'CHEST_MISSING_FILE',
  /** The directory is not a chest, or was written by a newer format version. */
  NOT_A_CHEST: 'CHEST_NOT_A_CHEST',
  /** Format version of the directory is newer than this library understands. */
  FORMAT_VERSION: 'CHEST_FORMAT_VERSION',
  /** The chest was written with another serializer or compression than the one given. */
  SERIALIZER_MISMATCH: 'CHEST_SERIALIZER_MISMATCH',
  /** One or more values could not be serialized; they stay in memory. */
  UNSERIALIZABLE: 'CHEST_UNSERIALIZABLE',
  /** The disk (or the chest's disk quota) is full. Nothing already stored was lost. */
  DISK_FULL: 'CHEST_DISK_FULL',
  /** Another I/O error from the file system or the index. */
  IO: 'CHEST_IO',
  /** A write was attempted on a chest opened read-only. */
  READ_ONLY: 'CHEST_READ_ONLY',
  /** The store is locked by another user in a way that prevents this operation. */
  LOCKED: 'CHEST_LOCKED',
  /** The encoded key is longer than the index can hold. */
  KEY_TOO_LONG: 'CHEST_KEY_TOO_LONG',
  /**
   * A store on another machine (Redis) could not be reached: the call was not done, or its outcome
   * is unknown. Everything acknowledged before is kept; the client reconnects, and a retry may work.
   */
  UNAVAILABLE: 'CHEST_UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * @example
 * ```ts
 * import { ChestError, ErrorCode } from 'spillchest';
 *
 * const error = new ChestError(ErrorCode.CORRUPT, 'checksum mismatch', { keys: ['x'], file: 'x' });
 * console.log(error.code, error.keys, error.file); // CHEST_CORRUPT [ 'x' ] x
 * ```
 */
export interface ChestErrorOptions {
  cause?: unknown;
  /** Keys the error concerns, when it concerns some. */
  keys?: readonly unknown[];
  /** File the error concerns, when it concerns one. */
  file?: string;
}

/**
 * The one error class of the library. `code` is stable; `cause` carries the underlying error.
 *
 * @example
 * ```ts
 * import { Chest, ChestError, ErrorCode } from 'spillchest';
 *
 * const chest = new Chest();
 * chest.close();
 * try {
 *   chest.get('x');
 * } catch (error) {
 *   if (error instanceof ChestError && error.code === ErrorCode.CLOSED) console.log('closed already');
 * }
 * ```
 */
export class ChestError extends Error {
  override readonly name = 'ChestError';
  readonly code: ErrorCode;
  readonly keys: readonly unknown[] | undefined;
  readonly file: string | undefined;

  constructor(code: ErrorCode, message: string, options: ChestErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.keys = options.keys;
    this.file = options.file;
  }
}

/**
 * True for a `ChestError`, optionally of one code.
 *
 * @example
 * ```ts
 * import { Chest, isChestError } from 'spillchest';
 *
 * const chest = new Chest();
 * chest.close();
 * try {
 *   chest.set('x', 1);
 * } catch (error) {
 *   if (isChestError(error)) console.log(error.code); // CHEST_CLOSED
 * }
 * ```
 */
export function isChestError(error: unknown, code?: ErrorCode): error is ChestError {
  return error instanceof ChestError && (code === undefined || error.code === code);
}

const DISK_FULL_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/**
 * Wraps an error from the file system or the index in a `ChestError`, mapping ENOSPC, EDQUOT and
 * EFBIG to `DISK_FULL`. A `ChestError` passes through unchanged. (LMDB has been seen to report a
 * full disk as EIO; telling that apart is not done yet.)
 */
export function ioError(message: string, cause: unknown, file?: string): ChestError {
  if (cause instanceof ChestError) return cause;
  const errno = (cause as { code?: unknown } | null)?.code;
  const full = typeof errno === 'string' && DISK_FULL_ERRNOS.has(errno);
  const opts: ChestErrorOptions = { cause };
  if (file !== undefined) opts.file = file;
  return new ChestError(full ? ErrorCode.DISK_FULL : ErrorCode.IO, message, opts);
}

/** A `ChestError` about a key's stored data, restated to name the key; other errors unchanged. */
export function namingKey(error: unknown, key: unknown, described: string): unknown {
  if (!(error instanceof ChestError) || error.keys !== undefined) return error;
  const opts: ChestErrorOptions = { cause: error, keys: [key] };
  if (error.file !== undefined) opts.file = error.file;
  return new ChestError(error.code, `${error.message} (key ${described})`, opts);
}

/** Describes a value's type for error messages: `object (Foo)`, `symbol`, `function`. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  const t = typeof value;
  if (t !== 'object') return t;
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== 'Object' ? `object (${ctor.name})` : 'object';
}
