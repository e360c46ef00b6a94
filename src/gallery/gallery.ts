/**
 * An in-memory gallery of enrolled identities, each with one or more embeddings, and exact
 * nearest-identity matching over all of them.
 *
 * All embeddings live in one contiguous {@link EmbeddingMatrix}; a match is one pass over
 * it (SIMD dot products at close to memory bandwidth) followed by an exact re-scoring of
 * the few best candidates. Persistence: `encodeGallery` / `decodeGallery` (bytes) and
 * `saveGallery` / `loadGallery` (files).
 */
import { ConfigError, ShapeError } from '../errors.js';
import type { Preprocessing } from '../face/embedding.js';
import { EmbeddingMatrix, type EmbeddingMatrixOptions, type ScanBackend } from './matrix.js';
import { checkMetric, defaultThreshold, embeddingDistance, type GalleryMetric } from './metric.js';

/**
 * How the distance between a query and an identity with several embeddings is defined:
 * - `'nearest'`: the distance to its closest embedding;
 * - `'mean'`: the distance to its centroid — the mean of its embeddings, rescaled to their
 *   mean length (unit length for L2-normalised embeddings).
 */
export type Aggregation = 'nearest' | 'mean';

/** What produced a gallery's embeddings; checked when a gallery file is loaded. */
export interface GalleryModelInfo {
  /** Model fingerprint ({@link Embedder.fingerprint}); `''` when unknown. */
  fingerprint: string;
  /** Preprocessing the embeddings were made with; `null` when unknown (e.g. synthetic data). */
  preprocessing: Preprocessing | null;
  /**
   * Where the model was loaded from (e.g. its directory), a hint for tools that reopen the
   * gallery; never trusted: the fingerprint is what is checked.
   */
  modelLocation?: string;
}

/**
 * What a gallery is, whatever holds it: its shape, metric, threshold and the model that
 * made it. A store's description, and the fields the gallery file's header shares.
 */
export interface GalleryStoreInfo extends GalleryModelInfo {
  dimension: number;
  metric: GalleryMetric;
  threshold: number;
}

/** Options of {@link Gallery.create}. */
export interface GalleryOptions extends Partial<GalleryModelInfo> {
  /** Embedding length. */
  dimension: number;
  /** Distance used for matching. Default `'squared-euclidean'`. */
  metric?: GalleryMetric;
  /**
   * Decision threshold: a query whose best distance is not below it is unknown. Default
   * {@link defaultThreshold} (the seed project's, squared Euclidean 1.024 on unit vectors).
   */
  threshold?: number;
  /** Scan implementation and initial capacity (see {@link EmbeddingMatrixOptions}). */
  storage?: EmbeddingMatrixOptions;
}

/** Options of {@link Gallery.match}. */
export interface MatchOptions {
  /** Number of candidate identities to return, best first. Default 1. */
  topK?: number;
  /** Default `'nearest'`. */
  aggregation?: Aggregation;
  /** Decision threshold. Default the gallery's {@link Gallery.threshold}. */
  threshold?: number;
}

/** One candidate identity of a match. */
export interface MatchCandidate {
  name: string;
  distance: number;
}

/** The answer to "who is this?". */
export interface MatchResult {
  /** The best identity when its distance is below the threshold, else `null` (unknown). */
  name: string | null;
  /** Distance to the best identity (`Infinity` for an empty gallery). */
  distance: number;
  /** The best `topK` identities, nearest first, whatever their distance. */
  candidates: MatchCandidate[];
}

/**
 * The {@link MatchResult} of scored rows, several of which may belong to one identity: each
 * identity at its nearest row, the `topK` nearest identities first, the best one named when
 * its distance is below `threshold`. Every search (the exact scan, hnswlib, a database)
 * decides through this, so all of them answer alike.
 */
