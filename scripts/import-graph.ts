/**
 * The import graph of `src/`, read with the TypeScript scanner (no bundling, no type check):
 * every static, dynamic and type-only import of a relative module. Used by the architecture
 * test to find import cycles, and runnable by hand: `node --import tsx scripts/import-graph.ts`
 * prints the cycles and exits 1 when there is any.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Module path (relative to the root, `/`-separated) → the modules and packages it imports. */
export interface ImportGraph {
  readonly modules: Map<string, { local: string[]; external: string[] }>;
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTs(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** The module a relative specifier names: `./x.js` is written for `./x.ts`. */
function resolveLocal(fromFile: string, spec: string): string | undefined {
  const base = resolve(dirname(fromFile), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && c.endsWith('.ts'));
}

/** Reads every `.ts` file under `srcDir` and the imports each one makes. */
export function readImportGraph(srcDir: string): ImportGraph {
  const root = resolve(srcDir);
  const modules = new Map<string, { local: string[]; external: string[] }>();
  for (const file of listTs(root)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const local: string[] = [];
    const external: string[] = [];
    for (const { fileName: spec } of info.importedFiles) {
      if (spec.startsWith('.')) {
        const target = resolveLocal(file, spec);
        if (target) local.push(relative(root, target).split('\\').join('/'));
      } else {
        external.push(spec);
      }
    }
    modules.set(relative(root, file).split('\\').join('/'), { local, external });
  }
  return { modules };
}

/**
 * Every import cycle, each as the list of modules on it (first one repeated at the end).
 * Tarjan's strongly connected components; one cycle is reported per component.
 */
export function findCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.modules.get(v)?.local ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = graph.modules.get(v)?.local.includes(v) ?? false;
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const v of [...graph.modules.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((component) => cycleThrough(graph, new Set(component)));
}

/** One concrete cycle inside a strongly connected component (breadth-first back to the start). */
function cycleThrough(graph: ImportGraph, members: Set<string>): string[] {
  const start = [...members].sort()[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.modules.get(v)?.local ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return [...path, start];
      }
      if (!previous.has(w) && w !== start) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** Every module reachable from `entry` (itself included). */
export function reachableFrom(graph: ImportGraph, entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const v = pending.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    pending.push(...(graph.modules.get(v)?.local ?? []));
  }
  return seen;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const cycles = findCycles(readImportGraph(src));
  for (const cycle of cycles) console.log(`cycle: ${cycle.join(' → ')}`);
  console.log(cycles.length === 0 ? 'no import cycles' : `${cycles.length} import cycle(s)`);
  process.exitCode = cycles.length === 0 ? 0 : 1;
}
