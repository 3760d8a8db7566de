/** Export lines read back by `chest import`: what a damaged line is reported as. */
import { describe, expect, it } from 'vitest';
import { fromLine, toLine } from '../../src/cli/json.js';

const line = (type: string, base64: string): string => JSON.stringify({ key: 'k', type, base64 });

describe('fromLine', () => {
  it('reads back every binary line toLine writes', () => {
    for (const value of [new Float64Array([1.5, -2]), new Uint8Array([1, 2, 3]), Buffer.from('hi')]) {
      expect(fromLine(JSON.stringify(toLine('k', value))).value).toEqual(value);
    }
  });

  it('refuses base64 that Buffer.from would read by skipping characters, as invalid base64', () => {
    // Each of these decodes without complaint in Buffer.from, to fewer or other bytes.
    expect(() => fromLine(line('Float64Array', 'AAAAAAAA%AAAAAAA'))).toThrow(
      'invalid base64: "%" at character 9',
    );
    expect(() => fromLine(line('Uint8Array', 'AA AA'))).toThrow('invalid base64: " " at character 3');
    expect(() => fromLine(line('Uint8Array', 'AA=A'))).toThrow('invalid base64: misplaced "=" padding');
    expect(() => fromLine(line('Uint8Array', 'AAAAA'))).toThrow(
      'invalid base64: 5 characters, not a whole number of groups of 4',
    );
  });

  it('names the real problem of a line: its length, its v8 bytes, its type', () => {
    expect(() => fromLine(line('Float64Array', 'AAAAAAAAAA=='))).toThrow(
      '7 bytes are not a whole number of Float64Array elements (8 bytes each)',
    );
    expect(() => fromLine(line('v8', 'AAAA'))).toThrow(/^the bytes are not a v8 serialization/);
    expect(() => fromLine(line('Float65Array', '!'))).toThrow('unknown type "Float65Array"');
    expect(() => fromLine('[1]')).toThrow('expected an object with a "key"');
    expect(() => fromLine('{"key":')).toThrow(/^not JSON \(/);
  });
});
