/**
 * {@link SqlClient} over a PostgreSQL server through a `pg` connection pool (Node only;
 * `pg` is an optional peer dependency).
 */
import type { Pool } from 'pg';
import type { SqlClient } from './sql-client.js';

/**
 * A {@link SqlClient} on a `pg` pool. Transactions take one connection of the pool.
 * @param location names the database in messages; never include the password.
 */
export function pgPoolClient(pool: Pool, location: string): SqlClient {
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
