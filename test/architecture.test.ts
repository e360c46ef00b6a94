/**
 * The shape of the source tree: no import cycles, lower layers never import higher ones.
 * The graph is read by scripts/import-graph.ts (the TypeScript scanner over src/).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findCycles, readImportGraph, type ImportGraph } from '../scripts/import-graph.js';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

describe('import graph', () => {
  const graph = readImportGraph(SRC);

  it('reads the real tree', () => {
    // A sanity check that the reader resolves `.js` specifiers to the `.ts` sources.
    expect(graph.modules.size).toBeGreaterThan(50);
    expect(graph.modules.get('index.ts')?.local).toContain('errors.ts');
  });

  it('finds a cycle when there is one (the checker itself can fail)', () => {
    const made: ImportGraph = {
      modules: new Map([
        ['a.ts', { local: ['b.ts'], external: [] }],
        ['b.ts', { local: ['c.ts'], external: [] }],
        ['c.ts', { local: ['a.ts'], external: [] }],
        ['d.ts', { local: ['a.ts'], external: [] }],
      ]),
    };
    expect(findCycles(made)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });

  it('has no import cycles in src/', () => {
    expect(findCycles(graph).map((c) => c.join(' → '))).toEqual([]);
  });
});
