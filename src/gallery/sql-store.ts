/**
 * {@link GalleryStore} on PostgreSQL with pgvector — embedded PGlite or a server, one set
 * of queries. Tables (`sql-schema.ts`): `facenet_gallery` (one row: dimension, metric,
 * threshold, model fingerprint, preprocessing), `facenet_identity` (name, enrolment time),
 * `facenet_embedding` (`vector(d)`, source, image SHA-256, enrolment time).
 *
 * Safe for concurrent writers by construction: every write is one transaction; identities
 * are created with `INSERT … ON CONFLICT (name)`, so two writers enrolling the same new
 * person share one row; creation and schema changes hold an advisory lock. Matching ranks
 * in the database (`<->`, `<=>`; an HNSW index when asked) and re-scores the winners in
 * double precision exactly as {@link Gallery.match} does, so both stores give one answer.
 */
import { ConfigError, FileNotFoundError } from '../errors.js';
import type { Preprocessing } from '../face/embedding.js';
import { checkGalleryCompatible, type GalleryExpectation } from './format.js';
import { checkIdentityName, checkQueries, Gallery, matchResultOf, type GalleryOptions, type MatchResult } from './gallery.js';
import { checkMetric, embeddingDistance, type GalleryMetric } from './metric.js';
import type { SqlClient, SqlQueryable } from './sql-client.js';
import { encodeEmbeddingRows } from './sql-copy.js';
import { embeddingTableStatements, lockGallery, migrateGallerySchema } from './sql-schema.js';
import {
  checkCreateCompatible,
  checkEnrollEntries,
  checkThreshold,
  galleryInfo,
  planEnrollment,
  type EnrollEntry,
  type GalleryUpdate,
  type GalleryUpdateResult,
  type GalleryStore,
  type GalleryStoreInfo,
  type StoredIdentity,
  type StoreIndexOptions,
  type StoreMatchOptions,
} from './store.js';

/** Name of the approximate-search index. */
const HNSW_INDEX = 'facenet_embedding_hnsw';
/** Rows per statement of a bulk insert (bounded message size; thousands of rows per round trip). */
const BULK_ROWS = 2000;
/**
 * Rows per binary COPY (a bounded message). Where PGlite stages a COPY in a temporary table
 * (an in-memory file system it could not mend, `sql-pglite.ts`), 10,000 rows of 128-d
 * (≈ 6 MB) stay within PostgreSQL's default 8 MB of temporary buffers;
 * 50,000 per COPY measured slower (100k rows in one enroll: 8.2 s of CPU against 6.0 s).
 */
const COPY_ROWS = 10_000;

/** Options of {@link SqlGalleryStore.open}. */
export interface SqlGalleryStoreOptions {
  /** Bring an older schema up to date on open. Default true; false refuses an outdated schema. */
  migrate?: boolean;
  /** HNSW candidate list size for approximate matches (`hnsw.ef_search`). Default 100. */
  efSearch?: number;
  /**
   * Embedding rows fetched per wanted identity by an approximate match, before grouping
   * them by identity. Default 4.
   */
  rowsPerIdentity?: number;
}

interface GalleryRow {
  dimension: number;
  metric: string;
  threshold: number;
  fingerprint: string;
  preprocessing: Preprocessing | null;
  model_location: string | null;
}

/** The columns of `facenet_gallery` that make a {@link GalleryRow}. */
const GALLERY_COLUMNS = 'dimension, metric, threshold, fingerprint, preprocessing, model_location';

/** The gallery description a `facenet_gallery` row holds. */
function infoOf(r: GalleryRow): GalleryStoreInfo {
  return {
    dimension: r.dimension,
    metric: checkMetric(r.metric),
    threshold: r.threshold,
    fingerprint: r.fingerprint,
    preprocessing: r.preprocessing,
    ...(r.model_location !== null ? { modelLocation: r.model_location } : {}),
  };
}

/** A description row read by a match: with whether the HNSW index exists. */
type DescribedRow = GalleryRow & { indexed: boolean };

/** A candidate of a match: its identity and embedding (pgvector's text form). */
interface CandidateRow {
  name: string;
  embedding: string;
}

/** What a match must know before it can write its search: fixed at creation, except the index. */
interface GalleryShape {
  dimension: number;
  metric: GalleryMetric;
  indexed: boolean;
}

/**
 * The statement that reads the description, whether the HNSW index exists, and sets this
 * transaction's `settings` (fixed names and numbers of the store's own, written in).
 */