export function matchResultOf(rows: Iterable<MatchCandidate>, topK: number, threshold: number): MatchResult {
  const nearest = new Map<string, number>();
  for (const { name, distance } of rows) {
    const prev = nearest.get(name);
    if (prev === undefined || distance < prev) nearest.set(name, distance);
  }
  const candidates: MatchCandidate[] = [...nearest]
    .map(([name, distance]) => ({ name, distance }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, topK);
  const best = candidates[0];
  return { name: best && best.distance < threshold ? best.name : null, distance: best ? best.distance : Infinity, candidates };
}

interface Identity {
  name: string;
  count: number;
}

/**
 * An identity name as a gallery accepts it: a non-empty string without control characters.
 * @throws {ConfigError} naming the name otherwise.
 */
export function checkIdentityName(name: string): string {
  if (typeof name !== 'string' || name.trim() === '' || /[\u0000-\u001f]/.test(name)) {
    throw new ConfigError('name', `an identity name must be a non-empty string without control characters, got ${JSON.stringify(name)}`);
  }
  return name;
}

/** Keeps the k best (smallest) scores with distinct identities. */
class TopK {
  readonly score: Float64Array;
  readonly id: Int32Array;
  readonly row: Int32Array;
  size = 0;
  /** Score a candidate must beat to enter (Infinity until full). */
  worst = Infinity;
  private worstAt = 0;
  constructor(readonly k: number) {
    this.score = new Float64Array(k);
    this.id = new Int32Array(k);
    this.row = new Int32Array(k);
  }
  offer(score: number, id: number, row: number): void {
    for (let i = 0; i < this.size; i++) {
      if (this.id[i] === id) {
        if (score < this.score[i]) {
          this.score[i] = score;
          this.row[i] = row;
          if (i === this.worstAt) this.refresh();
        }
        return;
      }
    }
    if (this.size < this.k) {
      this.score[this.size] = score;
      this.id[this.size] = id;
      this.row[this.size] = row;
      this.size++;
      if (this.size === this.k) this.refresh();
      return;
    }
    this.score[this.worstAt] = score;
    this.id[this.worstAt] = id;
    this.row[this.worstAt] = row;
    this.refresh();
  }
  private refresh(): void {
    if (this.size < this.k) {
      this.worst = Infinity;
      return;
    }
    let w = 0;
    for (let i = 1; i < this.size; i++) if (this.score[i] > this.score[w]) w = i;
    this.worstAt = w;
    this.worst = this.score[w];
  }
}

/** A gallery of identities and their embeddings. */
export class Gallery {
  readonly dimension: number;
  readonly metric: GalleryMetric;
  readonly fingerprint: string;
  readonly preprocessing: Preprocessing | null;
  /** See {@link GalleryModelInfo.modelLocation}. */
  modelLocation: string | undefined;
  private thresholdValue: number;
  private readonly matrix: EmbeddingMatrix;
  private rowLabel: Int32Array = new Int32Array(1024);
  private rowSource: (string | undefined)[] = [];
  private ids: Identity[] = [];
  private byName = new Map<string, number>();
  private centroids: EmbeddingMatrix | null = null;
  private readonly storage: EmbeddingMatrixOptions;

  private constructor(opts: GalleryOptions) {
    if (!Number.isInteger(opts.dimension) || opts.dimension < 1) {
      throw new ConfigError('dimension', `must be a positive integer, got ${opts.dimension}`);
    }
    this.dimension = opts.dimension;
    this.metric = checkMetric(opts.metric ?? 'squared-euclidean');
    this.fingerprint = opts.fingerprint ?? '';
    this.preprocessing = opts.preprocessing ? { ...opts.preprocessing } : null;
    this.modelLocation = opts.modelLocation;
    this.thresholdValue = defaultThreshold(this.metric, this.dimension);
    if (opts.threshold !== undefined) this.threshold = opts.threshold;
    this.storage = opts.storage ?? {};
    this.matrix = new EmbeddingMatrix(this.dimension, this.storage);
  }

  /** An empty gallery. */
  static create(opts: GalleryOptions): Gallery {
    return new Gallery(opts);
  }

  /** Decision threshold (see {@link GalleryOptions.threshold}). */
  get threshold(): number {
    return this.thresholdValue;
  }
  set threshold(t: number) {
    if (!(Number.isFinite(t) && t > 0)) throw new ConfigError('threshold', `must be a positive number, got ${t}`);
    this.thresholdValue = t;
  }

  /** Identity names in enrollment order. */
  get identities(): string[] {
    return this.ids.map((i) => i.name);
  }

  /** Total number of embeddings. */
  get size(): number {
    return this.matrix.rows;
  }

  /** The scan implementation in use. */
  get backend(): ScanBackend {
    return this.matrix.backend;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Number of embeddings of `name` (0 when not enrolled). */
  count(name: string): number {
    const id = this.byName.get(name);
    return id === undefined ? 0 : this.ids[id].count;
  }

  /**
   * Add embeddings to an identity (created when new).
   * @param sources optional description of each embedding (e.g. the image path), kept in the file.
   * @throws {ShapeError} for an embedding of the wrong length or with non-finite values.
   */
  add(
    name: string,
    embeddings: ArrayLike<number> | readonly ArrayLike<number>[],
    sources?: readonly (string | undefined)[],
  ): void {
    checkIdentityName(name);
    const list: ArrayLike<number>[] =
      Array.isArray(embeddings) && (embeddings.length === 0 || typeof embeddings[0] !== 'number')
        ? [...(embeddings as ArrayLike<number>[])]
        : [embeddings as ArrayLike<number>];
    if (list.length === 0) throw new ShapeError('embeddings', 'at least one embedding', '0');
    if (sources && sources.length !== list.length) {
      throw new ShapeError('sources', `${list.length} entries (one per embedding)`, String(sources.length));
    }
    for (const e of list) {
      if (e.length !== this.dimension) throw new ShapeError(`embedding of ${name}`, `length ${this.dimension}`, String(e.length));
    }
    let id = this.byName.get(name);
    if (id === undefined) {
      id = this.ids.length;
      this.ids.push({ name, count: 0 });
      this.byName.set(name, id);
    }
    const start = this.matrix.rows;
    try {
      list.forEach((e) => this.matrix.append(e));
    } catch (e) {
      // Leave the gallery as it was.
      const keep = new Array<boolean>(this.matrix.rows).fill(true).fill(false, start);
      this.matrix.compact(keep);
      if (this.ids[id].count === 0) {
        this.ids.pop();
        this.byName.delete(name);
      }
      throw e;
    }
    if (this.rowLabel.length < this.matrix.rows) {
      const next = new Int32Array(Math.max(this.matrix.rows, this.rowLabel.length * 2));
      next.set(this.rowLabel);
      this.rowLabel = next;
    }
    for (let r = start; r < this.matrix.rows; r++) {
      this.rowLabel[r] = id;
      this.rowSource[r] = sources?.[r - start];
    }
    this.ids[id].count += list.length;
    this.centroids = null;
  }

  /**
   * Bulk enrollment: row `i` of `flat` (`names.length × dimension` floats) is an embedding
   * of `names[i]`. Much faster than {@link add} for large galleries (one copy, no per-row
   * arrays).
   */
  addBatch(names: readonly string[], flat: Float32Array): void {
    if (flat.length !== names.length * this.dimension) {
      throw new ShapeError('embeddings', `${names.length} × ${this.dimension} floats`, String(flat.length));
    }
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isFinite(flat[i])) {
        throw new ShapeError(`embedding ${Math.floor(i / this.dimension)}`, 'finite values', `${flat[i]} at index ${i % this.dimension}`);
      }
    }
    const distinct = new Set(names);
    for (const n of distinct) checkIdentityName(n);
    const start = this.matrix.rows;
    this.matrix.appendFlat(flat);
    if (this.rowLabel.length < this.matrix.rows) {
      const next = new Int32Array(Math.max(this.matrix.rows, this.rowLabel.length * 2));
      next.set(this.rowLabel);
      this.rowLabel = next;
    }
    for (let i = 0; i < names.length; i++) {
      let id = this.byName.get(names[i]);
      if (id === undefined) {
        id = this.ids.length;
        this.ids.push({ name: names[i], count: 0 });
        this.byName.set(names[i], id);
      }
      this.ids[id].count++;
      this.rowLabel[start + i] = id;
      this.rowSource[start + i] = undefined;
    }
    this.centroids = null;
  }

  /**
   * Sum of every stored float, read the way a one-query scan reads them: the
   * memory-bandwidth floor for benchmarks. `plainJs` sums with a JavaScript loop instead
   * of the SIMD kernel.
   */
  sumStorage(opts: { plainJs?: boolean } = {}): number {
    return this.matrix.sum(opts);
  }

  /** Remove an identity and all its embeddings. Returns false when it was not enrolled. */
  remove(name: string): boolean {
    const id = this.byName.get(name);
    if (id === undefined) return false;
    const n = this.matrix.rows;
    const keep = new Array<boolean>(n);
    for (let r = 0; r < n; r++) keep[r] = this.rowLabel[r] !== id;
    this.matrix.compact(keep);
    let w = 0;
    const sources: (string | undefined)[] = [];
    for (let r = 0; r < n; r++) {
      if (!keep[r]) continue;
      const label = this.rowLabel[r];
      this.rowLabel[w++] = label > id ? label - 1 : label;
      sources.push(this.rowSource[r]);
    }
    this.rowSource = sources;
    this.ids.splice(id, 1);
    this.byName = new Map(this.ids.map((x, i) => [x.name, i]));
    this.centroids = null;
    return true;
  }

  /**
   * Rename an identity.
   * @throws {ConfigError} when `from` is not enrolled or `to` already is.
   */
  rename(from: string, to: string): void {
    checkIdentityName(to);
    const id = this.byName.get(from);
    if (id === undefined) throw new ConfigError('name', `no identity named "${from}"`);
    if (from === to) return;
    if (this.byName.has(to)) throw new ConfigError('name', `an identity named "${to}" already exists`);
    this.ids[id].name = to;
    this.byName.delete(from);
    this.byName.set(to, id);
  }

  /** Copies of the embeddings of `name`, in enrollment order (empty when not enrolled). */
  embeddingsOf(name: string): Float32Array[] {
    const id = this.byName.get(name);
    if (id === undefined) return [];
    const out: Float32Array[] = [];
    for (let r = 0; r < this.matrix.rows; r++) if (this.rowLabel[r] === id) out.push(this.matrix.row(r));
    return out;
  }

  /** The source descriptions of the embeddings of `name` (`undefined` where none was given). */
  sourcesOf(name: string): (string | undefined)[] {
    const id = this.byName.get(name);
    if (id === undefined) return [];
    const out: (string | undefined)[] = [];
    for (let r = 0; r < this.matrix.rows; r++) if (this.rowLabel[r] === id) out.push(this.rowSource[r]);
    return out;
  }

  /** Find who `query` is. @throws {ShapeError} for a query of the wrong length. */
  match(query: ArrayLike<number>, opts: MatchOptions = {}): MatchResult {
    return this.matchMany([query], opts)[0];
  }

  /**
   * Match several queries in one pass over the gallery (much cheaper per query than
   * separate calls on a large gallery).
   */
  matchMany(queries: readonly ArrayLike<number>[], opts: MatchOptions = {}): MatchResult[] {
    const topK = opts.topK ?? 1;
    if (!Number.isInteger(topK) || topK < 1) throw new ConfigError('topK', `must be a positive integer, got ${topK}`);
    const aggregation = opts.aggregation ?? 'nearest';
    if (aggregation !== 'nearest' && aggregation !== 'mean') {
      throw new ConfigError('aggregation', `must be 'nearest' or 'mean', got "${aggregation as string}"`);
    }
    const threshold = opts.threshold ?? this.thresholdValue;
    checkQueries(queries, this.dimension);
    const k = Math.min(topK, Math.max(1, this.ids.length));
    const tops = queries.map(() => new TopK(k));
    const matrix = aggregation === 'mean' ? this.centroidMatrix() : this.matrix;
    const labels = aggregation === 'mean' ? null : this.rowLabel;
    const cosine = this.metric === 'cosine';
    const norms = matrix.squaredNorms();
    // Ranking score, monotone in the distance for a fixed query:
    // squared / mean-squared: |x|² − 2 q·x; cosine: −q·x / |x|.
    matrix.scan(queries, (r0, count, dots, lanes, q0, nq) => {
      for (let j = 0; j < nq; j++) {
        const top = tops[q0 + j];
        let worst = top.worst;
        for (let r = 0, at = j; r < count; r++, at += lanes) {
          const xn = norms[r0 + r];
          const score = cosine ? (xn === 0 ? 0 : -dots[at] / Math.sqrt(xn)) : xn - 2 * dots[at];
          if (score < worst) {
            const row = r0 + r;
            top.offer(score, labels ? labels[row] : row, row);
            worst = top.worst;
          }
        }
      }
    });
    return tops.map((top, qi) => {
      const q = queries[qi];
      const candidates: MatchCandidate[] = [];
      for (let i = 0; i < top.size; i++) {
        candidates.push({
          name: this.ids[top.id[i]].name,
          distance: embeddingDistance(this.metric, q, matrix.row(top.row[i])),
        });
      }
      return matchResultOf(candidates, topK, threshold);
    });
  }

  /** One row per identity: the mean of its embeddings rescaled to their mean length. */
  private centroidMatrix(): EmbeddingMatrix {
    if (this.centroids) return this.centroids;
    const dim = this.dimension;
    const sums = new Float64Array(this.ids.length * dim);
    const lengths = new Float64Array(this.ids.length);
    for (let r = 0; r < this.matrix.rows; r++) {
      const id = this.rowLabel[r];
      const v = this.matrix.row(r);
      for (let d = 0; d < dim; d++) sums[id * dim + d] += v[d];
      lengths[id] += Math.sqrt(this.matrix.squaredNorm(r));
    }
    const m = new EmbeddingMatrix(dim, { ...this.storage, initialCapacity: Math.max(1, this.ids.length) });
    const c = new Float64Array(dim);
    this.ids.forEach((ident, id) => {
      let n = 0;
      for (let d = 0; d < dim; d++) {
        c[d] = sums[id * dim + d] / ident.count;
        n += c[d] * c[d];
      }
      const scale = n === 0 ? 0 : lengths[id] / ident.count / Math.sqrt(n);
      m.append(Array.from(c, (x) => x * scale));
    });
    this.centroids = m;
    return m;
  }

  /** The centroid used by `aggregation: 'mean'` for `name` (undefined when not enrolled). */
  centroidOf(name: string): Float32Array | undefined {
    const id = this.byName.get(name);
    return id === undefined ? undefined : this.centroidMatrix().row(id);
  }

  /**
   * Every embedding grouped by identity, in identity order (the layout of the gallery file).
   * @internal used by the file format.
   */
  *groups(): Generator<{ name: string; embeddings: Float32Array[]; sources: (string | undefined)[] }> {
    const rowsOf: number[][] = this.ids.map(() => []);
    for (let r = 0; r < this.matrix.rows; r++) rowsOf[this.rowLabel[r]].push(r);
    for (let id = 0; id < this.ids.length; id++) {
      yield {
        name: this.ids[id].name,
        embeddings: rowsOf[id].map((r) => this.matrix.row(r)),
        sources: rowsOf[id].map((r) => this.rowSource[r]),
      };
    }
  }
}

/**
 * The checks every search makes of its queries: `dimension` finite values each.
 * @throws {ShapeError} naming the query (by its index).
 */
export function checkQueries(queries: readonly ArrayLike<number>[], dimension: number): void {
  for (let i = 0; i < queries.length; i++) {
    const q = queries[i];
    if (q.length !== dimension) throw new ShapeError(`query ${i}`, `length ${dimension}`, String(q.length));
    for (let d = 0; d < q.length; d++) {
      if (!Number.isFinite(q[d])) throw new ShapeError(`query ${i}`, 'finite values', `${q[d]} at index ${d}`);
    }
  }
}

/** The description of an in-memory gallery. */
export function galleryInfo(gallery: Gallery): GalleryStoreInfo {
  return {
    dimension: gallery.dimension,
    metric: gallery.metric,
    threshold: gallery.threshold,
    fingerprint: gallery.fingerprint,
    preprocessing: gallery.preprocessing,
    ...(gallery.modelLocation !== undefined ? { modelLocation: gallery.modelLocation } : {}),
  };
}
