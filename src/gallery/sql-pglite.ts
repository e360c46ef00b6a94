/**
 * {@link SqlClient} over PGlite — PostgreSQL compiled to WebAssembly, in memory, in a
 * folder (Node) or in IndexedDB (browser). Browser-safe: the caller creates the database
 * with the pgvector extension, e.g. `new PGlite('idb://faces', { extensions: { vector } })`.
 */
import type { PGlite } from '@electric-sql/pglite';
import type { SqlClient, SqlQueryable } from './sql-client.js';

/**
 * A {@link SqlClient} on a PGlite database (which must have been created with the
 * `vector` extension from `@electric-sql/pglite-pgvector`).
 * @param location names the database in messages (default its data directory).
 * @param closeDatabase close `db` when the client is closed. Default true.
 */
export function pgliteClient(db: PGlite, location?: string, closeDatabase = true): SqlClient {
  const run = (q: Pick<PGlite, 'query'>): SqlQueryable => ({
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
