/**
 * Triplet loss (Schroff et al., FaceNet, CVPR 2015) on squared L2 distances, with the
 * triplets mined online from the labels of a batch:
 *
 * - **semi-hard** (the FaceNet paper; TensorFlow's `triplet_semihard_loss`): every
 *   anchor–positive pair (a, p) takes the closest negative that is still farther than the
 *   positive, d(a,n) > d(a,p); when no negative is that far, the farthest negative.
 * - **batch-hard** (Hermans et al. 2017, "In Defense of the Triplet Loss"): every anchor
 *   takes its farthest positive and its closest negative.
 *
 * Mining reads the distances once (no gradient); the loss is then computed
 * differentiably on the chosen triplets: mean(max(d(a,p) − d(a,n) + margin, 0)).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import { assertMatrix, labelsToArray, type Labels } from './labels.js';

/** How triplets are chosen from a batch. */
export type TripletMining = 'semi-hard' | 'batch-hard';

/** Index triplets (anchor, positive, negative) into a batch. */
export interface Triplets {
  anchor: Int32Array;
  positive: Int32Array;
  negative: Int32Array;
}

/**
 * The triplet loss of the reference `facenet.triplet_loss`: mean over rows of
 * max(‖a − p‖² − ‖a − n‖² + alpha, 0).
 */
export function tripletLoss(anchor: tf.Tensor2D, positive: tf.Tensor2D, negative: tf.Tensor2D, alpha = 0.2): tf.Scalar {
  assertMatrix(anchor, 'anchor');
  for (const [t, name] of [
    [positive, 'positive'],
    [negative, 'negative'],
  ] as const) {
    if (t.shape.join() !== anchor.shape.join()) {
      throw new ShapeError(name, JSON.stringify(anchor.shape), JSON.stringify(t.shape));
    }
  }
  return tf.tidy(() => {
    const pos = tf.sum(tf.squaredDifference(anchor, positive), 1);
    const neg = tf.sum(tf.squaredDifference(anchor, negative), 1);
    return tf.mean(tf.relu(tf.add(tf.sub(pos, neg), alpha))) as tf.Scalar;
  });
}

/** Squared Euclidean distances between all rows of `x` `[n, d]` → `[n, n]` (≥ 0). */
export function pairwiseSquaredDistances(x: tf.Tensor2D): tf.Tensor2D {
  assertMatrix(x, 'embeddings');
  return tf.tidy(() => {
    const sq = tf.sum(tf.square(x), 1, true); // [n,1]
    const dot = tf.matMul(x, x, false, true);
    return tf.relu(tf.add(tf.sub(sq, tf.mul(2, dot)), tf.transpose(sq))) as tf.Tensor2D;
  });
}

/**
 * Choose triplets from a distance matrix (row-major `n × n`) and labels.
 * Pure function (no tensors). Anchors without any positive or any negative yield none.
 */
export function mineTriplets(dist: ArrayLike<number>, labels: ArrayLike<number>, mining: TripletMining): Triplets {
  const n = labels.length;
  if (dist.length !== n * n) throw new ShapeError('distances', `${n}×${n} values`, `${dist.length}`);
  const a: number[] = [];
  const p: number[] = [];
  const ng: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = i * n;
    if (mining === 'batch-hard') {
      let hardPos = -1;
      let hardNeg = -1;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        if (labels[j] === labels[i]) {
          if (hardPos < 0 || dist[row + j] > dist[row + hardPos]) hardPos = j;
        } else if (hardNeg < 0 || dist[row + j] < dist[row + hardNeg]) {
          hardNeg = j;
        }
      }
      if (hardPos >= 0 && hardNeg >= 0) {
        a.push(i);
        p.push(hardPos);
        ng.push(hardNeg);
      }
    } else {
      for (let j = 0; j < n; j++) {
        if (j === i || labels[j] !== labels[i]) continue;
        const dap = dist[row + j];
        let semi = -1;
        let farthest = -1;
        for (let k = 0; k < n; k++) {
          if (labels[k] === labels[i]) continue;
          const dan = dist[row + k];
          if (dan > dap && (semi < 0 || dan < dist[row + semi])) semi = k;
          if (farthest < 0 || dan > dist[row + farthest]) farthest = k;
        }
        const neg = semi >= 0 ? semi : farthest;
        if (neg >= 0) {
          a.push(i);
          p.push(j);
          ng.push(neg);
        }
      }
    }
  }
  return { anchor: Int32Array.from(a), positive: Int32Array.from(p), negative: Int32Array.from(ng) };
}

/** A `[t, n]` matrix with a single 1 per row at `index[r]` (row selection by matMul). */
function selector(index: Int32Array, n: number): tf.Tensor2D {
  return tf.oneHot(tf.tensor1d(index, 'int32'), n) as tf.Tensor2D;
}

/** Options of {@link minedTripletLoss}. */
export interface MinedTripletOptions {
  /** Margin alpha. Default 0.2 (FaceNet). */
  margin?: number;
  /** Mining strategy. Default 'semi-hard'. */
  mining?: TripletMining;
}

/**
 * Triplet loss with online mining from the batch labels (see module docs). `embeddings`
 * are usually L2-normalized. Returns 0 (still a differentiable scalar) when the batch
 * holds no valid triplet (e.g. every label distinct).
 */
export function minedTripletLoss(embeddings: tf.Tensor2D, labels: Labels, opts: MinedTripletOptions = {}): tf.Scalar {
  const { margin = 0.2, mining = 'semi-hard' } = opts;
  if (mining !== 'semi-hard' && mining !== 'batch-hard') {
    throw new ConfigError('tripletMining', `must be "semi-hard" or "batch-hard", got "${mining}"`);
  }
  if (!(margin >= 0)) throw new ConfigError('tripletMargin', `must be ≥ 0, got ${margin}`);
  assertMatrix(embeddings, 'embeddings');
  const n = embeddings.shape[0];
  const y = labelsToArray(labels, n);
  // Mining only reads the values: nothing computed here reaches the returned loss.
  const distT = pairwiseSquaredDistances(embeddings);
  const dist = distT.dataSync();
  distT.dispose();
  const t = mineTriplets(dist, y, mining);
  return tf.tidy(() => {
    if (t.anchor.length === 0) return tf.mul(tf.sum(embeddings), 0) as tf.Scalar;
    const a = tf.matMul(selector(t.anchor, n), embeddings) as tf.Tensor2D;
    const p = tf.matMul(selector(t.positive, n), embeddings) as tf.Tensor2D;
    const ng = tf.matMul(selector(t.negative, n), embeddings) as tf.Tensor2D;
    return tripletLoss(a, p, ng, margin);
  });
}
