export { Chest, FORMAT_VERSION, DEFAULT_INLINE_THRESHOLD } from './chest.js';
export type { ChestOptions, ChestStats } from './chest.js';
export type { CompactReport, Damage, MaintenanceOptions, RepairReport, VerifyReport } from './maintenance.js';
export { AsyncChest } from './async-chest.js';
export type { AsyncChestOptions } from './async-chest.js';
export { ChestError, ErrorCode, isChestError } from './errors.js';
export type { ChestErrorOptions } from './errors.js';
export type { Key, KeyAtom } from './keys/types.js';
export type { KeyQuery } from './query/ordered.js';
export { defaultKeyToFilename } from './keys/filename.js';
export { sizeOf, sizeOfValue } from './memory/size.js';
export { ENTRY_OVERHEAD } from './memory/tier.js';
export type { EvictionPolicy } from './memory/tier.js';
export type { MemorySize } from './options/memory.js';
export { fromFunctions, json, msgpack, structured } from './serializers/index.js';
export type { Serializer, SerializerName, SerializerOption } from './serializers/index.js';
export type { CompressionName } from './values/compression.js';
export { LmdbStore } from './stores/lmdb/store.js';
export type { LmdbStoreOptions } from './stores/lmdb/store.js';
export { MemoryStore } from './stores/memory.js';
export { SyncStoreAdapter, isSyncStore, toAsyncStore } from './stores/async.js';
export type {
  AnyStore,
  AsyncStore,
  ChangeFeed,
  ChestMeta,
  EntryInfo,
  KeyRange,
  StoreDamage,
  StoreFeatures,
  StoredValue,
  StructureTable,
  SyncStore,
  WriteOp,
} from './stores/types.js';
