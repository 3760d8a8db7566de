import { ChestError, ErrorCode } from '../errors.js';
import { resolveSerializer, type SerializerOption } from '../serializers/index.js';
import { hasDerivedName } from '../serializers/custom.js';
import type { Serializer } from '../serializers/types.js';
import { SharedRecords } from '../serializers/records.js';
import { structured } from '../serializers/structured.js';
import type { ChestMeta, StructureTable } from '../stores/types.js';
import { compressionName } from '../values/compression.js';
import { ValueCodec } from '../values/codec.js';
import type { Codec } from '../values/kinds.js';

/**
 * On-disk format version written by this library (2: index entries carry version stamps; 3: their
 * checksums are sealed with the value's kind and codec tags, and a compressed value records its
 * decompressed length; 4: values of the `structured` serializer refer to record structures kept
 * once in the store). Older formats are read, and a chest of one is marked as this format once it
 * is opened for writing.
 *
 * @example
 * ```ts
 * import { FORMAT_VERSION } from 'spillchest';
 *
 * console.log(`chests written now are in format ${FORMAT_VERSION}`);
 * ```
 */
export const FORMAT_VERSION = 4;

/** The serialization options of a chest. */
export interface SerializerOptions<V> {
  serializer?: SerializerOption<V>;
  dump?: (value: V) => Uint8Array | string;
  load?: ((text: string) => V) | ((bytes: Uint8Array) => V);
  serializerName?: string;
}

/**
 * What `serializerFor` checks of a new chest's serializer, before anything is created for it: the
 * serializer options are valid, and a pair of functions to be recorded has a name.
 */
export function checkNewSerializer<V>(options: SerializerOptions<V>, kept: boolean): void {
  serializerFor(undefined, options, '', kept);
}

/**
 * Checks a store's record of its format and serializer against the options; returns the serializer
 * to use. Without a serializer in the options, the recorded one is used. `kept` says whether a new
 * manifest outlives this chest (a path, or a store that persists), for another one to open.
 */
export function serializerFor<V>(
  meta: ChestMeta | undefined,
  options: SerializerOptions<V>,
  location: string,
  kept: boolean,
): Serializer<V> {
  const explicit =
    options.serializer !== undefined ||
    options.dump !== undefined ||
    options.load !== undefined ||
    options.serializerName !== undefined;
  const given = (): Serializer<V> =>
    resolveSerializer<V>(options.serializer, options.dump, options.load, options.serializerName);
  if (meta === undefined) {
    const serializer = given();
    if (kept && hasDerivedName(serializer)) {
      // Recorded, the made-up name would let any other unnamed pair reopen the chest.
      throw new TypeError(
        `a chest that is kept needs its dump and load to have a name: give serializerName (or use fromFunctions(dump, load, name)); ${serializer.name}, made from the functions' names, would not tell them from other functions`,
      );
    }
    return serializer;
  }
  if (meta.format > FORMAT_VERSION) {
    throw new ChestError(
      ErrorCode.FORMAT_VERSION,
      `${location} was written in format ${meta.format}; this version reads format ${FORMAT_VERSION} and older`,
    );
  }
  const recorded = JSON.stringify(meta.serializer);
  if (!explicit) {
    try {
      return resolveSerializer<V>(meta.serializer as SerializerOption<V>);
    } catch {
      throw new ChestError(
        ErrorCode.SERIALIZER_MISMATCH,
        `${location} was written with the serializer ${meta.serializer}; pass the same serializer to open it (a Serializer named ${recorded}, or dump and load with serializerName: ${recorded})`,
      );
    }
  }
  const serializer = given();
  if (hasDerivedName(serializer)) {
    // Even when it equals the recorded name, it does not say these functions wrote the chest.
    throw new ChestError(
      ErrorCode.SERIALIZER_MISMATCH,
      `${location} was written with the serializer ${meta.serializer}, and the dump and load given have no name to check against it (${serializer.name} is made from the functions' names); give them one: if they read the format this chest was written in, serializerName: ${recorded} opens it`,
    );
  }
  if (serializer.name !== meta.serializer) {
    throw new ChestError(
      ErrorCode.SERIALIZER_MISMATCH,
      `${location} was written with the serializer ${meta.serializer}, not ${serializer.name}`,
    );
  }
  return serializer;
}

/**
 * The manifest to record when a chest of an older format is opened for writing, before any entry of
 * this format is written: older versions then refuse it with CHEST_FORMAT_VERSION instead of meeting
 * entries they cannot read. `undefined` when the chest is of this format already.
 */
export function upgradedMeta(meta: ChestMeta): ChestMeta | undefined {
  return meta.format < FORMAT_VERSION ? { ...meta, format: FORMAT_VERSION } : undefined;
}

/** The manifest a new chest records. */
export function newMeta(codec: ValueCodec): ChestMeta {
  return {
    format: FORMAT_VERSION,
    serializer: codec.serializer.name,
    compression: compressionName(codec.codec),
  };
}

/**
 * The value codec of a chest: with the `structured` serializer on a store that keeps a structure
 * table, records are packed against that table (src/serializers/records.ts).
 */
export function valueCodec(
  serializer: Serializer,
  codec: Codec,
  table: StructureTable | undefined,
): ValueCodec {
  const records = serializer === structured && table !== undefined ? new SharedRecords(table) : undefined;
  return new ValueCodec(serializer, codec, records);
}
