import { describe, expect, it } from 'vitest';
import { defaultAvailableMemory, memoryLimit, parseMemorySize } from '../../src/options/memory.js';

describe('parseMemorySize', () => {
  it('parseMemorySize reads numbers and units, decimal and binary', () => {
    expect(parseMemorySize(1234)).toBe(1234);
    expect(parseMemorySize('512')).toBe(512);
    expect(parseMemorySize('512 MB')).toBe(512e6);
    expect(parseMemorySize('1.5GiB')).toBe(1.5 * 2 ** 30);
    expect(parseMemorySize('64 mib')).toBe(64 * 2 ** 20);
    expect(parseMemorySize('2k')).toBe(2048);
    expect(parseMemorySize('1e9')).toBe(1e9);
  });

  it('parseMemorySize reads a share of the memory the process may use', () => {
    expect(parseMemorySize('50%')).toBe(Math.floor(memoryLimit() / 2));
    expect(parseMemorySize('0%')).toBe(0);
  });

  it('parseMemorySize refuses what it cannot read, quoting it', () => {
    expect(() => parseMemorySize('lots')).toThrow(/"lots"/);
    expect(() => parseMemorySize('5 parsecs')).toThrow(TypeError);
    expect(() => parseMemorySize(-1)).toThrow(RangeError);
    expect(() => parseMemorySize(NaN)).toThrow(RangeError);
    expect(() => parseMemorySize('150%')).toThrow(RangeError);
  });

  it('defaultAvailableMemory is a quarter of the memory, at most 1 GB', () => {
    expect(defaultAvailableMemory()).toBe(Math.min(1e9, Math.floor(memoryLimit() / 4)));
  });
});