function describeStatement(settings: readonly [string, string][]): string {
  return `SELECT ${GALLERY_COLUMNS}, to_regclass('${HNSW_INDEX}') IS NOT NULL AS indexed${settings
    .map(([name, value]) => `, set_config('${name}', '${value}', true)`)
    .join('')} FROM facenet_gallery`;
}

/** pgvector's text form of an embedding: `[x,y,…]`, each float32 written so that it reads back exactly. */
export function vectorLiteral(e: ArrayLike<number>): string {
  let s = '[';
  for (let i = 0; i < e.length; i++) s += (i ? ',' : '') + Math.fround(e[i]);
  return s + ']';
}

/**
 * A `vector[]` parameter written out (`{"[…]","[…]"}`): drivers that do not know pgvector's
 * array type would otherwise send a JavaScript array of strings in a form it cannot read.
 */
function vectorArrayLiteral(embeddings: readonly ArrayLike<number>[]): string {
  return '{' + embeddings.map((e) => `"${vectorLiteral(e)}"`).join(',') + '}';
}

/** Parse pgvector's text form. */
export function parseVector(text: string): Float32Array {
  const body = text.trim().slice(1, -1);
  return body === '' ? new Float32Array(0) : Float32Array.from(body.split(','), Number);
}

const isUniqueViolation = (e: unknown): boolean => (e as { code?: string })?.code === '23505';

/**
 * Memory (MB) for building an HNSW graph of `rows` vectors of `dimension` floats in memory:
 * each element holds its vector and up to 2·m neighbours on layer 0 (plus upper layers, on
 * average m/(m−1) times that in all), with pgvector's per-element overhead; 25 % slack. At
 * least PostgreSQL's default 64 MB, at most 1 GB (PGlite's WebAssembly heap is 32-bit) — but
 * never less than `configuredMB`, the database's own `maintenance_work_mem`: a server whose
 * administrator gave index builds more keeps it (a 1M × 128-d graph needs more than 1 GB).
 */
export function hnswBuildMemoryMB(rows: number, dimension: number, m: number, configuredMB = 0): number {
  const perElement = 4 * dimension + 8 + ((2 * m * m) / (m - 1)) * 10 + 96;
  return Math.max(configuredMB, Math.min(1024, Math.max(64, Math.ceil((rows * perElement * 1.25) / 2 ** 20))));
}

/** A gallery in a PostgreSQL database (see the module comment). */
export class SqlGalleryStore implements GalleryStore {
  private readonly efSearch: number;
  private readonly rowsPerIdentity: number;
  /** The schema version found on open and the version now (after any migration). */
  schema: { from: number; to: number } = { from: 0, to: 0 };
  /** The gallery's shape as the last checked match saw it: lets later matches go as one script. */
  private shape: GalleryShape | null = null;

