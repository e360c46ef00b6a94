/**
 * Center loss (Wen et al., ECCV 2016, "A Discriminative Feature Learning Approach for Deep
 * Face Recognition") in the form davidsandberg/facenet `facenet.center_loss` and the seed
 * project use:
 *
 *   centers_batch = gather(centers, y)
 *   loss          = mean((x − centers_batch)²)          (centers read BEFORE the update)
 *   diff          = (1 − alpha) · (centers_batch − x)
 *   centers       = scatter_sub(centers, y, diff)       (duplicates accumulate)
 *
 * The centers are non-trainable state: no gradient flows into them, the gradient of the
 * loss flows into `x` only.
 *
 * One guard is added. With the reference update a class that appears n times in a batch
 * moves by n·(1 − alpha) of the way to its batch mean; once n·(1 − alpha) > 1 the center
 * overshoots the mean, and beyond 2 it diverges (e.g. the seed's alpha 0.6 with 8 images of
 * one class in a batch multiplies the error by −2.2 every step — unshuffled data or few
 * classes blow up). Here the per-image rate of class j is min(1 − alpha, 1/n_j): identical
 * to the reference whenever n_j·(1 − alpha) ≤ 1, and at most a move onto the class's batch
 * mean otherwise.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import { assertMatrix, labelsToArray, type Labels } from './labels.js';

/** Options of {@link CenterLoss}. */
export interface CenterLossOptions {
  /** Number of classes (rows of the center table). */
  numClasses: number;
  /** Feature (pre-logits) dimension. */
  featureSize: number;
  /**
   * Center update rate "alfa" of the reference: each image pulls its class center
   * (1 − alpha) of the way towards itself. Default 0.95 (davidsandberg/facenet's
   * default; the seed project uses 0.6).
   */
  alpha?: number;
}

/** Center-loss state (the class centers) and its loss and update. */
export class CenterLoss {
  readonly numClasses: number;
  readonly featureSize: number;
  readonly alpha: number;
  /** The class centers `[numClasses, featureSize]`, initialized to zero; not trainable. */
  readonly centers: tf.Variable<tf.Rank.R2>;

  constructor(opts: CenterLossOptions) {
    const { numClasses, featureSize, alpha = 0.95 } = opts;
    if (!Number.isInteger(numClasses) || numClasses < 1) {
      throw new ConfigError('numClasses', `must be a positive integer, got ${numClasses}`);
    }
    if (!Number.isInteger(featureSize) || featureSize < 1) {
      throw new ConfigError('featureSize', `must be a positive integer, got ${featureSize}`);
    }
    if (!(alpha >= 0 && alpha < 1)) throw new ConfigError('centerLossAlpha', `must be in [0, 1), got ${alpha}`);
    this.numClasses = numClasses;
    this.featureSize = featureSize;
    this.alpha = alpha;
    const init = tf.zeros([numClasses, featureSize]);
    // tf.variable shares the initial tensor's data; the initial tensor itself must still be released.
    this.centers = tf.variable(init, false) as tf.Variable<tf.Rank.R2>;
    init.dispose();
  }

  private check(x: tf.Tensor, y: Labels): Int32Array {
    assertMatrix(x, 'features');
    if (x.shape[1] !== this.featureSize) {
      throw new ShapeError('features', `[batch, ${this.featureSize}]`, JSON.stringify(x.shape));
    }
    const labels = labelsToArray(y, x.shape[0]);
    for (const v of labels) {
      if (v >= this.numClasses) throw new ShapeError('labels', `class indices below ${this.numClasses}`, String(v));
    }
    return labels;
  }

  /**
   * The center loss mean((x − centers[y])²) over all elements, with the centers as they
   * are now (call before {@link update}). Differentiable in `x`.
   */
  compute(x: tf.Tensor2D, y: Labels): tf.Scalar {
    const labels = this.check(x, y);
    return tf.tidy(() => {
      const centersBatch = tf.gather(this.centers, tf.tensor1d(labels, 'int32'));
      return tf.mean(tf.squaredDifference(x, centersBatch)) as tf.Scalar;
    });
  }

  /**
   * Move the centers of the classes in the batch towards their features (see the module
   * documentation for the exact rule). Reads `x` only; no gradient is involved.
   */
  update(x: tf.Tensor2D, y: Labels): void {
    const labels = this.check(x, y);
    const counts = new Map<number, number>();
    for (const v of labels) counts.set(v, (counts.get(v) ?? 0) + 1);
    const rate = 1 - this.alpha;
    const rowRate = new Float32Array(labels.length);
    for (let i = 0; i < labels.length; i++) rowRate[i] = Math.min(rate, 1 / counts.get(labels[i])!);
    const next = tf.tidy(() => {
      const idx = tf.tensor1d(labels, 'int32');
      const centersBatch = tf.gather(this.centers, idx);
      const diff = tf.mul(tf.sub(centersBatch, x), tf.tensor2d(rowRate, [labels.length, 1]));
      // scatterND sums the rows of duplicate indices, like tf.scatter_sub.
      const delta = tf.scatterND(tf.reshape(idx, [labels.length, 1]), diff, [this.numClasses, this.featureSize]);
      return tf.sub(this.centers, delta);
    });
    this.centers.assign(next as tf.Tensor2D);
    next.dispose();
  }

  /** A copy of the centers as a flat row-major array. */
  getCenters(): Float32Array {
    return Float32Array.from(this.centers.dataSync() as Float32Array);
  }

  /** Replace the centers (e.g. from a checkpoint). */
  setCenters(data: Float32Array): void {
    if (data.length !== this.numClasses * this.featureSize) {
      throw new ShapeError('centers', `${this.numClasses}×${this.featureSize} values`, `${data.length}`);
    }
    const t = tf.tensor2d(data, [this.numClasses, this.featureSize]);
    this.centers.assign(t);
    t.dispose();
  }

  /** Free the center table. */
  dispose(): void {
    this.centers.dispose();
  }
}
