/**
 * Choosing a gallery's decision threshold from labelled pairs at a target false-accept rate.
 */
import { ConfigError, ShapeError } from '../errors.js';
import type { Gallery } from '../gallery/gallery.js';
import { embeddingDistance } from '../gallery/metric.js';

/** Result of {@link calibrateThreshold}. */
export interface Calibration {
  /** Accept a pair when `distance < threshold`. */
  threshold: number;
  /** The false-accept rate requested. */
  targetFar: number;
  /** False-accept rate of `threshold` on the impostor pairs given (≤ target). */
  far: number;
  /** True-accept rate of `threshold` on the genuine pairs given. */
  tar: number;
  genuinePairs: number;
  impostorPairs: number;
}

/**
 * The largest threshold whose false-accept rate on the given pairs does not exceed
 * `targetFar` (accepting when `distance < threshold`): with impostor distances sorted
 * ascending `s₀ ≤ s₁ ≤ …` and `k = ⌊targetFar · nImpostor⌋` false accepts allowed, it is
 * `s_k` — every impostor at `s_k` or beyond is rejected. The FAR's resolution is
 * `1 / nImpostor`: below that, the threshold is the smallest impostor distance (FAR 0).
 *
 * @param issame `true` for a genuine (same identity) pair.
 * @throws {ConfigError} unless `0 ≤ targetFar < 1` and there is at least one impostor pair.
 */
export function calibrateThreshold(
  distances: ArrayLike<number>,
  issame: ArrayLike<boolean>,
  opts: { targetFar?: number } = {},
): Calibration {
  const targetFar = opts.targetFar ?? 1e-3;
  if (!(targetFar >= 0 && targetFar < 1)) throw new ConfigError('targetFar', `must be in [0, 1), got ${targetFar}`);
  if (distances.length !== issame.length) {
    throw new ShapeError('issame', `${distances.length} labels (one per distance)`, String(issame.length));
  }
  const impostor: number[] = [];
  const genuine: number[] = [];
  for (let i = 0; i < distances.length; i++) {
    const d = distances[i];
    if (Number.isNaN(d)) throw new ShapeError('distances', 'numbers', `NaN at index ${i}`);
    (issame[i] ? genuine : impostor).push(d);
  }
  if (impostor.length === 0) throw new ConfigError('pairs', 'at least one impostor (different identity) pair is needed');
  impostor.sort((a, b) => a - b);
  // Guard against 0.001 · 3000 = 2.9999999999999996.
  const allowed = Math.floor(targetFar * impostor.length + 1e-9);
  const threshold = impostor[Math.min(allowed, impostor.length - 1)];
  let fa = 0;
  for (const d of impostor) if (d < threshold) fa++;
  let ta = 0;
  for (const d of genuine) if (d < threshold) ta++;
  return {
    threshold,
    targetFar,
    far: fa / impostor.length,
    tar: genuine.length === 0 ? 0 : ta / genuine.length,
    genuinePairs: genuine.length,
    impostorPairs: impostor.length,
  };
}

/**
 * All labelled pairs among a gallery's own embeddings: every two embeddings of one
 * identity are a genuine pair, every two of different identities an impostor pair
 * (`n(n−1)/2` in all — for large galleries pass a subset).
 * Distances use the gallery's metric.
 */
export function galleryPairs(gallery: Gallery): { distances: Float64Array; issame: boolean[] } {
  const items: { id: number; e: Float32Array }[] = [];
  gallery.identities.forEach((name, id) => {
    for (const e of gallery.embeddingsOf(name)) items.push({ id, e });
  });
  const n = items.length;
  const distances = new Float64Array((n * (n - 1)) / 2);
  const issame: boolean[] = [];
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      distances[k++] = embeddingDistance(gallery.metric, items[i].e, items[j].e);
      issame.push(items[i].id === items[j].id);
    }
  }
  return { distances, issame };
}

/**
 * Calibrate a gallery's threshold on its own embeddings ({@link galleryPairs}) and store
 * it in the gallery. Needs at least two identities.
 */
export function calibrateGallery(gallery: Gallery, opts: { targetFar?: number } = {}): Calibration {
  if (gallery.identities.length < 2) throw new ConfigError('gallery', 'calibration needs at least two identities');
  const { distances, issame } = galleryPairs(gallery);
  const c = calibrateThreshold(distances, issame, opts);
  if (c.threshold > 0) gallery.threshold = c.threshold;
  return c;
}
