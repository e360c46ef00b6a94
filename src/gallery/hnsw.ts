/**
 * Approximate nearest-identity search with an HNSW graph (hnswlib via the optional
 * dependency `hnswlib-node`, a native addon; Node only). For galleries so large that even
 * a memory-speed exact scan is too slow per query. Answers have the same shape as
 * {@link Gallery.match}; distances are hnswlib's float32 ones (squared L2, or 1 − cos),
 * converted to the gallery's metric.
 *
 * The index is a snapshot of the gallery when it was built (plus rows added through
 * {@link HnswGalleryIndex.add}); rebuild it after removing or renaming identities.
 */
import { ConfigError, ShapeError } from '../errors.js';
import { matchResultOf, type Gallery, type MatchResult } from './gallery.js';
import type { GalleryMetric } from './metric.js';

type HnswModule = typeof import('hnswlib-node');
type HierarchicalNSW = InstanceType<HnswModule['HierarchicalNSW']>;

let cached: HnswModule | null | undefined;

/** The `hnswlib-node` module, or null when it is not installed (or failed to build). */
export async function loadHnswlib(): Promise<HnswModule | null> {
  if (cached !== undefined) return cached;
  try {
    const { createRequire } = await import('node:module');
    // A computed name keeps bundlers away from the optional native addon.
    const name = 'hnswlib-node';
    cached = createRequire(import.meta.url)(name) as HnswModule;
  } catch {
    cached = null;
  }
  return cached;
}

/** Options of {@link HnswGalleryIndex.build}. */
export interface HnswOptions {
  /** Graph degree `M`. Default 16. */
  m?: number;
  /** Candidate list size while building. Default 200. */
  efConstruction?: number;
  /** Candidate list size while searching (recall/speed trade-off). Default 64. */
  efSearch?: number;
  /** Random seed of the level generator. Default 100. */
  seed?: number;
  /**
   * Embedding rows fetched per query before grouping them by identity: `topK ×
   * rowsPerIdentity`. Default 4.
   */
  rowsPerIdentity?: number;
}

/** An HNSW index over a gallery's embeddings. */
export class HnswGalleryIndex {
  private readonly index: HierarchicalNSW;
  private readonly names: string[] = [];
  private capacity: number;

  private constructor(
    index: HierarchicalNSW,
    capacity: number,
    readonly dimension: number,
    readonly metric: GalleryMetric,
    private readonly threshold: number,
    private readonly opts: Required<HnswOptions>,
  ) {
    this.index = index;
    this.capacity = capacity;
  }

  /**
   * Build an index over every embedding of `gallery`.
   * @throws {ConfigError} when `hnswlib-node` is not installed.
   */
  static async build(gallery: Gallery, opts: HnswOptions = {}): Promise<HnswGalleryIndex> {
    const lib = await loadHnswlib();
    if (!lib) {
      throw new ConfigError('approximate', 'the optional dependency hnswlib-node is not installed (npm install hnswlib-node)');
    }
    const o: Required<HnswOptions> = {
      m: opts.m ?? 16,
      efConstruction: opts.efConstruction ?? 200,
      efSearch: opts.efSearch ?? 64,
      seed: opts.seed ?? 100,
      rowsPerIdentity: opts.rowsPerIdentity ?? 4,
    };
    // hnswlib's 'l2' space is the squared Euclidean distance; 'cosine' is 1 − cos.
    const space = gallery.metric === 'cosine' ? 'cosine' : 'l2';
    const index = new lib.HierarchicalNSW(space, gallery.dimension);
    const capacity = Math.max(16, gallery.size);
    index.initIndex(capacity, o.m, o.efConstruction, o.seed);
    index.setEf(o.efSearch);
    const h = new HnswGalleryIndex(index, capacity, gallery.dimension, gallery.metric, gallery.threshold, o);
    for (const group of gallery.groups()) for (const e of group.embeddings) h.add(group.name, e);
    return h;
  }

  /** Number of indexed embeddings. */
  get size(): number {
    return this.names.length;
  }

  /** Index one more embedding of `name`. */
  add(name: string, embedding: Float32Array): void {
    if (embedding.length !== this.dimension) throw new ShapeError('embedding', `length ${this.dimension}`, String(embedding.length));
    if (this.names.length === this.capacity) {
      this.capacity *= 2;
      this.index.resizeIndex(this.capacity);
    }
    this.index.addPoint(Array.from(embedding), this.names.length);
    this.names.push(name);
  }

  /** Approximate {@link Gallery.match} (aggregation `'nearest'`). */
  match(query: ArrayLike<number>, opts: { topK?: number; threshold?: number } = {}): MatchResult {
    if (query.length !== this.dimension) throw new ShapeError('query', `length ${this.dimension}`, String(query.length));
    const topK = opts.topK ?? 1;
    if (!Number.isInteger(topK) || topK < 1) throw new ConfigError('topK', `must be a positive integer, got ${topK}`);
    const threshold = opts.threshold ?? this.threshold;
    if (this.names.length === 0) return { name: null, distance: Infinity, candidates: [] };
    const k = Math.min(this.names.length, topK * this.opts.rowsPerIdentity);
    const { neighbors, distances } = this.index.searchKnn(Array.from(query), k);
    const scale = this.metric === 'mean-squared' ? 1 / this.dimension : 1;
    const rows = Array.from(neighbors, (row, i) => ({ name: this.names[row]!, distance: distances[i]! * scale }));
    return matchResultOf(rows, topK, threshold);
  }
}
