/**
 * Distances a gallery can match with, and their relations.
 *
 * For unit-length embeddings (every FaceNet embedding is L2-normalised):
 * `squared-euclidean = 2 · cosine = dimension · mean-squared`. The seed project
 * (LeslieZhoa/tensorflow-facenet `test/test.py`) calls a face known when
 * `mean((e − g)²) < THRED = 0.002` on 512-d embeddings, i.e. when the squared Euclidean
 * distance is below `0.002 × 512 = 1.024`.
 */
import { ConfigError } from '../errors.js';

/**
 * - `'squared-euclidean'`: `Σ (a − b)²` (0…4 for unit vectors; davidsandberg/facenet's
 *   `distance_metric=0`);
 * - `'cosine'`: `1 − a·b / (|a| |b|)` (0…2);
 * - `'mean-squared'`: `Σ (a − b)² / dimension` — the seed project's `np.mean(np.square(…))`.
 */
export type GalleryMetric = 'squared-euclidean' | 'cosine' | 'mean-squared';

/** All gallery metrics. */
export const GALLERY_METRICS: readonly GalleryMetric[] = ['squared-euclidean', 'cosine', 'mean-squared'];

/** The seed project's recognition threshold (`THRED`) on its mean-squared distance. */
export const SEED_THRESHOLD_MEAN_SQUARED = 0.002;

/** The seed's threshold as a squared Euclidean distance on 512-d embeddings: 0.002 × 512. */
export const SEED_THRESHOLD_SQUARED_EUCLIDEAN = SEED_THRESHOLD_MEAN_SQUARED * 512;

/** @throws {ConfigError} for an unknown metric name. */
export function checkMetric(metric: string): GalleryMetric {
  if (!(GALLERY_METRICS as readonly string[]).includes(metric)) {
    throw new ConfigError('metric', `must be one of ${GALLERY_METRICS.join(', ')}, got "${metric}"`);
  }
  return metric as GalleryMetric;
}

/**
 * Convert a squared-Euclidean threshold on unit vectors into `metric`'s scale
 * (cosine: ÷ 2; mean-squared: ÷ dimension).
 */
export function thresholdFromSquaredEuclidean(squared: number, metric: GalleryMetric, dimension: number): number {
  switch (metric) {
    case 'squared-euclidean':
      return squared;
    case 'cosine':
      return squared / 2;
    case 'mean-squared':
      return squared / dimension;
  }
}

/**
 * The default decision threshold of a gallery: the seed's — squared Euclidean 1.024 on
 * unit vectors, expressed in `metric` (for 512-d mean-squared that is exactly 0.002).
 * Calibrate on labelled pairs for a real model (see `calibrateThreshold`).
 */
export function defaultThreshold(metric: GalleryMetric, dimension: number): number {
  return thresholdFromSquaredEuclidean(SEED_THRESHOLD_SQUARED_EUCLIDEAN, metric, dimension);
}

/** Exact distance between two embeddings in double precision. */
export function embeddingDistance(metric: GalleryMetric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (metric === 'cosine') {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < n; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    const denom = Math.sqrt(na) * Math.sqrt(nb);
    return denom === 0 ? 1 : 1 - dot / denom;
  }
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return metric === 'mean-squared' ? s / n : s;
}

/**
 * Distance from a dot product and the two squared norms (what a matrix scan produces).
 * Cancellation makes it accurate to about 1e-6 of the norms; matches are re-scored with
 * {@link embeddingDistance}.
 */
export function distanceFromDot(
  metric: GalleryMetric,
  dot: number,
  querySquaredNorm: number,
  rowSquaredNorm: number,
  dimension: number,
): number {
  if (metric === 'cosine') {
    const denom = Math.sqrt(querySquaredNorm * rowSquaredNorm);
    return denom === 0 ? 1 : 1 - dot / denom;
  }
  const s = Math.max(0, querySquaredNorm + rowSquaredNorm - 2 * dot);
  return metric === 'mean-squared' ? s / dimension : s;
}
