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
    // PGlite reads COPY data from a Blob given with the query, named '/dev/blob'.
    copyBinary: async (table, columns, data) => {
      await q.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob' WITH (FORMAT binary)`, [], { blob: new Blob([data]) });
    },
  });
  return {
    location: location ?? `pglite:${db.dataDir ?? 'memory'}`,
    ...run(db),
    transaction: (work) => db.transaction((tx) => work(run(tx))),
    close: async () => {
      if (closeDatabase) await db.close();
    },
  };
}