  private constructor(
    private readonly client: SqlClient,
    opts: SqlGalleryStoreOptions,
  ) {
    this.efSearch = opts.efSearch ?? 100;
    this.rowsPerIdentity = opts.rowsPerIdentity ?? 4;
    for (const [name, v] of [['efSearch', this.efSearch], ['rowsPerIdentity', this.rowsPerIdentity]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(name, `must be a positive integer, got ${v}`);
    }
  }

  /**
   * A store on `client`: the schema is checked (and migrated unless `migrate: false`).
   * The store owns the client and closes it in {@link SqlGalleryStore.close}.
   */
  static async open(client: SqlClient, opts: SqlGalleryStoreOptions = {}): Promise<SqlGalleryStore> {
    const store = new SqlGalleryStore(client, opts);
    try {
      store.schema = await migrateGallerySchema(client, opts.migrate ?? true);
    } catch (e) {
      await client.close().catch(() => undefined);
      throw e;
    }
    return store;
  }

  get location(): string {
    return this.client.location;
  }

  private async readInfo(q: SqlQueryable): Promise<GalleryStoreInfo | null> {
    const { rows } = await q.query<GalleryRow>(`SELECT ${GALLERY_COLUMNS} FROM facenet_gallery`);
    return rows[0] ? infoOf(rows[0]) : null;
  }

  private async requiredInfo(q: SqlQueryable): Promise<GalleryStoreInfo> {
    const info = await this.readInfo(q);
    if (!info) throw new FileNotFoundError(this.location, 'gallery');
    return info;
  }

  info(): Promise<GalleryStoreInfo | null> {
    return this.readInfo(this.client);
  }

  private async insertGallery(tx: SqlQueryable, info: GalleryStoreInfo): Promise<void> {
    await tx.query(
      `INSERT INTO facenet_gallery (dimension, metric, threshold, fingerprint, preprocessing, model_location)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [info.dimension, info.metric, info.threshold, info.fingerprint, info.preprocessing ? JSON.stringify(info.preprocessing) : null, info.modelLocation ?? null],
    );
    for (const statement of embeddingTableStatements(info.dimension)) await tx.query(statement);
  }

  create(opts: GalleryOptions): Promise<GalleryStoreInfo> {
    // Gallery.create checks the options and works out the default threshold.
    const wanted = galleryInfo(Gallery.create({ ...opts, storage: { initialCapacity: 1 } }));
    return this.client.transaction(async (tx) => {
      await lockGallery(tx);
      const stored = await this.readInfo(tx);
      if (stored) {
        checkCreateCompatible(stored, opts, this.location);
        return stored;
      }
      await this.insertGallery(tx, wanted);
      return wanted;
    });
  }

  async open(expect?: GalleryExpectation): Promise<GalleryStoreInfo> {
    const info = await this.requiredInfo(this.client);
    if (expect) checkGalleryCompatible(info, expect, this.location);
    return info;
  }

  async identities(): Promise<StoredIdentity[]> {
    await this.requiredInfo(this.client);
    const { rows } = await this.client.query<StoredIdentity>(
      `SELECT i.name, count(*)::integer AS count FROM facenet_identity i
       JOIN facenet_embedding e ON e.identity_id = i.id GROUP BY i.id, i.name ORDER BY i.id`,
    );
    return rows;
  }

  /**
   * Insert rows `(identity, embedding, source, hash)`: by binary COPY where the client can
   * (PGlite; a server through `pg` with `pg-copy-streams`), else with a few large `unnest` statements.
   */
  private async insertEmbeddings(
    tx: SqlQueryable,
    identityIds: readonly unknown[],
    embeddings: readonly ArrayLike<number>[],
    sources: readonly (string | null)[],
    hashes: readonly (string | null)[],
  ): Promise<void> {
    const copy = tx.copyBinary?.bind(tx);
    const chunk = copy ? COPY_ROWS : BULK_ROWS;
    for (let at = 0; at < embeddings.length; at += chunk) {
      const end = Math.min(embeddings.length, at + chunk);
      if (copy) {
        const rows = [];
        for (let i = at; i < end; i++) {
          rows.push({ identityId: identityIds[i] as bigint | number | string, embedding: embeddings[i]!, source: sources[i]!, imageSha256: hashes[i]! });
        }
        await copy('facenet_embedding', ['identity_id', 'embedding', 'source', 'image_sha256'], encodeEmbeddingRows(rows));
        continue;
      }
      await tx.query(
        `INSERT INTO facenet_embedding (identity_id, embedding, source, image_sha256)
         SELECT * FROM unnest($1::bigint[], $2::vector[], $3::text[], $4::text[])`,
        [
          identityIds.slice(at, end),
          vectorArrayLiteral(embeddings.slice(at, end)),
          sources.slice(at, end),
          hashes.slice(at, end),
        ],
      );
    }
  }

  async enroll(entries: readonly EnrollEntry[]): Promise<void> {
    await this.update({ enroll: entries });
  }

  /** Add the embeddings of `plan` that are not skipped: every identity in one statement, the embeddings in a few. */
  private async insertPlanned(tx: SqlQueryable, plan: ReturnType<typeof planEnrollment>): Promise<void> {
    const kept = plan.filter((e) => !e.skip);
    if (kept.length === 0) return;
    // Identities in order of first appearance; the no-op update makes RETURNING give the id
    // whether the row is new or not.
    const names = [...new Set(kept.map((e) => e.name))];
    const { rows } = await tx.query<{ id: unknown; name: string }>(
      `INSERT INTO facenet_identity (name)
       SELECT name FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n) ORDER BY n
       ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id, name`,
      [names],
    );
    const idOf = new Map(rows.map((r) => [r.name, r.id]));
    await this.insertEmbeddings(
      tx,
      kept.map((e) => idOf.get(e.name)),
      kept.map((e) => e.embedding),
      kept.map((e) => e.source ?? null),
      kept.map((e) => e.imageHash ?? null),
    );
  }

  private async sourcesIn(q: SqlQueryable, names: readonly string[]): Promise<Map<string, string[]>> {
    const { rows } = await q.query<{ name: string; source: string }>(
      `SELECT i.name, e.source FROM facenet_identity i JOIN facenet_embedding e ON e.identity_id = i.id
       WHERE i.name = ANY($1::text[]) AND e.source IS NOT NULL ORDER BY i.id, e.id`,
      [[...new Set(names)]],
    );
    const out = new Map<string, string[]>();
    for (const r of rows) {
      const list = out.get(r.name);
      if (list) list.push(r.source);
      else out.set(r.name, [r.source]);
    }
    return out;
  }

  async sourcesOf(names: readonly string[]): Promise<Map<string, string[]>> {
    await this.requiredInfo(this.client);
    return this.sourcesIn(this.client, names);
  }

  async update(changes: GalleryUpdate): Promise<GalleryUpdateResult> {
    if (changes.threshold !== undefined) checkThreshold(changes.threshold);
    for (const { to } of changes.rename ?? []) checkIdentityName(to);
    // Gallery.create checks the options and works out the default threshold.
    const wanted = changes.create ? galleryInfo(Gallery.create({ ...changes.create, storage: { initialCapacity: 1 } })) : null;
    const skipEnrolled = changes.skipEnrolledSources ?? false;
    try {
      return await this.client.transaction(async (tx) => {
        // Creating the gallery, and leaving out sources already held, decide on what other
        // writers have committed: one such writer at a time.
        if (wanted || skipEnrolled) await lockGallery(tx);
        let info = await this.readInfo(tx);
        if (info && changes.create) checkCreateCompatible(info, changes.create, this.location);
        if (!info && wanted) {
          await this.insertGallery(tx, wanted);
          info = wanted;
        }
        if (!info) throw new FileNotFoundError(this.location, 'gallery');
        for (const name of changes.remove ?? []) {
          const { rows } = await tx.query('DELETE FROM facenet_identity WHERE name = $1 RETURNING id', [name]);
          if (rows.length === 0) throw new ConfigError('remove', `no identity named "${name}" in ${this.location}`);
        }
        for (const { from, to } of changes.rename ?? []) await this.renameIn(tx, from, to);
        const entries = changes.enroll ?? [];
        checkEnrollEntries(entries, info.dimension);
        const held = skipEnrolled ? await this.sourcesIn(tx, entries.map((e) => e.name)) : new Map<string, string[]>();
        const plan = planEnrollment(entries, skipEnrolled, (name) => held.get(name) ?? []);
        await this.insertPlanned(tx, plan);
        if (changes.threshold !== undefined) {
          await tx.query('UPDATE facenet_gallery SET threshold = $1', [changes.threshold]);
          info = { ...info, threshold: changes.threshold };
        }
        const pick = (skip: boolean) => plan.filter((e) => e.skip === skip).map((e) => ({ name: e.name, source: e.source }));
        return { info, added: pick(false), skipped: pick(true) };
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConfigError('name', `a renamed identity's new name is already taken in ${this.location}`);
      throw e;
    }
  }

