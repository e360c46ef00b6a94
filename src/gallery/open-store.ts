/**
 * Open a gallery store by the name a user gives it (Node): `postgres://…` or
 * `postgresql://…` (a server, through the optional `pg` package), `pglite:DIR` (embedded
 * PostgreSQL in a folder; `pglite:memory` for a throw-away one), anything else a gallery file.
 */
import { ConfigError } from '../errors.js';
import { FileGalleryStore } from './file-store.js';
import { pgPoolClient, redactConnectionString } from './sql-pg.js';
import { pgliteClient } from './sql-pglite.js';
import type { PGlite } from '@electric-sql/pglite';
import type { SqlClient } from './sql-client.js';
import { SqlGalleryStore, type SqlGalleryStoreOptions } from './sql-store.js';
import type { GalleryStore } from './store.js';

/** What kind of store a gallery name denotes. */
export type GalleryStoreKind = 'file' | 'pglite' | 'postgres';

/** The kind of store `spec` names. */
export function galleryStoreKind(spec: string): GalleryStoreKind {
  if (/^postgres(ql)?:\/\//i.test(spec)) return 'postgres';
  if (spec.startsWith('pglite:')) return 'pglite';
  return 'file';
}

/** Import an optional package; null when it is not installed (any other failure is thrown). */
async function ifInstalled<T>(load: () => Promise<T>): Promise<T | null> {
  try {
    return await load();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return null;
    throw e;
  }
}

/** Import an optional package, or say how to install it. */
async function optional<T>(name: string, why: string, load: () => Promise<T>): Promise<T> {
  const loaded = await ifInstalled(load);
  if (loaded === null) throw new ConfigError('gallery', `${why} need the package ${name} (npm install ${name})`);
  return loaded;
}

/**
 * Open the store `spec` names (see the module comment). A database store's schema is
 * created or migrated on open (unless `migrate: false`).
 * @throws {ConfigError} for `pglite:` without a folder, or a missing optional package.
 */
export async function openGalleryStore(spec: string, opts: SqlGalleryStoreOptions = {}): Promise<GalleryStore> {
  const kind = galleryStoreKind(spec);
  if (kind === 'file') {
    if (spec.trim() === '') throw new ConfigError('gallery', 'an empty gallery name');
    return FileGalleryStore.open(spec);
  }
  if (kind === 'postgres') {
    const pg = await optional('pg', 'postgres:// galleries', () => import('pg'));
    const Pool = (pg.default ?? pg).Pool;
    const pool = new Pool({ connectionString: spec, max: 4 });
    // Optional too: without it, bulk inserts go as (slower) text statements.
    const copyStreams = await ifInstalled(() => import('pg-copy-streams'));
    const copyFrom = copyStreams ? (copyStreams.default ?? copyStreams).from : undefined;
    return SqlGalleryStore.open(pgPoolClient(pool, redactConnectionString(spec), copyFrom), opts);
  }
  const dir = spec.slice('pglite:'.length);
  if (dir === '') throw new ConfigError('gallery', `pglite: needs a folder (pglite:DIR) or pglite:memory, got '${spec}'`);
  const client = await sharedPglite(dir === 'memory' ? null : dir, spec);
  return SqlGalleryStore.open(client, opts);
}

/**
 * Open PGlite databases of this process by folder. PGlite runs in the process that opens
 * it: two instances on one folder would corrupt it, so every store on a folder shares one
 * instance, closed with the last store. (Other processes reach it only through a server:
 * `pglite-server` from @electric-sql/pglite-socket, or a real PostgreSQL.)
 */
const openPglite = new Map<string, { db: Promise<PGlite>; users: number }>();

async function sharedPglite(dir: string | null, spec: string): Promise<SqlClient> {
  const { PGlite } = await optional('@electric-sql/pglite', 'pglite: galleries', () => import('@electric-sql/pglite'));
  const { vector } = await optional('@electric-sql/pglite-pgvector', 'pglite: galleries', () => import('@electric-sql/pglite-pgvector'));
  if (dir === null) return pgliteClient(await PGlite.create({ extensions: { vector } }), spec);
  const { resolve } = await import('node:path');
  const key = resolve(dir);
  let entry = openPglite.get(key);
  if (!entry) {
    entry = { db: PGlite.create(key, { extensions: { vector } }), users: 0 };
    openPglite.set(key, entry);
    entry.db.catch(() => openPglite.delete(key));
  }
  entry.users++;
  const shared = entry;
  const db = await shared.db;
  const client = pgliteClient(db, spec, false);
  let closed = false;
  return {
    ...client,
    close: async () => {
      if (closed) return;
      closed = true;
      if (--shared.users === 0) {
        openPglite.delete(key);
        await db.close();
      }
    },
  };
}
