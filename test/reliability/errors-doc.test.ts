import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/index.js';

describe('docs/ERRORS.md', () => {
  it('has a section for every error code, and none for codes that do not exist', () => {
    const text = fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'docs', 'ERRORS.md'), 'utf8');
    const documented = [...text.matchAll(/^## `([A-Z_]+)`$/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.values(ErrorCode).sort());
  });
});
