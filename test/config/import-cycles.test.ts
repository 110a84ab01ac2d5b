/**
 * No import cycles in src/ (issue 15): a cycle makes the order in which modules load, and so
 * which of them sees the other half-initialised, depend on which one was imported first. Type-only
 * imports are erased by the compiler, so they cannot make that happen; they are checked in a
 * separate test, since a cycle through them still means neither module stands without the other
 * (test/config/import-graph.ts).
 *
 * Released migrations never import live code: a migration must do tomorrow exactly what it did
 * when it was released, whatever the application's code has become since.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers.js';
import { cycles, exampleCycle, importGraph, sourceFiles, type ImportGraph } from './import-graph.js';

describe('the import graph of src/', () => {
  const graph = importGraph(REPO);

  it('is read from every source file', () => {
    assert.ok(graph.size > 100, `${graph.size} files`);
    assert.ok(graph.get('src/cli/main.ts')?.includes('src/errors.ts') && !graph.get('src/cli/main.ts')?.includes('src/cli/io.ts'), 'main.ts imports only types from io.ts');
    // the command modules are imported when a command names them (src/cli/main.ts), so no edge
    assert.ok(
      graph.get('src/cli/commands/import.ts')?.includes('src/cli/io.ts') && !graph.get('src/cli/main.ts')?.includes('src/cli/commands/init.ts'),
      'the command modules load lazily',
    );
  });

  const describe = (g: ImportGraph) => cycles(g).map((component) => `${exampleCycle(g, component).join(' → ')}  (${component.length} files: ${component.join(', ')})`);

  it('has no cycles of imports that run', () => {
    const described = describe(graph);
    assert.deepEqual(described, [], `import cycles in src/:\n${described.join('\n')}`);
  });

  it('has none through type-only imports either: those erase at run time, but still tie the modules together', () => {
    const described = describe(importGraph(REPO, { types: true }));
    assert.deepEqual(described, [], `import cycles in src/ (counting \`import type\`):\n${described.join('\n')}`);
  });

  it('finds a cycle when there is one', () => {
    const toy = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
    ]);
    assert.deepEqual(cycles(toy), [['a', 'b', 'c'], ['e']]);
    assert.deepEqual(exampleCycle(toy, ['a', 'b', 'c']), ['a', 'b', 'c', 'a']);
  });

  // src/db/kysely.ts is kysely itself (the package, or the same package bundled into one file)
  const KYSELY = ['kysely', './kysely.js'];

  it('the migrations import nothing from src/ but kysely and their own types', () => {
    assert.deepEqual(graph.get('src/db/migrations.ts'), ['src/db/kysely.ts']);
    const text = readFileSync(join(REPO, 'src/db/migrations.ts'), 'utf8');
    const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
    const dynamic = [...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
    for (const spec of [...specifiers, ...dynamic]) {
      assert.ok(KYSELY.includes(spec) || spec.startsWith('node:'), `src/db/migrations.ts imports ${spec}: a released migration carries its own frozen copy of what it uses`);
    }
  });

  it('kysely is loaded through src/db/kysely.ts, which imports nothing from src/', () => {
    assert.deepEqual(graph.get('src/db/kysely.ts'), []);
    for (const [file, text] of sourceFiles(join(REPO, 'src')).map((f) => [f, readFileSync(f, 'utf8')] as const)) {
      if (file.endsWith('src/db/kysely.ts')) continue;
      assert.ok(
        !/^import\s+(?!type\s)[^;]*from\s+'kysely'/m.test(text),
        `${file} imports kysely's values from the package: import them from src/db/kysely.ts (types with import type)`,
      );
    }
  });
});
