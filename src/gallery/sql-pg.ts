/**
 * {@link SqlClient} over a PostgreSQL server through a `pg` connection pool (Node only;
 * `pg` is an optional peer dependency).
 */
import type { SqlClient } from './sql-client.js';

/** What {@link pgPoolClient} uses of a `pg` client or pooled connection (structural: no `pg` types needed). */
export interface PgQueryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * What {@link pgPoolClient} uses of a `pg` `Pool`. Structural, so this package's declarations
 * compile without `pg` installed (it is an optional peer); a `pg.Pool` fits.
 */
export interface PgPool extends PgQueryable {
  connect(): Promise<PgQueryable & { release(): void }>;
  end(): Promise<void>;
}

/**
 * A {@link SqlClient} on a `pg` pool. Transactions take one connection of the pool.
 * @param location names the database in messages; never include the password.
 */
export function pgPoolClient(pool: PgPool, location: string): SqlClient {
  return {
    location,
    query: async <R>(sql: string, params?: readonly unknown[]) => {
      const r = await pool.query(sql, params ? [...params] : undefined);
      return { rows: r.rows as R[] };
    },
    async transaction(work) {
      const conn = await pool.connect();
      try {
        await conn.query('BEGIN');
        const result = await work({
          query: async <R>(sql: string, params?: readonly unknown[]) => {
            const r = await conn.query(sql, params ? [...params] : undefined);
            return { rows: r.rows as R[] };
          },
        });
        await conn.query('COMMIT');
        return result;
      } catch (e) {
        await conn.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        conn.release();
      }
    },
    close: () => pool.end(),
  };
}

/** `postgres://user:secret@host/db` → `postgres://user@host/db`: a connection string fit for messages. */
export function redactConnectionString(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/, '$1@');
}
