/**
 * lmdb-js transaction flags: abortable (1), committed before returning (2), and 0x10000, passed on to
 * LMDB as MDB_NOSYNC for that transaction: visible at once, made durable by the next synced commit.
 * Its typings declare the enum without exporting its values. A module of its own so that the spill
 * thread takes them without loading the store.
 */
export const COMMIT_NO_FLUSH = 0x10003;
/** Committed and synced before returning. */
export const COMMIT_AND_FLUSH = 3;
