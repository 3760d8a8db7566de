/**
 * Where each peer lives, so that a child process loads only the library it measures (loading every
 * peer's library would add their memory to every peer's figures).
 */
import type { Peer } from '../lib/types.js';

const MODULES: Readonly<Record<string, readonly [file: string, exportName: string]>> = {
  chest: ['chest', 'chestPeer'],
  'chest-lru': ['chest', 'chestLruPeer'],
  'chest-immutable': ['chest', 'chestImmutablePeer'],
  'async-chest': ['async-chest', 'asyncChestPeer'],
  'async-chest-redis': ['async-chest', 'asyncChestRedisPeer'],
  map: ['map', 'mapPeer'],
  'lru-cache': ['lru-cache', 'lruCachePeer'],
  lmdb: ['lmdb', 'lmdbPeer'],
  'classic-level': ['classic-level', 'classicLevelPeer'],
  'node-persist': ['node-persist', 'nodePersistPeer'],
  cacache: ['cacache', 'cacachePeer'],
  'flat-cache': ['flat-cache', 'flatCachePeer'],
  'keyv-file': ['keyv-file', 'keyvFilePeer'],
  fs: ['fs', 'fsPeer'],
  'fs-readsync': ['fs', 'fsReadSyncPeer'],
};

export const PEER_NAMES: readonly string[] = Object.keys(MODULES);

export async function loadPeer(name: string): Promise<Peer> {
  const entry = MODULES[name];
  if (!entry) throw new Error(`unknown peer "${name}" (known: ${PEER_NAMES.join(', ')})`);
  const mod = (await import(new URL(`./${entry[0]}.js`, import.meta.url).href)) as Record<
    string,
    Peer | undefined
  >;
  const peer = mod[entry[1]];
  if (!peer) throw new Error(`peer module ${entry[0]} does not export ${entry[1]}`);
  return peer;
}
