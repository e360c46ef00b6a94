/**
 * {@link SqlClient} over PGlite — PostgreSQL compiled to WebAssembly, in memory, in a
 * folder (Node) or in IndexedDB (browser). Browser-safe: the caller creates the database
 * with the pgvector extension, e.g. `new PGlite('idb://faces', { extensions: { vector } })`.
 */
import type { SqlClient, SqlQueryable } from './sql-client.js';

/** What {@link pgliteClient} uses of a PGlite transaction (structural: no PGlite types needed). */
export interface PgliteQueryable {
  query<R>(sql: string, params?: unknown[], options?: { blob?: Blob }): Promise<{ rows: R[] }>;
}

/**
 * What {@link pgliteClient} uses of a PGlite database. Structural, so this package's
 * declarations do not depend on PGlite's (which need `skipLibCheck`); a `PGlite` instance fits.
 */
export interface PgliteDatabase extends PgliteQueryable {
  readonly dataDir?: string;
  transaction<T>(callback: (tx: PgliteQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A {@link SqlClient} on a PGlite database (which must have been created with the
 * `vector` extension from `@electric-sql/pglite-pgvector`).
 * @param location names the database in messages (default its data directory).
 * @param closeDatabase close `db` when the client is closed. Default true.
 */
export function pgliteClient(db: PgliteDatabase, location?: string, closeDatabase = true): SqlClient {
  const run = (q: PgliteQueryable): SqlQueryable => ({
    query: async <R>(sql: string, params?: readonly unknown[]) => q.query<R>(sql, params ? [...params] : undefined),
    copyBinary: (table, columns, data) => copyStaged(q, table, columns, data),
  });
  return {
    location: location ?? `pglite:${db.dataDir ?? 'memory'}`,
    ...run(db),
    // The staging table lives until the end of a transaction: outside one, make one.
    copyBinary: (table, columns, data) => db.transaction((tx) => copyStaged(tx, table, columns, data)),
    transaction: (work) => db.transaction((tx) => work(run(tx))),
    close: async () => {
      if (closeDatabase) await db.close();
    },
  };
}

/** The per-transaction table that {@link copyStaged} loads first. */
const STAGE_TABLE = 'facenet_copy_stage';

/**
 * Binary `COPY` of `data` into `table (columns)` by way of a fresh temporary table, then one
 * `INSERT … SELECT` (which moves the values without parsing them). Run in a transaction.
 *
 * Why not COPY straight into `table`: COPY extends a table many pages at a time, which
 * PostgreSQL does with `posix_fallocate`; Emscripten implements that as `ftruncate`, and its
 * in-memory file system (PGlite in memory, and in IndexedDB, which is held in memory too)
 * answers a truncate by copying the whole file into a new buffer of the exact size. Every
 * extension then costs the size of the table so far, and loading n rows costs O(n²): a
 * 10,000-row COPY took 0.4 s of CPU into an empty table and 2.9 s into one of 90,000 rows.
 * The staging table starts empty each time, and `INSERT … SELECT` extends the real table
 * one page at a time with plain writes, which that file system grows geometrically.
 */
async function copyStaged(q: PgliteQueryable, table: string, columns: readonly string[], data: Uint8Array<ArrayBuffer>): Promise<void> {
  const list = columns.join(', ');
  await q.query(`CREATE TEMP TABLE ${STAGE_TABLE} ON COMMIT DROP AS SELECT ${list} FROM ${table} LIMIT 0`);
  // PGlite reads COPY data from a Blob given with the query, named '/dev/blob'.
  await q.query(`COPY ${STAGE_TABLE} FROM '/dev/blob' WITH (FORMAT binary)`, [], { blob: new Blob([data]) });
  await q.query(`INSERT INTO ${table} (${list}) SELECT ${list} FROM ${STAGE_TABLE}`);
  // Dropped now, not at commit, so that one transaction can load several chunks.
  await q.query(`DROP TABLE ${STAGE_TABLE}`);
}
