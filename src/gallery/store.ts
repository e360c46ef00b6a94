/**
 * The one interface through which the gallery commands and services read and write a
 * stored gallery, whatever holds it: a gallery file (`file-store.ts`) or a PostgreSQL
 * database with pgvector (`sql-store.ts`, embedded PGlite or a server). Every
 * implementation passes the same test suite (`test/gallery-store.test.ts`).
 */
import { ConfigError, IncompatibleFileError, ShapeError } from '../errors.js';
import { checkIdentityName, type Gallery, type GalleryOptions, type GalleryStoreInfo, type MatchResult } from './gallery.js';
import { checkGalleryCompatible, type GalleryExpectation } from './format.js';

export type { GalleryStoreInfo } from './gallery.js';
export { galleryInfo } from './gallery.js';

/** Embeddings of one identity to enrol. */
export interface EnrollEntry {
  name: string;
  embeddings: readonly ArrayLike<number>[];
  /** One description per embedding (e.g. the image path), or none. */
  sources?: readonly (string | undefined)[];
  /**
   * One SHA-256 (hex) of the source image per embedding, or none. Kept by the database
   * stores; the version-1 gallery file has no place for it and drops it.
   */
  imageHashes?: readonly (string | undefined)[];
}

/** An identity and how many embeddings it has. */
export interface StoredIdentity {
  name: string;
  count: number;
}

/**
 * One change of a stored gallery, made all at once (one transaction, or one locked
 * read-modify-write of a gallery file): what `tfjs-facenet enroll` does in one step. The
 * parts are applied in this order: create, remove, rename, enroll, threshold.
 */
export interface GalleryUpdate {
  /**
   * The gallery to create when the store holds none. When one is stored (perhaps created by
   * another process meanwhile) it is checked as {@link GalleryStore.create} checks it.
   * Without it, a store holding no gallery is a {@link FileNotFoundError}.
   */
  create?: GalleryOptions;
  /** Identities to remove; one that is not enrolled is a {@link ConfigError} (nothing is changed). */
  remove?: readonly string[];
  /** Identities to rename, in order. */
  rename?: readonly { from: string; to: string }[];
  /** Embeddings to add. */
  enroll?: readonly EnrollEntry[];
  /**
   * Leave out an embedding whose source its identity already holds (stored, or earlier in
   * this update): enrolling the same file twice adds it once. Default false.
   */
  skipEnrolledSources?: boolean;
  /** New decision threshold. */
  threshold?: number;
}

/** An embedding of a {@link GalleryUpdate} by its identity and source. */
export interface SourcedEmbedding {
  name: string;
  source: string | undefined;
}

/** What {@link GalleryStore.update} did. */
export interface GalleryUpdateResult {
  /** The gallery's description after the update. */
  info: GalleryStoreInfo;
  /** The embeddings added, in the order given. */
  added: SourcedEmbedding[];
  /** The embeddings left out because their identity already held their source. */
  skipped: SourcedEmbedding[];
}

/** Options of {@link GalleryStore.match}. */
export interface StoreMatchOptions {
  /** Number of candidate identities, best first. Default 1. */
  topK?: number;
  /** Decision threshold. Default the stored one. */
  threshold?: number;
  /**
   * Search an HNSW index instead of scanning every embedding (faster on large galleries,
   * may miss the true nearest). Default false: exact.
   */
  approximate?: boolean;
}

/** Options of {@link GalleryStore.createIndex}. */
export interface StoreIndexOptions {
  /** Graph degree. Default 16. */
  m?: number;
  /** Candidate list size while building. Default 200 (file store) / 64 (pgvector's default). */
  efConstruction?: number;
  /** Candidate list size while searching. Default 100. */
  efSearch?: number;
}

/**
 * A gallery kept somewhere that outlives the process. Every method reads or writes the
 * store itself; nothing is cached across writers, so several processes may share one store
 * (a database store by construction; a file store through its file lock).
 */
