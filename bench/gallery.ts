/**
 * Gallery search benchmark: exact search over 10k / 100k / 1M enrolled 512-d float32
 * embeddings against the memory-bandwidth floor measured in the same run, the plain
 * JavaScript scan for comparison, and an approximate HNSW index (recall@1 vs exact).
 *
 *   npm run bench:gallery -- [--sizes 10000,100000,1000000] [--ann 100000] [--queries 200]
 *                            [--js-max 100000] [--json out.json]
 *
 * Data: synthetic clustered embeddings (5 per identity around a random centre, unit
 * length), queries are new samples of enrolled identities. Timings are medians.
 */
import { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { Gallery } from '../src/gallery/gallery.js';
import { HnswGalleryIndex, loadHnswlib } from '../src/gallery/hnsw.js';

const program = new Command('bench:gallery')
  .option('--sizes <list>', 'gallery sizes (embeddings)', '10000,100000,1000000')
  .option('--dim <n>', 'embedding dimension', '512')
  .option('--ann <list>', 'sizes at which to build and measure an HNSW index', '100000')
  .option('--queries <n>', 'queries for the recall measurement', '200')
  .option('--js-max <n>', 'largest size also measured with the plain-JS scan', '100000')
  .option('--json <file>', 'also write the results as JSON')
  .parse();
const o = program.opts<{ sizes: string; dim: string; ann: string; queries: string; jsMax: string; json?: string }>();
const sizes = o.sizes.split(',').map(Number);
const annSizes = new Set(o.ann.split(',').filter(Boolean).map(Number));
const dim = Number(o.dim);
const nQueries = Number(o.queries);
const jsMax = Number(o.jsMax);
const PER_IDENTITY = 5;
const NOISE = 0.6;

/** xorshift32 → uniform in [−1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2147483648 - 1;
  };
}

function normalize(v: Float32Array, off: number, n: number): void {
  let s = 0;
  for (let d = 0; d < n; d++) s += v[off + d] * v[off + d];
  const k = 1 / Math.sqrt(s);
  for (let d = 0; d < n; d++) v[off + d] *= k;
}

/** Unit centre of identity `id` (regenerated on demand from its own seed). */
function centre(id: number): Float32Array {
  const r = rng(0x9e3779b9 ^ (id * 2654435761));
  const c = new Float32Array(dim);
  for (let d = 0; d < dim; d++) c[d] = r();
  normalize(c, 0, dim);
  return c;
}

/** A sample of identity `id`: centre + NOISE · random unit vector, renormalised, into `out` at `off`. */
function sample(id: number, r: () => number, out: Float32Array, off: number): void {
  const c = centre(id);
  const u = new Float32Array(dim);
  for (let d = 0; d < dim; d++) u[d] = r();
  normalize(u, 0, dim);
  for (let d = 0; d < dim; d++) out[off + d] = c[d] + NOISE * u[d];
  normalize(out, off, dim);
}

function buildGallery(n: number, backend: 'auto' | 'js'): Gallery {
  const g = Gallery.create({ dimension: dim, storage: { backend, initialCapacity: n } });
  const r = rng(12345);
  const CHUNK = 50_000;
  for (let start = 0; start < n; start += CHUNK) {
    const rows = Math.min(CHUNK, n - start);
    const flat = new Float32Array(rows * dim);
    const names: string[] = [];
    for (let i = 0; i < rows; i++) {
      const id = Math.floor((start + i) / PER_IDENTITY);
      sample(id, r, flat, i * dim);
      names.push(`id${id}`);
    }
    g.addBatch(names, flat);
  }
  return g;
}

function queriesFor(n: number, count: number, seed: number): Float32Array[] {
  const r = rng(seed);
  const ids = Math.ceil(n / PER_IDENTITY);
  return Array.from({ length: count }, (_, i) => {
    const q = new Float32Array(dim);
    sample(Math.floor(((i + 0.5) / count) * ids), r, q, 0);
    return q;
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => unknown, reps: number): number {
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

interface Row {
  size: number;
  gigabytes: number;
  backend: string;
  floorMs: number;
  floorGBps: number;
  jsSumMs?: number;
  exact1Ms: number;
  exact1VsFloor: number;
  batch16PerQueryMs: number;
  jsExact1Ms?: number;
  ann?: { buildS: number; queryMs: number; recallAt1: number; efSearch: number };
}

const results: Row[] = [];
console.log(`Gallery search benchmark: ${dim}-d float32, ${PER_IDENTITY} embeddings per identity, node ${process.version}`);
for (const n of sizes) {
  const t0 = performance.now();
  const g = buildGallery(n, 'auto');
  const buildS = (performance.now() - t0) / 1000;
  const bytes = n * dim * 4;
  const qs = queriesFor(n, 16, 777);
  // Warm up (JIT, page faults), then measure.
  for (let i = 0; i < 5; i++) {
    g.sumStorage();
    g.match(qs[i]);
  }
  g.matchMany(qs);
  const reps = n >= 1_000_000 ? 5 : 9;
  const floorMs = time(() => g.sumStorage(), reps);
  const jsSumMs = n <= jsMax ? time(() => g.sumStorage({ plainJs: true }), 3) : undefined;
  let qi = 0;
  const exact1Ms = time(() => g.match(qs[qi++ % qs.length]), reps);
  const batchMs = time(() => g.matchMany(qs), 3);
  const row: Row = {
    size: n,
    gigabytes: bytes / 1e9,
    backend: g.backend,
    floorMs,
    floorGBps: bytes / floorMs / 1e6,
    jsSumMs,
    exact1Ms,
    exact1VsFloor: exact1Ms / floorMs,
    batch16PerQueryMs: batchMs / qs.length,
  };
  if (n <= jsMax) {
    const gj = buildGallery(n, 'js');
    for (let i = 0; i < 3; i++) gj.match(qs[i]);
    let qj = 0;
    row.jsExact1Ms = time(() => gj.match(qs[qj++ % qs.length]), 3);
  }
  console.log(
    `\n${n.toLocaleString('en')} embeddings (${row.gigabytes.toFixed(2)} GB, built in ${buildS.toFixed(1)} s, scan: ${g.backend})\n` +
      `  bandwidth floor (SIMD sum of the same memory): ${floorMs.toFixed(2)} ms = ${row.floorGBps.toFixed(1)} GB/s` +
      (jsSumMs !== undefined ? `   [plain-JS sum: ${jsSumMs.toFixed(2)} ms]` : '') +
      `\n  exact search, 1 query:        ${exact1Ms.toFixed(2)} ms = ${row.exact1VsFloor.toFixed(2)} × floor` +
      `\n  exact search, batch of 16:    ${row.batch16PerQueryMs.toFixed(2)} ms per query = ${(row.batch16PerQueryMs / floorMs).toFixed(2)} × floor` +
      (row.jsExact1Ms !== undefined ? `\n  plain-JS exact search, 1 query: ${row.jsExact1Ms.toFixed(2)} ms = ${(row.jsExact1Ms / floorMs).toFixed(2)} × floor` : ''),
  );
  if (annSizes.has(n)) {
    if (!(await loadHnswlib())) {
      console.log('  HNSW: hnswlib-node is not installed; skipped');
    } else {
      const tb = performance.now();
      const index = await HnswGalleryIndex.build(g, { efSearch: 64 });
      const annBuildS = (performance.now() - tb) / 1000;
      const rq = queriesFor(n, nQueries, 4242);
      const exact = g.matchMany(rq);
      let hits = 0;
      const times: number[] = [];
      rq.forEach((q, i) => {
        const t = performance.now();
        const a = index.match(q);
        times.push(performance.now() - t);
        if (a.candidates[0]?.name === exact[i].candidates[0]?.name) hits++;
      });
      row.ann = { buildS: annBuildS, queryMs: median(times), recallAt1: hits / rq.length, efSearch: 64 };
      console.log(
        `  HNSW (M 16, efConstruction 200, efSearch 64): built in ${annBuildS.toFixed(1)} s, ` +
          `${row.ann.queryMs.toFixed(3)} ms per query, recall@1 vs exact ${(100 * row.ann.recallAt1).toFixed(1)} % (${rq.length} queries)`,
      );
    }
  }
  results.push(row);
}
if (o.json) await writeFile(o.json, JSON.stringify({ dim, perIdentity: PER_IDENTITY, results }, null, 2));