  private async renameIn(tx: SqlQueryable, from: string, to: string): Promise<void> {
    const { rows } = await tx.query('SELECT id FROM facenet_identity WHERE name = $1 FOR UPDATE', [from]);
    if (rows.length === 0) throw new ConfigError('name', `no identity named "${from}"`);
    if (from !== to) await tx.query('UPDATE facenet_identity SET name = $2 WHERE name = $1', [from, to]);
  }

  async remove(name: string): Promise<boolean> {
    await this.requiredInfo(this.client);
    const { rows } = await this.client.query('DELETE FROM facenet_identity WHERE name = $1 RETURNING id', [name]);
    return rows.length > 0;
  }

  async rename(from: string, to: string): Promise<void> {
    checkIdentityName(to);
    await this.requiredInfo(this.client);
    try {
      await this.client.transaction((tx) => this.renameIn(tx, from, to));
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConfigError('name', `an identity named "${to}" already exists`);
      throw e;
    }
  }

  async setThreshold(threshold: number): Promise<void> {
    await this.update({ threshold });
  }

  async match(query: ArrayLike<number>, opts: StoreMatchOptions = {}): Promise<MatchResult> {
    const topK = opts.topK ?? 1;
    if (!Number.isInteger(topK) || topK < 1) throw new ConfigError('topK', `must be a positive integer, got ${topK}`);
    const approximate = opts.approximate ?? false;
    const threshold = opts.threshold;
    // Each statement costs a round trip (≈ 0.2 ms to a server on this host, ≈ 0.7 ms of CPU in
    // PGlite before any work): once the gallery's shape is known, the description and the
    // search go as one script; a gallery changed under it falls back to the checked path.
    const known = this.shape;
    // (The query goes into the script as numbers — `vectorLiteral` writes nothing else — and
    // one the gallery cannot take, say with a NaN, fails there and gets its error below.)
    if (this.client.script && known && query.length === known.dimension && (!approximate || known.indexed)) {
      const answer = await this.matchInOneTrip(this.client.script, known, query, topK, approximate, threshold).catch(() => null);
      if (answer) return answer;
    }
    return this.client.transaction(async (tx) => {
      const { rows: described } = await tx.query<DescribedRow>(describeStatement(this.settingsFor(approximate, topK)));
      const row = described[0];
      if (!row) throw new FileNotFoundError(this.location, 'gallery');
      const info = infoOf(row);
      this.shape = { dimension: info.dimension, metric: info.metric, indexed: row.indexed };
      checkQueries([query], info.dimension); // the in-memory gallery's own query checks (length, finite values)
      if (approximate && !row.indexed) throw new ConfigError('approximate', `no HNSW index in ${this.location}: call createIndex() first`);
      const { rows } = await tx.query<CandidateRow>(this.searchStatement(info.metric, '$1::vector', approximate, topK), [vectorLiteral(query)]);
      return rescore(info, query, rows, topK, threshold ?? info.threshold);
    });
  }

