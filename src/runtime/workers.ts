/**
 * Starting a worker thread on one of the library's own modules, in one place: in the built
 * package the bundled script (`dist/<name>.js`) sits beside the bundle that asks; running
 * from the TypeScript sources (tsx, vitest) the `.ts` module is started through tsx's loader
 * API. Used by the dataset-alignment job, the data-parallel training engine and the face pool. Node only.
 */
import * as fs from 'node:fs';
import * as nodeModule from 'node:module';
import * as nodePath from 'node:path';
import * as nodeUrl from 'node:url';
import * as v8 from 'node:v8';
import { Worker } from 'node:worker_threads';

/** The two forms of a worker script, as paths relative to the module that starts it. */
export interface WorkerScript {
  /** The bundled script in the built package, e.g. `./train-worker.js`. */
  bundled: string;
  /** The TypeScript source, e.g. `./parallel-worker.ts`. */
  source: string;
}

/** The tsx ESM loader API (development: running the TypeScript sources), or undefined without tsx. */
function tsxApiUrl(from: string): string | undefined {
  let pkgPath: string;
  try {
    pkgPath = nodeModule.createRequire(from).resolve('tsx/package.json');
  } catch {
    return undefined;
  }
  const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8')) as { exports?: Record<string, unknown> };
  const entry = pkg.exports?.['./esm/api'] as { import?: { default?: string } | string } | undefined;
  const rel = typeof entry?.import === 'string' ? entry.import : entry?.import?.default ?? './dist/esm/api/index.mjs';
  return nodeUrl.pathToFileURL(nodePath.join(nodePath.dirname(pkgPath), rel)).href;
}

/**
 * Start a worker on `script`, resolved against `from` (the caller's `import.meta.url`).
 * A failure while loading the module surfaces as the worker's `'error'` event.
 * @returns the worker, or undefined when neither form of the script can be started here.
 */
export function startWorker(from: string, script: WorkerScript, workerData: unknown): Worker | undefined {
  const bundled = new URL(script.bundled, from);
  if (fs.existsSync(nodeUrl.fileURLToPath(bundled))) return new Worker(bundled, { workerData });
  const source = new URL(script.source, from);
  const api = tsxApiUrl(from);
  if (!fs.existsSync(nodeUrl.fileURLToPath(source)) || !api) return undefined;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(source.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}

/** Starts in progress that asked for an initial old generation (they may overlap). */
let heapStarts = 0;

/** Whether this process was started with its own `--initial-old-space-size` (then it is left alone). */
function processSetsInitialOldSpace(): boolean {
  const flag = /(^|\s)--initial-old-space-size[=\s]/;
  return process.execArgv.some((a) => flag.test(` ${a} `)) || flag.test(` ${process.env.NODE_OPTIONS ?? ''} `);
}

/**
 * Run `start` (which starts workers and resolves once their isolates run) with V8's
 * `--initial-old-space-size` set to `mb`, so that the workers' heaps begin with an old
 * generation of that size; the flag goes back to V8's default afterwards. Why: V8 sizes a new
 * heap's old generation to what it holds, and a detector's heap (≈ 20 MB) then sits so close
 * to its limit that V8 runs a full, partly concurrent, collection every few frames instead
 * of cheap young-generation ones — work on other threads that a pool of workers on all cores
 * cannot spare (`BENCHMARKS.md`, "What the other threads do"). V8 reads the flag when an
 * isolate is created, so isolates that exist are not affected. Left alone when `mb` is 0 or
 * the process was started with the flag.
 */
export async function withInitialOldSpace<T>(mb: number, start: () => Promise<T>): Promise<T> {
  if (!(mb > 0) || processSetsInitialOldSpace()) return start();
  heapStarts++;
  v8.setFlagsFromString(`--initial-old-space-size=${Math.round(mb)}`);
  try {
    return await start();
  } finally {
    if (--heapStarts === 0) v8.setFlagsFromString('--initial-old-space-size=0');
  }
}
