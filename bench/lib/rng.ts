/** The seed every workload starts from, so every run (and every peer) asks for the same keys. */
export const SEED = 42;

/** mulberry32: a small, fast, seedable 32-bit generator. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator of uniform indices in [0, n). */
export function uniform(rand: () => number, n: number): () => number {
  return () => Math.floor(rand() * n);
}