  /**
   * {@link SqlGalleryStore.match} as one script on a gallery of the `known` shape, the query
   * written into it as a `vector` literal; null when the gallery is no longer of that shape
   * or has lost its index (the caller then takes the checked path, which says what is wrong).
   */
  private async matchInOneTrip(
    script: NonNullable<SqlClient['script']>,
    known: GalleryShape,
    query: ArrayLike<number>,
    topK: number,
    approximate: boolean,
    threshold: number | undefined,
  ): Promise<MatchResult | null> {
    const search = this.searchStatement(known.metric, `'${vectorLiteral(query)}'::vector`, approximate, topK);
    const [described, found] = await script(`${describeStatement(this.settingsFor(approximate, topK))}; ${search}`);
    const row = described?.rows[0] as unknown as DescribedRow | undefined;
    if (!row || !found || row.dimension !== known.dimension || row.metric !== known.metric || (approximate && !row.indexed)) {
      this.shape = null;
      return null;
    }
    const info = infoOf(row);
    return rescore(info, query, found.rows as unknown as CandidateRow[], topK, threshold ?? info.threshold);
  }

  /** The transaction-local settings of a match: the HNSW candidate list, or no index at all for an exact one. */
  private settingsFor(approximate: boolean, topK: number): [string, string][] {
    return approximate
      ? [['hnsw.ef_search', String(Math.max(this.efSearch, topK * this.rowsPerIdentity))]]
      : [['enable_indexscan', 'off']]; // an exact scan even when an HNSW index exists
  }

  /** The statement that ranks embeddings against `vector` (SQL: a parameter or a literal). */
  private searchStatement(metric: GalleryMetric, vector: string, approximate: boolean, topK: number): string {
    const op = metric === 'cosine' ? '<=>' : '<->';
    if (approximate) {
      return `SELECT i.name, n.embedding::text AS embedding FROM
         (SELECT identity_id, embedding FROM facenet_embedding ORDER BY embedding ${op} ${vector} LIMIT ${topK * this.rowsPerIdentity}) n
       JOIN facenet_identity i ON i.id = n.identity_id`;
    }
    return topK === 1
      ? `SELECT i.name, n.embedding::text AS embedding FROM
           (SELECT identity_id, embedding FROM facenet_embedding ORDER BY embedding ${op} ${vector} LIMIT 1) n
         JOIN facenet_identity i ON i.id = n.identity_id`
      : `SELECT i.name, b.embedding::text AS embedding FROM
           (SELECT DISTINCT ON (identity_id) identity_id, embedding, embedding ${op} ${vector} AS d
            FROM facenet_embedding ORDER BY identity_id, d) b
         JOIN facenet_identity i ON i.id = b.identity_id ORDER BY b.d LIMIT ${topK}`;
  }

