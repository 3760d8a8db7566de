/** Every peer, in report order (loaded in the coordinating process only). */
import type { Peer } from '../lib/types.js';
import { loadPeer, PEER_NAMES } from './modules.js';

export async function loadPeers(names: readonly string[] = PEER_NAMES): Promise<Peer[]> {
  return Promise.all(names.map((n) => loadPeer(n)));
}

export { PEER_NAMES };
