/**
 * Gallery benchmark: every way this library searches a gallery, on the same synthetic data
 * in one run, against the in-memory exact SIMD scan measured in that run.
 *
 *   npm run bench:gallery -- [--sizes 10000,100000] [--dim 512] [--queries 100]
 *                            [--stores memory,hnswlib,pglite] [--database pglite:memory]
 *                            [--ef-search 100] [--m 16] [--ef-construction 64]
 *                            [--js-max 100000] [--json out.json]
 *
 * Columns (`--stores`): `memory` — the exact SIMD scan of the in-memory gallery (the file
 * store's search; always measured, it is the reference for recall and ratios), the
 * memory-bandwidth floor (a SIMD sum of the same memory), a batch of 16 queries, and the
 * plain-JavaScript scan up to `--js-max` rows; `hnswlib` — hnswlib-node; `pglite` — a
 * database store (`--database`, default PGlite in memory): bulk insert through `store.enroll`
 * (2,000 identities per call), exact search, then an HNSW index and approximate search for
 * each `--ef-search` value (`none`: no index). Both HNSW graphs: `--m` (16) and
 * `--ef-construction` (64).
 * Issue 13's figures are PGlite at `--dim 128`.
 *
 * Every time is process CPU time (see `gallery-data.ts`), except a `postgres://` server's,
 * which works in its own processes: its rows are wall time (run them on a quiet machine).
 * Per query the mean.
 *
 * `--data faces`: face-like data instead of centres uniform on the sphere (the hard case for
 * HNSW): identities and their photos drawn from Gaussians fitted to `--face-model`'s
 * embeddings of 2,000 real faces (`face-statistics.ts`).
 */
import { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { Gallery } from '../src/gallery/gallery.js';
import { HnswGalleryIndex, loadHnswlib } from '../src/gallery/hnsw.js';
import { openGalleryStore } from '../src/gallery/open-store.js';
import { pgliteClient } from '../src/gallery/sql-pglite.js';
import { SqlGalleryStore } from '../src/gallery/sql-store.js';
import type { GalleryStore } from '../src/gallery/store.js';
import { loadFaceStatistics } from './face-statistics.js';
import {
  cpuSeconds,
  perCall,
  perQuery,
  timed,
  enrollBatches,
  PER_IDENTITY,
  recallAt1,
  syntheticGallery,
  syntheticQueries,
  faceLikeGallery,
  queryIdentity,
  galleryPairDistance,
  type SyntheticGallery,
  wallSeconds,
} from './gallery-data.js';

const STORES = ['memory', 'hnswlib', 'pglite'] as const;
type StoreColumn = (typeof STORES)[number];

const o = new Command('bench:gallery')
  .option('--sizes <list>', 'gallery sizes (embeddings)', '10000,100000')
  .option('--dim <n>', 'embedding dimension', '512')
  .option('--queries <n>', 'queries per measurement', '100')
  .option('--stores <list>', `columns to run, of ${STORES.join(',')}`, STORES.join(','))
  .option('--database <spec>', 'the database store of the pglite column (pglite:memory, pglite:DIR or postgres://…)', 'pglite:memory')
  .option('--ef-search <list>', "HNSW candidate list sizes to measure the database index at ('none': no index, exact search only)", '100')
  .option('--m <n>', 'HNSW graph degree (hnswlib and the database index)', '16')
  .option('--ef-construction <n>', 'HNSW build candidate list size (hnswlib and the database index)', '64')
  .option('--reuse', 'database column: search the rows and index an earlier run of the same size left (no insert, no build)')
  .option('--js-max <n>', 'largest size also scanned with plain JavaScript', '100000')
  .option('--data <kind>', "'uniform' (centres uniform on the sphere) or 'faces' (centres and spread of real faces, see --face-model)", 'uniform')
  .option('--face-model <name>', "model whose embeddings of real faces (../shared/data/celeba-faces) shape --data faces", 'dlib')
  .option('--json <file>', 'also write the results as JSON')
  .parse()
  .opts<{ sizes: string; dim: string; queries: string; stores: string; database: string; efSearch: string; m: string; efConstruction: string; reuse?: boolean; jsMax: string; data: string; faceModel: string; json?: string }>();

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const stores = new Set(list(o.stores));
for (const s of stores) if (!STORES.includes(s as StoreColumn)) throw new Error(`--stores: unknown column ${s} (known: ${STORES.join(', ')})`);
const dim = Number(o.dim);
const nQueries = Number(o.queries);
const efSearches = o.efSearch === 'none' ? [] : list(o.efSearch).map(Number);
const HNSW = { m: Number(o.m), efConstruction: Number(o.efConstruction) };

/** One line of the results table. */
interface Measured {
  size: number;
  column: string;
  /** Which clock timed the row: this process's CPU time, or wall time for a database server's work. */
  clock?: 'wall';
  /** Embeddings stored per second. */
  insertPerS?: number;
  indexBuildS?: number;
  top1Ms: number;
  /** top1Ms over the exact in-memory scan's, same run. */
  vsExact?: number;
  recallAt1?: number;
}

/** Several stores on one database, differing only in `efSearch` (a pglite:memory spec opened twice would be two databases). */
interface DatabaseStores {
  withEfSearch(efSearch: number): Promise<GalleryStore>;
  close(): Promise<void>;
}

async function openDatabase(spec: string): Promise<DatabaseStores> {
  if (!spec.startsWith('pglite:')) {
    const opened: GalleryStore[] = [];
    return {
      withEfSearch: async (efSearch) => opened[opened.push(await openGalleryStore(spec, { efSearch })) - 1]!,
      close: async () => void (await Promise.all(opened.map((s) => s.close()))),
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const dir = spec.slice('pglite:'.length);
  const db = await PGlite.create(dir === 'memory' ? undefined : dir, { extensions: { vector } });
  return {
    withEfSearch: (efSearch) => SqlGalleryStore.open(pgliteClient(db, spec, false), { efSearch }),
    close: () => db.close(),
  };
}

async function memoryColumns(data: SyntheticGallery, gallery: Gallery, queries: Float32Array[], exactMs: number): Promise<Measured[]> {
  const { size } = data;
  const floorMs = await perCall(() => gallery.sumStorage(), size >= 100_000 ? 20 : 200);
  const batch = queries.slice(0, 16);
  const batchMs = (await perCall(() => gallery.matchMany(batch), 5)) / batch.length;
  const out: Measured[] = [
    { size, column: `memory-bandwidth floor (SIMD sum, ${((size * dim * 4) / 1e6).toFixed(0)} MB)`, top1Ms: floorMs },
    { size, column: 'memory exact, batch of 16 (per query)', top1Ms: batchMs },
  ];
  if (size <= Number(o.jsMax)) {
    const js = Gallery.create({ dimension: dim, storage: { backend: 'js', initialCapacity: size } });
    js.addBatch(data.names, data.flat);
    const { ms } = await perQuery(queries.slice(0, 10), (q) => js.match(q));
    out.push({ size, column: 'plain-JS exact scan', top1Ms: ms });
  }
  return out.map((m) => ({ ...m, vsExact: m.top1Ms / exactMs }));
}

async function hnswlibColumn(gallery: Gallery, queries: Float32Array[], truth: string[], exactMs: number): Promise<Measured[]> {
  if (!(await loadHnswlib())) {
    console.log('  hnswlib-node is not installed: hnswlib column skipped');
    return [];
  }
  const built = await timed(() => HnswGalleryIndex.build(gallery, { ...HNSW, efSearch: 100 }));
  const { ms, answers } = await perQuery(queries, (q) => built.value.match(q).candidates[0]!.name);
  return [
    { size: gallery.size, column: 'hnswlib-node (ef 100)', indexBuildS: built.seconds, top1Ms: ms, vsExact: ms / exactMs, recallAt1: recallAt1(answers, truth) },
  ];
}

async function databaseColumns(data: SyntheticGallery, queries: Float32Array[], truth: string[], exactMs: number): Promise<Measured[]> {
  const { size } = data;
  const db = await openDatabase(o.database);
  const embedded = o.database.startsWith('pglite:');
  const name = embedded ? 'PGlite' : 'PostgreSQL';
  // A server works in its own processes: time what the client waits for, on a quiet machine.
  const clock = embedded ? cpuSeconds : wallSeconds;
  const wall = embedded ? {} : { clock: 'wall' as const };
  // A ratio of a wall time to the scan's CPU time would mix clocks.
  const vsExact = (ms: number) => (embedded ? { vsExact: ms / exactMs } : {});
  try {
    const store = await db.withEfSearch(efSearches[0] ?? 100);
    let insert: { seconds: number } | null = null;
    if (o.reuse) {
      // The same seeded data: an earlier run's rows are this run's, if there are as many.
      const held = (await store.identities()).reduce((n, i) => n + i.count, 0);
      if (held !== size || (await store.info())?.dimension !== dim) throw new Error(`--reuse: ${o.database} holds ${held} rows, not ${size} × ${dim}-d`);
    } else {
      await store.clear();
      await store.create({ dimension: dim });
      insert = await timed(async () => {
        for (const batch of enrollBatches(data, 2000)) await store.enroll(batch);
      }, clock);
    }
    const answer = (s: GalleryStore, approximate: boolean) => async (q: Float32Array) => (await s.match(q, { approximate, threshold: 99 })).name;
    const exact = await perQuery(queries.slice(0, 20), answer(store, false), 10, clock);
    const out: Measured[] = [
      {
        size,
        column: `${name} exact (sequential scan)`,
        ...wall,
        ...(insert ? { insertPerS: size / insert.seconds } : {}),
        top1Ms: exact.ms,
        ...vsExact(exact.ms),
        recallAt1: recallAt1(exact.answers, truth.slice(0, 20)),
      },
    ];
    // The index is built only when some ef_search is measured: at 100k rows it takes minutes of CPU.
    const index = efSearches.length > 0 && !o.reuse ? await timed(() => store.createIndex(HNSW), clock) : null;
    for (const [i, ef] of efSearches.entries()) {
      const ann = await perQuery(queries, answer(i === 0 ? store : await db.withEfSearch(ef), true), 10, clock);
      out.push({
        size,
        column: `${name} HNSW (ef_search ${ef})`,
        ...wall,
        ...(i === 0 && index ? { indexBuildS: index.seconds } : {}),
        top1Ms: ann.ms,
        ...vsExact(ann.ms),
        recallAt1: recallAt1(ann.answers, truth),
      });
    }
    return out;
  } finally {
    await db.close();
  }
}

const fixed = (x: number | undefined, digits: number) => (x === undefined ? '' : x.toFixed(digits));

function printTable(rows: Measured[]): void {
  const head = ['', 'clock', 'insert (per s)', 'index build (s)', 'top-1 (ms)', '× exact scan', 'recall@1'];
  const body = rows.map((m) => [
    m.column,
    m.clock ?? 'CPU',
    m.insertPerS === undefined ? '' : Math.round(m.insertPerS).toLocaleString('en'),
    fixed(m.indexBuildS, 1),
    fixed(m.top1Ms, 3),
    fixed(m.vsExact, 2),
    m.recallAt1 === undefined ? '' : String(m.recallAt1),
  ]);
  console.log(`| ${head.join(' | ')} |\n|${head.map(() => ' --- ').join('|')}|`);
  for (const r of body) console.log(`| ${r.join(' | ')} |`);
}

if (!['uniform', 'faces'].includes(o.data)) throw new Error(`--data: 'uniform' or 'faces', got ${o.data}`);
const faceStats = o.data === 'faces' ? await loadFaceStatistics(o.faceModel) : null;
if (faceStats && faceStats.dim !== dim) throw new Error(`--data faces: ${o.faceModel} embeds in ${faceStats.dim} dimensions, not --dim ${dim}`);
const results: Measured[] = [];
console.log(
  `Gallery benchmark: ${dim}-d float32, ${PER_IDENTITY} embeddings per identity, ${nQueries} queries, node ${process.version}; ` +
    (faceStats
      ? `face-like data (${faceStats.model}'s embeddings of ${faceStats.faces} real faces of ${faceStats.identities} people); `
      : 'centres uniform on the sphere; ') +
    `process CPU time (all threads; a server's rows wall time), per query the mean; ` +
    `HNSW graphs m ${HNSW.m}, ef_construction ${HNSW.efConstruction}`,
);
for (const size of list(o.sizes).map(Number)) {
  const data = faceStats ? faceLikeGallery(size, faceStats) : syntheticGallery(size, dim);
  const queries = syntheticQueries(data, nQueries);
  const gallery = Gallery.create({ dimension: dim, storage: { initialCapacity: size } });
  const added = await timed(() => gallery.addBatch(data.names, data.flat));
  const exact = await perQuery(queries, (q) => gallery.match(q).candidates[0]!.name);
  const truth = exact.answers;
  // How hard the data is: how often a query's own identity is the exact nearest; and, for
  // face-like data, its distances beside the real faces' it was fitted to.
  const own = truth.filter((name, i) => name === `id${queryIdentity(i, queries.length, data.centres.length)}`).length / queries.length;
  console.log(`\n${size.toLocaleString('en')}: the exact nearest identity is the query's own for ${own.toFixed(3)} of the queries`);
  if (faceStats) {
    const synthetic = galleryPairDistance(data);
    const real = faceStats.pairDistance;
    console.log(
      `  squared distance of two photos of one identity ${synthetic.same.toFixed(3)} (real faces: ${real.same.toFixed(3)}), ` +
        `of two identities ${synthetic.different.toFixed(3)} (real: ${real.different.toFixed(3)})`,
    );
  }
  const rows: Measured[] = [
    { size, column: `memory exact SIMD scan (${gallery.backend})`, insertPerS: size / added.seconds, top1Ms: exact.ms, vsExact: 1, recallAt1: 1 },
  ];
  if (stores.has('memory')) rows.push(...(await memoryColumns(data, gallery, queries, exact.ms)));
  if (stores.has('hnswlib')) rows.push(...(await hnswlibColumn(gallery, queries, truth, exact.ms)));
  if (stores.has('pglite')) rows.push(...(await databaseColumns(data, queries, truth, exact.ms)));
  console.log(`\n${size.toLocaleString('en')} × ${dim}-d`);
  printTable(rows);
  results.push(...rows);
}
if (o.json) await writeFile(o.json, JSON.stringify({ dim, perIdentity: PER_IDENTITY, queries: nQueries, results }, null, 2));
