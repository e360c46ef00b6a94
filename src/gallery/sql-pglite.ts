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
  /** Several statements in one simple query, each one's rows (PGlite's `exec`). */
  exec?(sql: string): Promise<{ rows: unknown[] }[]>;
  /** The Emscripten module (PGlite's `Module`), whose in-memory file system {@link pgliteClient} mends. */
  readonly Module?: { FS?: { filesystems?: { MEMFS?: unknown } } };
  close(): Promise<void>;
}

/**
 * A {@link SqlClient} on a PGlite database (which must have been created with the
 * `vector` extension from `@electric-sql/pglite-pgvector`). A database in memory or in
 * IndexedDB has its in-memory file system mended on the way: files grown by truncation keep a
 * geometrically grown buffer (bulk loads stay linear in their size) and count as modified
 * (IndexedDB persistence saves their new size).
 * @param location names the database in messages (default its data directory).
 * @param closeDatabase close `db` when the client is closed. Default true.
 */
export function pgliteClient(db: PgliteDatabase, location?: string, closeDatabase = true): SqlClient {
  const memoryFs = onMemoryFs(db.dataDir);
  // A database made with `new PGlite(…)` has no module until it is ready: mend its file system
  // now if it is, else after the first statement (before any bulk load).
  let mended = memoryFs && growFilesGeometrically(db);
  const mend = (): void => {
    if (memoryFs && !mended) mended = growFilesGeometrically(db);
  };
  const stageAbove = (): number => (memoryFs && !mended ? STAGE_ABOVE_BYTES : Infinity);
  const exec = db.exec?.bind(db);
  const run = (q: PgliteQueryable): SqlQueryable => ({
    query: async <R>(sql: string, params?: readonly unknown[]) => {
      const result = await q.query<R>(sql, params ? [...params] : undefined);
      mend();
      return result;
    },
    copyBinary: (table, columns, data) => {
      mend();
      return copyRows(q, table, columns, data, stageAbove());
    },
  });
  return {
    location: location ?? `pglite:${db.dataDir ?? 'memory'}`,
    ...run(db),
    // A staging table lives until the end of a transaction: outside one, make one.
    copyBinary: (table, columns, data) => {
      mend();
      return db.transaction((tx) => copyRows(tx, table, columns, data, stageAbove()));
    },
    transaction: (work) => db.transaction((tx) => work(run(tx))),
    ...(exec ? { script: async (sql: string) => (await exec(sql)).map((r) => ({ rows: r.rows as Record<string, unknown>[] })) } : {}),
    close: async () => {
      if (closeDatabase) await db.close();
    },
  };
}

/** What {@link growFilesGeometrically} replaces of Emscripten's MEMFS. */
interface MemoryFs {
  resizeFileStorage(node: MemoryFile, size: number): void;
  expandFileStorage(node: MemoryFile, capacity: number): void;
}
interface MemoryFile {
  contents: Uint8Array | null;
  usedBytes: number;
  mtime?: number;
  ctime?: number;
}
const MENDED = Symbol.for('tfjs-facenet.memfs-grows-geometrically');

/**
 * Make `db`'s in-memory file system (MEMFS) grow a file geometrically when it is truncated
 * to a larger size, as it already does for writes; true if it does (now or before), false
 * where `db` has no such file system to mend (then {@link copyRows} stages large loads).
 *
 * Why: PostgreSQL extends a table by many pages at once with `posix_fallocate`, which
 * Emscripten runs as a truncate, and MEMFS answers every truncate by copying the whole file
 * into a buffer of exactly the new size — O(table) per extension, O(n²) per bulk load. Here a
 * truncate keeps the buffer when it is large enough and otherwise grows it like a write does;
 * the file's size (`usedBytes`) is what it was asked to be and bytes past it read as zeros,
 * so nothing PostgreSQL sees changes. The truncate also moves the file's modification time, as
 * POSIX has it, so that IndexedDB persistence saves the new size. Each PGlite instance has its
 * own module, so only `db` is affected.
 */
