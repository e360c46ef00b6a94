/**
 * A database gallery's `match` against the same code of another checkout, query by query.
 * Two stores on one database — this checkout's and `--before`'s (a `git worktree` of an older
 * commit, with this one's `node_modules` linked in) — answer the same queries alternately, the
 * order swapped every query, so this host's drift (up to a quarter within a minute) falls on
 * both alike. Prints the mean per match of each and their ratio; checks both name the same.
 *
 *   npm run bench:gallery-match-ab -- --before DIR [--database postgres://…] [--ef-search 32,100]
 *        [--queries 300] [--size 20000] [--dim 128]
 *
 * With `--database postgres://…` (a gallery `bench:gallery` left there) the clock is wall
 * time: the server's work is not this process's. Without it, a PGlite database in memory is
 * filled with `--size` random unit embeddings (one per identity) and indexed (m 16,
 * ef_construction 64), and the clock is this process's CPU time. Queries: random unit vectors
 * (seeded). Benchmarks only print; nothing here asserts on time.
 */
import { Command } from 'commander';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import '../src/runtime/install-node.js';
import { pgPoolClient } from '../src/gallery/sql-pg.js';
import { pgliteClient } from '../src/gallery/sql-pglite.js';
import { SqlGalleryStore } from '../src/gallery/sql-store.js';
import type { GalleryStore, StoreMatchOptions } from '../src/gallery/store.js';
import { XorShift32 } from '../test/eval-synthetic.js';

const o = new Command('bench:gallery-match-ab')
  .requiredOption('--before <dir>', 'a checkout of the code to compare against (its src/ is imported)')
  .option('--database <url>', 'a postgres:// server holding a gallery (default: PGlite in memory, filled here)')
  .option('--ef-search <list>', "HNSW candidate list sizes ('exact': an exact scan too)", '40,exact')
  .option('--queries <n>', 'queries per measurement', '300')
  .option('--size <n>', 'embeddings of the in-memory PGlite gallery', '20000')
  .option('--dim <n>', 'embedding dimension of the in-memory PGlite gallery', '128')
  .parse()
  .opts<{ before: string; database?: string; efSearch: string; queries: string; size: string; dim: string }>();

type StoreModule = { SqlGalleryStore: { open(client: unknown, opts?: { efSearch?: number }): Promise<GalleryStore> } };
type ClientModule = { pgliteClient(db: unknown, location?: string, close?: boolean): unknown; pgPoolClient(pool: unknown, location: string): unknown };
const beforeSrc = (file: string) => import(pathToFileURL(resolve(o.before, 'src/gallery', file)).href);
const before = {
  store: (await beforeSrc('sql-store.ts')) as StoreModule,
  clients: { ...(await beforeSrc('sql-pglite.ts')), ...(await beforeSrc('sql-pg.ts')) } as ClientModule,
};

const nQueries = Number(o.queries);
const settings = o.efSearch.split(',').map((s) => s.trim());
const r = new XorShift32(7);
const unit = (d: number) => {
  const v = r.vec(d);
  const n = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / n);
};

/** Both stores' connections, on `--database` or on one PGlite database in this process. */
async function connect(efSearch: number): Promise<{ after: GalleryStore; before: GalleryStore; dim: number; close(): Promise<void> }> {
  if (o.database) {
    const { default: pg } = await import('pg');
    const pool = () => new pg.Pool({ connectionString: o.database, max: 1 });
    const after = await SqlGalleryStore.open(pgPoolClient(pool(), 'after'), { efSearch });
    const old = await before.store.SqlGalleryStore.open(before.clients.pgPoolClient(pool(), 'before'), { efSearch });
    const info = await after.info();
    if (!info) throw new Error(`--database: no gallery in ${o.database}`);
    return { after, before: old, dim: info.dimension, close: async () => void (await Promise.all([after.close(), old.close()])) };
  }
  const db = (memory ??= await fillMemory());
  const after = await SqlGalleryStore.open(pgliteClient(db, 'after', false), { efSearch });
  const old = await before.store.SqlGalleryStore.open(before.clients.pgliteClient(db, 'before', false), { efSearch });
  return { after, before: old, dim: Number(o.dim), close: async () => void (await Promise.all([after.close(), old.close()])) };
}

let memory: PGlite | undefined;
async function fillMemory(): Promise<PGlite> {
  const db = await PGlite.create({ extensions: { vector } });
  const store = await SqlGalleryStore.open(pgliteClient(db, 'fill', false));
  const dim = Number(o.dim);
  await store.create({ dimension: dim, fingerprint: 'bench', preprocessing: null });
  const size = Number(o.size);
  for (let i = 0; i < size; i += 2000) {
    await store.enroll(Array.from({ length: Math.min(2000, size - i) }, (_, k) => ({ name: `p${i + k}`, embeddings: [unit(dim)] })));
  }
  await store.createIndex({ m: 16, efConstruction: 64 });
  return db;
}

const clock = o.database ? () => performance.now() : () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
console.log(
  `match, this checkout against ${o.before}, alternating per query; ` +
    (o.database ? `${o.database}, wall time` : `PGlite in memory, ${o.size} × ${o.dim}-d (HNSW m 16, ef_construction 64), process CPU time`),
);
console.log('| search | queries | before (ms per match) | after (ms per match) | × before |\n| --- | --- | --- | --- | --- |');
for (const setting of settings) {
  const approximate = setting !== 'exact';
  const stores = await connect(approximate ? Number(setting) : 100);
  const opts: StoreMatchOptions = { approximate };
  const n = approximate ? nQueries : Math.min(nQueries, 40);
  const queries = Array.from({ length: n + 5 }, () => unit(stores.dim));
  for (const q of queries.slice(0, 5)) await Promise.all([stores.after.match(q, opts), stores.before.match(q, opts)]);
  const ms = { before: 0, after: 0 };
  for (let i = 5; i < queries.length; i++) {
    const names: string[] = [];
    for (const side of i % 2 ? (['before', 'after'] as const) : (['after', 'before'] as const)) {
      const t0 = clock();
      names.push((await stores[side].match(queries[i]!, opts)).candidates[0]?.name ?? '');
      ms[side] += clock() - t0;
    }
    if (names[0] !== names[1]) throw new Error(`query ${i}: the two stores find different nearest identities (${names.join(', ')})`);
  }
  await stores.close();
  const label = approximate ? `HNSW (ef_search ${setting})` : 'exact';
  console.log(`| ${label} | ${n} | ${(ms.before / n).toFixed(3)} | ${(ms.after / n).toFixed(3)} | ${(ms.after / ms.before).toFixed(2)} |`);
}
await memory?.close();
