/**
 * The shape of the source tree: no import cycles, lower layers never import higher ones.
 * The graph is read by scripts/import-graph.ts (the TypeScript scanner over src/).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findCycles, readImportGraph, type ImportGraph } from '../scripts/import-graph.js';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

/**
 * The layers, lowest first (ARCHITECTURE.md). A module may import its own folder and the
 * folders before it, never one after it. The entries (`index.ts`, `node/`) and the CLI sit on top.
 */
const LAYERS = [
  'errors', 'runtime', 'util', 'io', 'weights', 'image', 'face', 'kernels', 'losses', 'mtcnn', 'facenet', 'teachers',
  'datasets', 'gallery', 'recognition', 'eval', 'train', 'cli', 'index', 'node',
];

const layerOf = (module: string): string => (module.includes('/') ? module.split('/')[0]! : module.replace(/\.ts$/, ''));

/** Every import that reaches up a layer, as `importer → imported`. */
function upwardImports(graph: ImportGraph): string[] {
  const out: string[] = [];
  for (const [from, { local }] of graph.modules) {
    for (const to of local) {
      const a = LAYERS.indexOf(layerOf(from));
      const b = LAYERS.indexOf(layerOf(to));
      if (a < 0 || b < 0 || b > a) out.push(`${from} → ${to}`);
    }
  }
  return out.sort();
}

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

  it('every folder of src/ has its layer, and no module imports a higher layer', () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it('the layer check sees an upward import (the checker itself can fail)', () => {
    const made: ImportGraph = { modules: new Map([['face/crop.ts', { local: ['recognition/embedder.ts'], external: [] }]]) };
    expect(upwardImports(made)).toEqual(['face/crop.ts → recognition/embedder.ts']);
  });
});
