/**
 * The gallery's PostgreSQL schema and its migrations, one list for PGlite and servers.
 * `facenet_schema` holds the version; {@link migrateGallerySchema} brings a database up to
 * {@link GALLERY_SCHEMA_VERSION} under an advisory lock, so processes opening one database
 * at the same time migrate it once.
 */
import { IncompatibleFileError } from '../errors.js';
import type { SqlClient, SqlQueryable } from './sql-client.js';

/** Advisory-lock key serializing schema changes and gallery creation (any fixed 64-bit number). */
export const GALLERY_LOCK_KEY = 7_316_205_341;

/** Statements of each schema version, in order; version `i + 1` is `MIGRATIONS[i]`. */
const MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE facenet_gallery (
       singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
       dimension integer NOT NULL CHECK (dimension > 0),
       metric text NOT NULL CHECK (metric IN ('squared-euclidean', 'cosine', 'mean-squared')),
       threshold double precision NOT NULL CHECK (threshold > 0),
       fingerprint text NOT NULL,
       preprocessing jsonb,
       model_location text,
       created_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE facenet_identity (
       id bigserial PRIMARY KEY,
       name text NOT NULL UNIQUE,
       enrolled_at timestamptz NOT NULL DEFAULT now())`,
  ],
];

/** The schema version this library writes (and the newest it reads). */
export const GALLERY_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * The embeddings table: its `vector(d)` column needs the gallery's dimension, so it is
 * created with the gallery, not by a migration.
 */
export function embeddingTableStatements(dimension: number): string[] {
  if (!Number.isInteger(dimension) || dimension < 1) throw new RangeError(`bad dimension ${dimension}`);
  return [
    `CREATE TABLE facenet_embedding (
       id bigserial PRIMARY KEY,
       identity_id bigint NOT NULL REFERENCES facenet_identity (id) ON DELETE CASCADE,
       embedding vector(${dimension}) NOT NULL,
       source text,
       image_sha256 text,
       enrolled_at timestamptz NOT NULL DEFAULT now())`,
    'CREATE INDEX facenet_embedding_identity ON facenet_embedding (identity_id)',
  ];
}

/** Take the gallery's advisory lock until the end of the transaction. */
export async function lockGallery(tx: SqlQueryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [GALLERY_LOCK_KEY]);
}

async function versionOf(tx: SqlQueryable): Promise<number> {
  const { rows } = await tx.query<{ version: number | null }>('SELECT max(version) AS version FROM facenet_schema');
  return rows[0]?.version ?? 0;
}

/**
 * Bring the database's gallery schema up to date.
 * @param apply false to only read the version (then an outdated schema is an error).
 * @returns the version found and the version now.
 * @throws {IncompatibleFileError} when the schema is newer than this library, or outdated
 *   and `apply` is false.
 */
export async function migrateGallerySchema(client: SqlClient, apply = true): Promise<{ from: number; to: number }> {
  return client.transaction(async (tx) => {
    await lockGallery(tx);
    await tx.query('CREATE EXTENSION IF NOT EXISTS vector');
    await tx.query('CREATE TABLE IF NOT EXISTS facenet_schema (version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now())');
    const from = await versionOf(tx);
    if (from > GALLERY_SCHEMA_VERSION) {
      throw new IncompatibleFileError(
        client.location,
        `gallery schema version ${from} is newer than this library's (${GALLERY_SCHEMA_VERSION}); upgrade tfjs-facenet`,
      );
    }
    if (from < GALLERY_SCHEMA_VERSION && !apply) {
      throw new IncompatibleFileError(
        client.location,
        `gallery schema version ${from} is older than this library's (${GALLERY_SCHEMA_VERSION}); run tfjs-facenet gallery migrate`,
      );
    }
    for (let v = from + 1; v <= GALLERY_SCHEMA_VERSION; v++) {
      for (const statement of MIGRATIONS[v - 1]!) await tx.query(statement);
      await tx.query('INSERT INTO facenet_schema (version) VALUES ($1)', [v]);
    }
    return { from, to: GALLERY_SCHEMA_VERSION };
  });
}
