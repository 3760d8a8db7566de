import { availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import type { Machine } from './results.js';

export function machine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: typeof availableParallelism === 'function' ? availableParallelism() : list.length,
    memoryBytes: totalmem(),
    node: process.version,
    platform: platform(),
    release: release(),
    date: new Date().toISOString(),
  };
}