export function growFilesGeometrically(db: PgliteDatabase): boolean {
  let memfs: (MemoryFs & { [MENDED]?: true }) | undefined;
  try {
    memfs = db.Module?.FS?.filesystems?.MEMFS as typeof memfs;
  } catch {
    return false; // a `Module` getter that throws: nothing to mend (a PGlite not yet ready has none, without throwing)
  }
  if (!memfs || typeof memfs.resizeFileStorage !== 'function' || typeof memfs.expandFileStorage !== 'function') return false;
  if (memfs[MENDED]) return true;
  const expand = memfs.expandFileStorage.bind(memfs);
  memfs.resizeFileStorage = (node, size) => {
    const used = node.usedBytes;
    if (size === used) return;
    if (size < used) {
      node.contents!.fill(0, size, used); // what lies past the end must read as zeros if it grows again
    } else {
      expand(node, size); // new bytes are zero: a fresh buffer, or cleared when the file shrank
    }
    node.usedBytes = size;
    // A truncate changes the file, which MEMFS does not record; IndexedDB persistence
    // (Emscripten's IDBFS) saves only files whose mtime moved since the last save, so a table
    // extended by truncation came back without its last extension after a reload.
    if (typeof node.mtime === 'number') node.mtime = node.ctime = Math.max(Date.now(), node.mtime + 1);
  };
  memfs[MENDED] = true;
  return true;
}

/** The per-transaction table that {@link copyRows} loads first. */
const STAGE_TABLE = 'facenet_copy_stage';

/**
 * Tables larger than this are loaded by way of a staging table on an in-memory file system
 * that {@link growFilesGeometrically} could not mend (see {@link copyRows}). Measured on
 * 128-d rows: a staged load costs ≈ 40 µs more per row than a direct COPY, which a direct
 * COPY's extensions overtake from ≈ 30,000 rows (≈ 18 MB).
 */
const STAGE_ABOVE_BYTES = 16 * 1024 * 1024;

/**
 * Whether PGlite keeps a database of `dataDir` in Emscripten's in-memory file system (no
 * folder, `memory://`, `idb://` — IndexedDB is loaded into memory —, `memfs2opfs://`), where
 * {@link copyRows} stages large loads. A folder (`file://` or a plain path) is the real one.
 */
export function onMemoryFs(dataDir: string | undefined): boolean {
  return !dataDir || /^(memory|idb|memfs2opfs):\/\//.test(dataDir);
}

/**
 * Binary `COPY` of `data` into `table (columns)`; run in a transaction. When `table` is
 * larger than `stageAboveBytes`, by way of a fresh temporary table and one `INSERT … SELECT`
 * (which moves the values without parsing them).
 *
 * Why: COPY extends a table many pages at a time, which PostgreSQL does with
 * `posix_fallocate`; Emscripten implements that as `ftruncate`, and its in-memory file system
 * answers a truncate by copying the whole file into a new buffer of the exact size. Every
 * extension then costs the size of the table so far, and loading n rows costs O(n²): a
 * 10,000-row COPY took 0.4 s of CPU into an empty table and 2.9 s into one of 90,000 rows.
 * The staging table starts empty each time, and `INSERT … SELECT` extends the real table one
 * page at a time with plain writes, which that file system grows geometrically. A database
 * whose file system {@link growFilesGeometrically} mended needs none of this.
 */
export async function copyRows(
  q: PgliteQueryable,
  table: string,
  columns: readonly string[],
  data: Uint8Array<ArrayBuffer>,
  stageAboveBytes: number,
): Promise<void> {
  const list = columns.join(', ');
  // PGlite reads COPY data from a Blob given with the query, named '/dev/blob'.
  const blob = { blob: new Blob([data]) };
  if (stageAboveBytes !== Infinity) {
    const { rows } = await q.query<{ bytes: number }>('SELECT pg_relation_size($1::regclass)::float8 AS bytes', [table]);
    if (rows[0]!.bytes <= stageAboveBytes) stageAboveBytes = Infinity;
  }
  if (stageAboveBytes === Infinity) {
    await q.query(`COPY ${table} (${list}) FROM '/dev/blob' WITH (FORMAT binary)`, [], blob);
    return;
  }
  await q.query(`CREATE TEMP TABLE ${STAGE_TABLE} ON COMMIT DROP AS SELECT ${list} FROM ${table} LIMIT 0`);
  await q.query(`COPY ${STAGE_TABLE} FROM '/dev/blob' WITH (FORMAT binary)`, [], blob);
  await q.query(`INSERT INTO ${table} (${list}) SELECT ${list} FROM ${STAGE_TABLE}`);
  // Dropped now, not at commit, so that one transaction can load several chunks.
  await q.query(`DROP TABLE ${STAGE_TABLE}`);
}
