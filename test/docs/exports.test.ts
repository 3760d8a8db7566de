/** Every public export carries an `@example` in its TSDoc (the examples themselves run in examples.test.ts). */
import path from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';

it('every export of src/index.ts has an @example', () => {
  const entry = path.resolve(import.meta.dirname, '../../src/index.ts');
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const exports = checker.getExportsOfModule(module);
  expect(exports.length).toBeGreaterThan(20);
  const missing = exports
    .filter((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const declarations = target.getDeclarations() ?? [];
      return !declarations.some((d) => ts.getJSDocTags(d).some((tag) => tag.tagName.text === 'example'));
    })
    .map((symbol) => symbol.getName());
  expect(missing).toEqual([]);
});
