/**
 * The little a gallery needs from a PostgreSQL connection, so that one set of queries
 * serves embedded PGlite (`sql-pglite.ts`, browser-safe) and a server through `pg`
 * (`sql-pg.ts`, Node).
 */

/** Runs one parameterized statement (`$1`, `$2`, …). */
export interface SqlQueryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
  /**
   * Bulk-load `data`, rows in PostgreSQL's binary COPY format, into `table (columns)`.
   * Absent where the driver cannot send COPY data (then rows are inserted by statements).
   */
  copyBinary?(table: string, columns: readonly string[], data: Uint8Array<ArrayBuffer>): Promise<void>;
}

/** A database connection (or pool) with transactions. */
export interface SqlClient extends SqlQueryable {
  /** The database as the user named it, without secrets (for messages). */
  readonly location: string;
  /** Run `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /**
   * Run `sql`, statements without parameters separated by `;`, in one round trip (PostgreSQL's
   * simple query protocol: they share one implicit transaction), returning each statement's
   * rows in order. Absent where the driver cannot.
   */
  script?(sql: string): Promise<{ rows: Record<string, unknown>[] }[]>;
  /** Close the connection(s). */
  close(): Promise<void>;
}