export interface GalleryStore {
  /** Where the gallery lives, as the user named it (for messages). */
  readonly location: string;
  /** The stored gallery's description, or null while the store holds no gallery. */
  info(): Promise<GalleryStoreInfo | null>;
  /**
   * Create the gallery, or — when one is already stored — check that it was made the same
   * way (dimension, metric, model fingerprint, preprocessing) and return it as stored.
   * @throws {IncompatibleFileError} when the stored gallery differs.
   */
  create(opts: GalleryOptions): Promise<GalleryStoreInfo>;
  /**
   * The stored gallery's description, checked against what the caller's model makes.
   * @throws {FileNotFoundError} when the store holds no gallery.
   * @throws {IncompatibleFileError} naming what differs.
   */
  open(expect?: GalleryExpectation): Promise<GalleryStoreInfo>;
  /** Identities in enrolment order with their embedding counts. */
  identities(): Promise<StoredIdentity[]>;
  /**
   * Add embeddings to identities (created when new), all or nothing: one transaction.
   * @throws {ShapeError} for an embedding of the wrong length or with non-finite values
   *   (then nothing is stored).
   */
  enroll(entries: readonly EnrollEntry[]): Promise<void>;
  /**
   * Make several changes at once, all or nothing (see {@link GalleryUpdate}); concurrent
   * updates of one store from any number of processes each see the others' changes.
   * @throws {FileNotFoundError} when no gallery is stored and `create` is not given.
   * @throws {IncompatibleFileError} when `create` differs from the stored gallery.
   * @throws {ConfigError} for an identity to remove or rename that is not enrolled, a new
   *   name already taken, or a bad threshold. @throws {ShapeError} for a bad embedding.
   */
  update(changes: GalleryUpdate): Promise<GalleryUpdateResult>;
  /** The sources each of `names` holds (identities not enrolled are left out). */
  sourcesOf(names: readonly string[]): Promise<Map<string, string[]>>;
  /** Remove an identity and its embeddings; false when it was not enrolled. */
  remove(name: string): Promise<boolean>;
  /** @throws {ConfigError} when `from` is not enrolled or `to` already is. */
  rename(from: string, to: string): Promise<void>;
  /** @throws {ConfigError} for a threshold that is not a positive number. */
  setThreshold(threshold: number): Promise<void>;
  /** Who is `query`? Same answer as {@link Gallery.match} (aggregation `'nearest'`). */
  match(query: ArrayLike<number>, opts?: StoreMatchOptions): Promise<MatchResult>;
  /** Build (or rebuild) the approximate-search index. */
  createIndex(opts?: StoreIndexOptions): Promise<void>;
  /** The whole gallery in memory (for in-process matching, `'mean'` aggregation, export). */
  load(opts?: { storage?: GalleryOptions['storage'] }): Promise<Gallery>;
  /**
   * Replace everything stored by `gallery` (its description, identities, embeddings and
   * sources) in one step; the import path between stores.
   */
  replace(gallery: Gallery): Promise<void>;
  /** Delete the stored gallery (description, identities, embeddings): the store is empty again. */
  clear(): Promise<void>;
  /** Release connections and files. */
  close(): Promise<void>;
}

/**
 * Check every embedding of `entries` before anything is written.
 * @throws {ConfigError} for a bad identity name. @throws {ShapeError} for a bad embedding.
 */
export function checkEnrollEntries(entries: readonly EnrollEntry[], dimension: number): void {
  for (const entry of entries) {
    checkIdentityName(entry.name);
    if (entry.embeddings.length === 0) throw new ShapeError(`embeddings of ${entry.name}`, 'at least one embedding', '0');
    for (const [what, list] of [['sources', entry.sources], ['imageHashes', entry.imageHashes]] as const) {
      if (list && list.length !== entry.embeddings.length) {
        throw new ShapeError(`${what} of ${entry.name}`, `${entry.embeddings.length} entries (one per embedding)`, String(list.length));
      }
    }
    entry.embeddings.forEach((e, i) => {
      if (e.length !== dimension) throw new ShapeError(`embedding ${i} of ${entry.name}`, `length ${dimension}`, String(e.length));
      for (let d = 0; d < e.length; d++) {
        if (!Number.isFinite(e[d])) throw new ShapeError(`embedding ${i} of ${entry.name}`, 'finite values', `${e[d]} at index ${d}`);
      }
    });
  }
}

/** Check a threshold given to a store. @throws {ConfigError} when it is not a positive number. */
export function checkThreshold(threshold: number): void {
  if (!(Number.isFinite(threshold) && threshold > 0)) throw new ConfigError('threshold', `must be a positive number, got ${threshold}`);
}

/**
 * The embeddings of `entries`, one by one, each marked `skip` when `skipEnrolledSources` and
 * its identity already holds its source (`held(name)`, or an earlier embedding of the batch).
 */
export function planEnrollment(
  entries: readonly EnrollEntry[],
  skipEnrolledSources: boolean,
  held: (name: string) => Iterable<string | undefined>,
): { name: string; embedding: ArrayLike<number>; source: string | undefined; imageHash: string | undefined; skip: boolean }[] {
  const seen = new Map<string, Set<string>>();
  const plan = [];
  for (const entry of entries) {
    let sources = seen.get(entry.name);
    if (skipEnrolledSources && !sources) {
      sources = new Set([...held(entry.name)].filter((s): s is string => s !== undefined));
      seen.set(entry.name, sources);
    }
    for (let i = 0; i < entry.embeddings.length; i++) {
      const source = entry.sources?.[i];
      const skip = skipEnrolledSources && source !== undefined && sources!.has(source);
      if (skipEnrolledSources && source !== undefined) sources!.add(source);
      plan.push({ name: entry.name, embedding: entry.embeddings[i]!, source, imageHash: entry.imageHashes?.[i], skip });
    }
  }
  return plan;
}

/**
 * What {@link GalleryStore.create} checks when a gallery is already stored: the same
 * dimension, model and preprocessing as the file format checks on load, and the same metric.
 * @throws {IncompatibleFileError} naming what differs.
 */
export function checkCreateCompatible(stored: GalleryStoreInfo, opts: GalleryOptions, location: string): void {
  checkGalleryCompatible(
    stored,
    {
      dimension: opts.dimension,
      ...(opts.fingerprint !== undefined ? { fingerprint: opts.fingerprint } : {}),
      ...(opts.preprocessing ? { preprocessing: opts.preprocessing } : {}),
    },
    location,
  );
  const metric = opts.metric ?? 'squared-euclidean';
  if (stored.metric !== metric) {
    throw new IncompatibleFileError(location, `gallery matches with ${stored.metric} distances, not ${metric}`);
  }
}