  async createIndex(opts: StoreIndexOptions = {}): Promise<void> {
    const m = opts.m ?? 16;
    const ef = opts.efConstruction ?? 64;
    for (const [name, v] of [['m', m], ['efConstruction', ef]] as const) {
      if (!Number.isInteger(v) || v < 2) throw new ConfigError(name, `must be an integer ≥ 2, got ${v}`);
    }
    const info = await this.requiredInfo(this.client);
    const ops = info.metric === 'cosine' ? 'vector_cosine_ops' : 'vector_l2_ops';
    await this.client.transaction(async (tx) => {
      await tx.query(`DROP INDEX IF EXISTS ${HNSW_INDEX}`);
      // pgvector builds the graph in memory while it fits maintenance_work_mem (default 64 MB)
      // and much more slowly on disk after that: give this one statement what the graph needs.
      const { rows } = await tx.query<{ n: number; mb: number }>(
        `SELECT (SELECT count(*)::integer FROM facenet_embedding) AS n,
                (pg_size_bytes(current_setting('maintenance_work_mem')) / 1048576)::integer AS mb`,
      );
      await tx.query(`SET LOCAL maintenance_work_mem = '${hnswBuildMemoryMB(rows[0].n, info.dimension, m, rows[0].mb)}MB'`);
      await tx.query(`CREATE INDEX ${HNSW_INDEX} ON facenet_embedding USING hnsw (embedding ${ops}) WITH (m = ${m}, ef_construction = ${ef})`);
    });
  }

  async load(opts: { storage?: GalleryOptions['storage'] } = {}): Promise<Gallery> {
    return this.client.transaction(async (tx) => {
      const info = await this.requiredInfo(tx);
      const { rows } = await tx.query<{ name: string; embedding: string; source: string | null }>(
        `SELECT i.name, e.embedding::text AS embedding, e.source FROM facenet_embedding e
         JOIN facenet_identity i ON i.id = e.identity_id ORDER BY i.id, e.id`,
      );
      const gallery = Gallery.create({ ...info, storage: { initialCapacity: Math.max(1, rows.length), ...opts.storage } });
      for (let start = 0; start < rows.length; ) {
        let end = start;
        while (end < rows.length && rows[end]!.name === rows[start]!.name) end++;
        const group = rows.slice(start, end);
        gallery.add(group[0]!.name, group.map((r) => parseVector(r.embedding)), group.map((r) => r.source ?? undefined));
        start = end;
      }
      return gallery;
    });
  }

  /** Drop the embeddings table (with its indexes) and every identity and description row. */
  private async clearIn(tx: SqlQueryable): Promise<void> {
    await lockGallery(tx);
    await tx.query('DROP TABLE IF EXISTS facenet_embedding');
    await tx.query('DELETE FROM facenet_identity');
    await tx.query('DELETE FROM facenet_gallery');
  }

  clear(): Promise<void> {
    return this.client.transaction((tx) => this.clearIn(tx));
  }

  async replace(gallery: Gallery): Promise<void> {
    await this.client.transaction(async (tx) => {
      await this.clearIn(tx);
      await this.insertGallery(tx, galleryInfo(gallery));
      const groups = [...gallery.groups()];
      if (groups.length === 0) return;
      const { rows } = await tx.query<{ id: unknown; name: string }>(
        `INSERT INTO facenet_identity (name)
         SELECT name FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n) ORDER BY n RETURNING id, name`,
        [groups.map((g) => g.name)],
      );
      const idOf = new Map(rows.map((r) => [r.name, r.id]));
      const ids: unknown[] = [];
      const embeddings: Float32Array[] = [];
      const sources: (string | null)[] = [];
      for (const g of groups) {
        g.embeddings.forEach((e, i) => {
          ids.push(idOf.get(g.name));
          embeddings.push(e);
          sources.push(g.sources[i] ?? null);
        });
      }
      await this.insertEmbeddings(tx, ids, embeddings, sources, new Array<null>(embeddings.length).fill(null));
    });
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** The {@link MatchResult} of candidate rows, re-scored exactly (in double precision) as {@link Gallery.match} scores. */
function rescore(
  info: { metric: GalleryMetric },
  query: ArrayLike<number>,
  rows: readonly CandidateRow[],
  topK: number,
  threshold: number,
): MatchResult {
  const scored = rows.map((r) => ({ name: r.name, distance: embeddingDistance(info.metric, query, parseVector(r.embedding)) }));
  return matchResultOf(scored, topK, threshold);
}
