/**
 * Gallery stores benchmark: PGlite (pgvector, in this process) beside the in-memory gallery
 * (the file store's exact SIMD scan) and hnswlib-node, on the same synthetic data in one run.
 * Reports bulk insert rate, exact and HNSW top-1 latency (median) and HNSW recall@1 against
 * the exact answer, with wall and process CPU time for the insert and the index build.
 *
 *   npm run bench:gallery-store -- [--sizes 10000,100000] [--dim 128] [--queries 50] [--store pglite:memory]
 *
 * Data: 5 embeddings per identity around a random unit centre (noise 0.6), unit length;
 * queries are new samples of enrolled identities.
 */
import { Command } from 'commander';
import { Gallery } from '../src/gallery/gallery.js';
import { HnswGalleryIndex, loadHnswlib } from '../src/gallery/hnsw.js';
import { openGalleryStore } from '../src/gallery/open-store.js';
import type { EnrollEntry } from '../src/gallery/store.js';

const o = new Command('bench:gallery-store')
  .option('--sizes <list>', 'gallery sizes (embeddings)', '10000,100000')
  .option('--dim <n>', 'embedding dimension', '128')
  .option('--queries <n>', 'queries per measurement', '50')
  .option('--store <spec>', 'database store to measure', 'pglite:memory')
  .parse()
  .opts<{ sizes: string; dim: string; queries: string; store: string }>();
const dim = Number(o.dim);
const PER = 5;

/** Deterministic uniform numbers in [−1, 1) (xorshift32). */
function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 31 - 1;
  };
}
function unitAround(centre: Float32Array | null, r: () => number): Float32Array {
  const v = Float32Array.from({ length: dim }, () => r());
  let n = Math.hypot(...v);
  for (let d = 0; d < dim; d++) v[d] = (centre ? centre[d]! + (0.6 * v[d]!) / n : v[d]! / n);
  n = Math.hypot(...v);
  return v.map((x) => x / n);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timed<T>(work: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await work();
  const c = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}
/** Median wall ms per query, and mean process CPU ms per query (what a shared machine does not inflate). */
async function latency(queries: Float32Array[], match: (q: Float32Array) => Promise<string | null> | string | null) {
  const ms: number[] = [];
  const names: (string | null)[] = [];
  const c0 = process.cpuUsage();
  for (const q of queries) {
    const t0 = performance.now();
    names.push(await match(q));
    ms.push(performance.now() - t0);
  }
  const c = process.cpuUsage(c0);
  return { ms: median(ms), cpuMs: (c.user + c.system) / 1000 / queries.length, names };
}
const recall = (got: (string | null)[], truth: (string | null)[]) => got.filter((n, i) => n === truth[i]).length / truth.length;

for (const size of o.sizes.split(',').map(Number)) {
  const r = uniform(size);
  const ids = Math.ceil(size / PER);
  const centres = Array.from({ length: ids }, () => unitAround(null, r));
  const entries: EnrollEntry[] = centres.map((c, i) => ({
    name: `id${i}`,
    embeddings: Array.from({ length: Math.min(PER, size - i * PER) }, () => unitAround(c, r)),
  }));
  const queries = Array.from({ length: Number(o.queries) }, (_, i) => unitAround(centres[(i * 7919) % ids]!, r));
  const row: Record<string, string | number> = { size, dim };

  // The file store's search: the in-memory gallery's exact SIMD scan.
  const gallery = Gallery.create({ dimension: dim, storage: { initialCapacity: size } });
  for (const e of entries) gallery.add(e.name, [...e.embeddings]);
  const exact = await latency(queries, (q) => gallery.match(q).candidates[0]!.name);
  row['memory exact ms'] = +exact.ms.toFixed(3);
  row['memory exact cpu ms'] = +exact.cpuMs.toFixed(3);
  if (await loadHnswlib()) {
    const built = await timed(() => HnswGalleryIndex.build(gallery, { m: 16, efConstruction: 64, efSearch: 100 }));
    const h = await latency(queries, (q) => built.value.match(q).candidates[0]!.name);
    Object.assign(row, {
      'hnswlib build s': +built.wall.toFixed(1),
      'hnswlib build cpu s': +built.cpu.toFixed(1),
      'hnswlib ms': +h.ms.toFixed(3),
      'hnswlib cpu ms': +h.cpuMs.toFixed(3),
      'hnswlib recall@1': recall(h.names, exact.names),
    });
  }

  const store = await openGalleryStore(o.store, { efSearch: 100 });
  try {
    await store.clear();
    await store.create({ dimension: dim });
    const CHUNK = 2000; // identities per transaction
    const insert = await timed(async () => {
      for (let i = 0; i < entries.length; i += CHUNK) await store.enroll(entries.slice(i, i + CHUNK));
    });
    row['insert /s'] = Math.round(size / insert.wall);
    row['insert /cpu s'] = Math.round(size / insert.cpu);
    row['insert cpu s'] = +insert.cpu.toFixed(1);
    const sqlExact = await latency(queries.slice(0, 20), async (q) => (await store.match(q, { threshold: 99 })).name);
    row['sql exact ms'] = +sqlExact.ms.toFixed(1);
    row['sql exact cpu ms'] = +sqlExact.cpuMs.toFixed(1);
    row['sql exact recall@1'] = recall(sqlExact.names, exact.names.slice(0, 20));
    const index = await timed(() => store.createIndex({ m: 16, efConstruction: 64 }));
    row['sql hnsw build s'] = +index.wall.toFixed(1);
    row['sql hnsw build cpu s'] = +index.cpu.toFixed(1);
    const ann = await latency(queries, async (q) => (await store.match(q, { approximate: true, threshold: 99 })).name);
    row['sql hnsw ms'] = +ann.ms.toFixed(2);
    row['sql hnsw cpu ms'] = +ann.cpuMs.toFixed(2);
    row['sql hnsw recall@1'] = recall(ann.names, exact.names);
  } finally {
    await store.close();
  }
  console.log(JSON.stringify(row));
}
