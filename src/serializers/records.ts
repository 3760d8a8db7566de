import { C1, Packr } from 'msgpackr';
import { isChestError } from '../errors.js';
import type { StructureTable } from '../stores/types.js';
import { Fit, msgpackFit } from './fast-structured-check.js';
import { dumpFitting, packState, throwOnFunction } from './structured.js';

/**
 * Structures kept in a store's table, at most: msgpackr refers to the first 32 with one byte.
 * Objects of other shapes carry their structure inside the value, as they do without a table.
 */
const MAX_SHARED = 32;
/** Objects of more properties than this carry their structure: a dictionary's keys are no shape. */
const MAX_SHARED_KEYS = 64;

/**
 * The `structured` serializer's msgpack path with the record structures kept once in the store
 * (`StructureTable`) instead of in every value. A small record such as
 * `{ id, name, tags, score }` is then 22 bytes smaller (31 instead of 53 for id 999999), and its
 * names are neither written nor read per value.
 *
 * Only values the structured serializer would write with msgpackr as a tree (no shared references
 * or cycles: see fast-structured-check.ts) come here; the rest go through `structured` as before.
 * The bytes decode only with this store's table: the value codec stores them under a kind of their
 * own (`ValueKind.RECORDS`).
 *
 * New structures are recorded through msgpackr's `saveStructures`, which the table accepts only if
 * it still holds exactly the structures this packer knows: otherwise another process or chest added
 * some first, msgpackr merges theirs and packs again. A value is never written with a structure
 * the table does not hold. A structure another writer added is read from the table the first time
 * a value refers to it.
 */
export class SharedRecords {
  private packr: Packr;

  constructor(private readonly table: StructureTable) {
    this.packr = this.fresh();
  }

  /** Whether the last `dump` packed against the table (else the bytes are `structured`'s own). */
  shared = false;

  /**
   * The value's bytes: packed against the table when it is a tree msgpackr reproduces exactly, else
   * as `structured.dump` writes it (`shared` tells which). Errors of the table (a full disk, a
   * read-only chest) are thrown as they are; a value that cannot be serialized throws a TypeError.
   */
  dump(value: unknown): Uint8Array {
    this.shared = false;
    const fit = packState.packing ? Fit.NO : msgpackFit(value);
    if (fit === Fit.TREE) {
      packState.packing = true;
      try {
        const bytes = this.packr.pack(value);
        this.shared = true;
        return bytes;
      } catch (error) {
        // msgpackr may now hold a structure it could not record: start again from the table.
        this.reload();
        if (isChestError(error)) throw error;
        // Whatever msgpackr trips on goes to V8, as in `structured`.
      } finally {
        packState.packing = false;
      }
    }
    return dumpFitting(value, fit);
  }

  load(data: Uint8Array): unknown {
    const value: unknown = this.packr.unpack(
      Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    );
    // 0xc1 is never valid msgpack; msgpackr answers it with a marker object instead of throwing.
    if (value === C1) throw new TypeError('invalid msgpack: 0xc1');
    return value;
  }

  /**
   * Forgets the structures held in memory; the next pack or load reads the table. For when a
   * transaction that recorded structures was rolled back.
   */
  reload(): void {
    this.packr = this.fresh();
  }

  /**
   * Makes values packed against `source`'s table read the same against this one, so that they can
   * be copied byte for byte: true when one table starts with the other (this one then takes on the
   * structures it lacks), false when they differ.
   */
  adopt(source: SharedRecords): boolean {
    const theirs = source.table.read();
    let same = false;
    const extended = this.table.update((ours) => {
      if (startsWith(ours, theirs)) same = true;
      return !same && startsWith(theirs, ours);
    }, theirs);
    if (extended) this.reload();
    return same || extended;
  }

  private fresh(): Packr {
    const table = this.table;
    return new Packr({
      moreTypes: true,
      useRecords: true,
      writeFunction: throwOnFunction,
      maxSharedStructures: MAX_SHARED,
      shouldShareStructure: (keys: string[]) => keys.length <= MAX_SHARED_KEYS,
      getStructures: () => table.read(),
      // msgpackr passes a second argument its typings leave out: whether a stored list is the one
      // this packer last knew (and if not, it merges that list's structures into its own).
      saveStructures: (structures: object[], ...more: unknown[]) => {
        const isCompatible = more[0];
        if (typeof isCompatible !== 'function') throw new TypeError('msgpackr gave no compatibility check');
        return table.update(
          (stored) => (isCompatible as (stored: string[][]) => boolean)(stored),
          structures.map((keys) => Array.from(keys as string[])),
        );
      },
    });
  }
}

function startsWith(list: readonly (readonly string[])[], prefix: readonly (readonly string[])[]): boolean {
  if (prefix.length > list.length) return false;
  return prefix.every((keys, i) => {
    const other = list[i]!;
    return keys.length === other.length && keys.every((key, j) => key === other[j]);
  });
}
