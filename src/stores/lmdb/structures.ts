import { ChestError, ErrorCode } from '../../errors.js';
import { crc32 } from '../../values/crc32.js';

/**
 * How the index keeps the table of shared record structures (see `StructureTable`): one entry of
 * the manifest table, JSON text `{"crc":<crc32 of the list's JSON>,"list":[["id","name"],...]}`. A
 * damaged table would give every record that refers to it the wrong property names, so it carries
 * a checksum of its own and a damaged one is `CHEST_CORRUPT`, never read.
 */
export const STRUCTURES_KEY = 'structures';

/** Text to store for `list`. JSON keeps any string, lone surrogates included. */
export function encodeStructures(list: readonly (readonly string[])[]): string {
  const text = JSON.stringify(list);
  return `{"crc":${crc32(Buffer.from(text, 'utf8'))},"list":${text}}`;
}

/** The list stored as `text` ([] for none); `CHEST_CORRUPT` naming `location` when it is damaged. */
export function decodeStructures(text: string | undefined, location: string): string[][] {
  if (text === undefined) return [];
  const damaged = (what: string, cause?: unknown): ChestError =>
    new ChestError(ErrorCode.CORRUPT, `the record structures of ${location} are damaged: ${what}`, { cause });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw damaged('not JSON', error);
  }
  if (typeof parsed !== 'object' || parsed === null) throw damaged('not an object');
  const { crc, list } = parsed as { crc?: unknown; list?: unknown };
  if (!Array.isArray(list) || !list.every(isKeyList)) throw damaged('not a list of property names');
  if (crc !== crc32(Buffer.from(JSON.stringify(list), 'utf8'))) throw damaged('checksum mismatch');
  return list;
}

function isKeyList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((key) => typeof key === 'string');
}
