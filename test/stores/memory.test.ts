import { MemoryStore } from '../../src/stores/memory.js';
import { storeSuite } from '../conformance/store-suite.js';

storeSuite('MemoryStore', {
  open: () => new MemoryStore(),
  reopen: () => {
    throw new Error('a memory store does not persist');
  },
  cleanup: () => undefined,
});
