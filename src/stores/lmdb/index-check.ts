import fs from 'node:fs';
import path from 'node:path';
import { ChestError, ErrorCode } from '../../errors.js';

/**
 * A check of an index file before LMDB maps it. LMDB trusts its file: a `data.mdb` cut short makes
 * it read past the end of the mapping and the process dies of SIGBUS or SIGSEGV, which no caller can
 * catch. So the two meta pages are read first (the layout of the LMDB that lmdb-js 3 builds: a
 * 24-byte page header, then the meta: magic, version, address, map size, two table records, last
 * page, transaction id), and the file must be long enough for the pages the newest valid meta says
 * are in use. LMDB checks the rest of the meta itself, with an error it reports.
 */
const MAGIC = 0xbeefc0de;
const META_AT = 24;
/** Offsets inside the meta: page size (in the free table's record), roots, last page, txn id. */
const PAGE_SIZE_AT = META_AT + 24;
const FREE_ROOT_AT = META_AT + 64;
const MAIN_ROOT_AT = META_AT + 112;
const LAST_PAGE_AT = META_AT + 120;
const TXN_AT = META_AT + 128;
const META_BYTES = TXN_AT + 8;

interface Meta {
  readonly pageSize: number;
  readonly lastPage: bigint;
  readonly txn: bigint;
  readonly roots: readonly bigint[];
}

export function checkIndexFile(indexDir: string, readOnly: boolean): void {
  const file = path.join(indexDir, 'data.mdb');
  let bytes: Buffer;
  let size: number;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      size = fs.fstatSync(fd).size;
      bytes = Buffer.alloc(Math.min(size, 2 * 65536));
      fs.readSync(fd, bytes, 0, bytes.length, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // No index yet (LMDB creates it), or one LMDB will fail to open with an error of its own.
    return;
  }
  // An empty file is what a crash while the index was first created leaves: LMDB initializes it,
  // unless it may not write.
  if (size === 0 && !readOnly) return;
  const first = readMeta(bytes, 0);
  const second = first === undefined ? undefined : readMeta(bytes, first.pageSize);
  const metas = [first, second].filter((m): m is Meta => m !== undefined);
  const newest = metas.sort((a, b) => (a.txn < b.txn ? 1 : -1))[0];
  if (newest === undefined) throw damaged(file, 'it has no valid meta page');
  const needed = (newest.lastPage + 1n) * BigInt(newest.pageSize);
  if (BigInt(size) < needed)
    throw damaged(file, `it is ${size} bytes, its meta page says ${needed} are in use`);
  for (const root of newest.roots) {
    if (root !== -1n && root > newest.lastPage) throw damaged(file, 'a table root lies past its end');
  }
}

function readMeta(bytes: Buffer, at: number): Meta | undefined {
  if (bytes.length < at + META_BYTES || bytes.readUInt32LE(at + META_AT) !== MAGIC) return undefined;
  const pageSize = bytes.readUInt32LE(at + PAGE_SIZE_AT);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  return {
    pageSize,
    lastPage: bytes.readBigUInt64LE(at + LAST_PAGE_AT),
    txn: bytes.readBigUInt64LE(at + TXN_AT),
    // An empty table's root is P_INVALID (all ones).
    roots: [bytes.readBigInt64LE(at + FREE_ROOT_AT), bytes.readBigInt64LE(at + MAIN_ROOT_AT)],
  };
}

function damaged(file: string, why: string): ChestError {
  return new ChestError(ErrorCode.CORRUPT, `the index ${file} is damaged: ${why}`, { file });
}
