/**
 * {@link SqlClient} over a PostgreSQL server through a `pg` connection pool (Node only;
 * `pg` is an optional peer dependency).
 */
import type { SqlClient } from './sql-client.js';

/** What {@link pgPoolClient} uses of a `pg` client or pooled connection (structural: no `pg` types needed). */
export interface PgQueryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  /** Run a `COPY … FROM STDIN` stream (`pg` returns the stream; its outcome arrives on it). */
  query(copy: PgCopyStream): unknown;
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
 * What {@link pgPoolClient} uses of `pg-copy-streams`' `from` (structural): a `COPY … FROM
 * STDIN` statement as a writable stream that a connection's `query` runs.
 */
export type PgCopyFrom = (sql: string) => PgCopyStream;

/** The writable side of a `COPY … FROM STDIN` (a `pg-copy-streams` stream). */
export interface PgCopyStream {
  write(chunk: Uint8Array): boolean;
  end(): void;
  on(event: 'finish' | 'error', listener: (e?: unknown) => void): unknown;
}

/**
 * A {@link SqlClient} on a `pg` pool. Transactions take one connection of the pool.
 * @param location names the database in messages; never include the password.
 * @param copyFrom `pg-copy-streams`' `from`: bulk inserts then go as binary COPY (7.6× the
 *   rate of the text statements used without it, in `BENCHMARKS.md`).
 */
export function pgPoolClient(pool: PgPool, location: string, copyFrom?: PgCopyFrom): SqlClient {
  // PGlite served over a socket (pglite-socket) runs a single-user backend that loses the
  // protocol on COPY FROM STDIN: ask the server once what it is (again after a failed ask).
  let copyChecked: Promise<boolean> | null = null;
  const canCopy = () =>
    (copyChecked ??= copyFrom
      ? pool.query('SELECT version() AS v').then(
          (r) => !/PGlite|emscripten/.test(String((r.rows[0] as { v: string }).v)),
          (e: unknown) => {
            copyChecked = null;
            throw e;
          },
        )
      : Promise.resolve(false));
  return {
    location,
    query: async <R>(sql: string, params?: readonly unknown[]) => {
      const r = await pool.query(sql, params ? [...params] : undefined);
      return { rows: r.rows as R[] };
    },
    async transaction(work) {
      const copy = (await canCopy()) ? copyFrom : undefined;
      const conn = await pool.connect();
      try {
        await conn.query('BEGIN');
        const result = await work({
          query: async <R>(sql: string, params?: readonly unknown[]) => {
            const r = await conn.query(sql, params ? [...params] : undefined);
            return { rows: r.rows as R[] };
          },
          ...(copy
            ? { copyBinary: (table: string, columns: readonly string[], data: Uint8Array<ArrayBuffer>) => copyRows(conn, copy, table, columns, data) }
            : {}),
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
    async script(sql: string) {
      // Without parameters `pg` sends one simple query; several statements give several results.
      const r = (await pool.query(sql)) as { rows: Record<string, unknown>[] } | { rows: Record<string, unknown>[] }[];
      return (Array.isArray(r) ? r : [r]).map((x) => ({ rows: x.rows }));
    },
    close: () => pool.end(),
  };
}

/** Stream `data` (binary COPY rows) into `table (columns)` on one connection. */
function copyRows(conn: PgQueryable, copyFrom: PgCopyFrom, table: string, columns: readonly string[], data: Uint8Array): Promise<void> {
  const stream = copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN (FORMAT binary)`);
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', () => resolve());
    stream.on('error', reject);
  });
  // pg runs the stream as a statement; its errors arrive on the stream, not this promise.
  conn.query(stream);
  stream.write(data);
  stream.end();
  return done;
}

/** `postgres://user:secret@host/db` → `postgres://user@host/db`: a connection string fit for messages. */
export function redactConnectionString(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/, '$1@');
}
