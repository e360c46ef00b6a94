/**
 * The arithmetic of screen.ts: squared distances between unit embeddings, the screening
 * distance of a reference set (a quantile of its different-person pair distances), and each
 * image's nearest reference.
 */
import * as tf from '@tensorflow/tfjs-core';

/** `count` unit vectors of length `d`, row after row. */
export interface EmbeddingRows {
  matrix: Float32Array;
  count: number;
  d: number;
}

/** Rows of `a` per block: 512 × a 14,000-photo reference set is 29 MB of distances. */
const BLOCK = 512;

/** Squared distances (2 − 2 cos) of every row of `a` to all rows of `b`, one row at a time. */
export async function forEachDistanceRow(a: EmbeddingRows, b: EmbeddingRows, visit: (i: number, row: Float32Array) => void): Promise<void> {
  const bt = tf.tensor2d(b.matrix, [b.count, b.d]);
  try {
    for (let start = 0; start < a.count; start += BLOCK) {
      const n = Math.min(BLOCK, a.count - start);
      const block = tf.tidy(() => {
        const x = tf.tensor2d(a.matrix.subarray(start * a.d, (start + n) * a.d), [n, a.d]);
        return tf.sub(2, tf.mul(2, tf.matMul(x, bt, false, true)));
      });
      const data = (await block.data()) as Float32Array;
      block.dispose();
      for (let i = 0; i < n; i++) visit(start + i, data.subarray(i * b.count, (i + 1) * b.count));
    }
  } finally {
    bt.dispose();
  }
}

/** Histogram bins over the range of squared distances of unit vectors, [0, 4]. */
const BINS = 40_000;

/** What {@link screeningDistance} found. */
export interface ScreeningDistance {
  /** Pairs of different people nearer than this are at most `far` of them (resolution 1e-4). */
  threshold: number;
  impostorPairs: number;
  genuinePairs: number;
  /** Share of the same-person pairs nearer than `threshold`. */
  genuineBelow: number;
}

/**
 * The largest squared distance (to 1e-4) below which no more than a fraction `far` of the
 * set's pairs of different people lie (`identity[i]` names row i's person), and the share of
 * its same-person pairs below it.
 */
export async function screeningDistance(set: EmbeddingRows & { identity: ArrayLike<number> }, far: number): Promise<ScreeningDistance> {
  const impostor = new Float64Array(BINS);
  const genuine = new Float64Array(BINS);
  await forEachDistanceRow(set, set, (i, row) => {
    for (let j = i + 1; j < set.count; j++) {
      const bin = Math.min(BINS - 1, Math.max(0, Math.floor((row[j] / 4) * BINS)));
      (set.identity[i] === set.identity[j] ? genuine : impostor)[bin]++;
    }
  });
  const impostorPairs = impostor.reduce((s, v) => s + v, 0);
  const genuinePairs = genuine.reduce((s, v) => s + v, 0);
  let bin = 0;
  for (let below = 0; bin < BINS && below + impostor[bin] <= far * impostorPairs; bin++) below += impostor[bin];
  const genuineBelow = genuine.subarray(0, bin).reduce((s, v) => s + v, 0);
  return { threshold: (bin / BINS) * 4, impostorPairs, genuinePairs, genuineBelow: genuinePairs ? genuineBelow / genuinePairs : 0 };
}

/** Each row of `a`'s squared distance to its nearest row of `b`. */
export async function nearestDistances(a: EmbeddingRows, b: EmbeddingRows): Promise<Float32Array> {
  const nearest = new Float32Array(a.count);
  await forEachDistanceRow(a, b, (i, row) => {
    let m = Infinity;
    for (let j = 0; j < row.length; j++) if (row[j] < m) m = row[j];
    nearest[i] = m;
  });
  return nearest;
}
