/**
 * Regularization terms: L2 weight decay and the pre-logits norm penalty.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import { assertMatrix } from './labels.js';

/**
 * L2 weight decay as TF-slim's `l2_regularizer(scale)` adds it for every weight:
 * scale · Σ w² / 2 (`tf.nn.l2_loss` halves the sum of squares), summed over `weights`.
 * Returns a scalar 0 for an empty list.
 */
export function l2WeightDecay(weights: readonly tf.Tensor[], scale: number): tf.Scalar {
  if (!(scale >= 0)) throw new ConfigError('weightDecay', `must be ≥ 0, got ${scale}`);
  return tf.tidy(() => {
    if (weights.length === 0 || scale === 0) return tf.scalar(0);
    const sums = weights.map((w) => tf.sum(tf.square(w)));
    const total = sums.length === 1 ? sums[0] : tf.addN(sums);
    return tf.mul(total, scale / 2) as tf.Scalar;
  });
}

/**
 * The reference's pre-logits norm: mean over the batch of ‖ |x| + ε ‖_p with ε = 1e-4
 * (davidsandberg/facenet `train_softmax.py`; it adds this times
 * `prelogits_norm_loss_factor` to the loss). `p` ≥ 1; default 1.
 */
export function prelogitsNorm(prelogits: tf.Tensor2D, p = 1, eps = 1e-4): tf.Scalar {
  assertMatrix(prelogits, 'prelogits');
  if (!(p >= 1) || !Number.isFinite(p)) throw new ConfigError('prelogitsNormP', `must be a finite number ≥ 1, got ${p}`);
  return tf.tidy(() => {
    const a = tf.add(tf.abs(prelogits), eps);
    const norms = p === 1 ? tf.sum(a, 1) : tf.pow(tf.sum(tf.pow(a, p), 1), 1 / p);
    return tf.mean(norms) as tf.Scalar;
  });
}
