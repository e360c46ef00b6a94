/**
 * Additive-margin softmax heads on L2-normalized features and class weights:
 *
 * - **CosFace** (Wang et al. 2018, large margin cosine loss): target logit s·(cos θ − m).
 * - **ArcFace** (Deng et al. 2019, additive angular margin): target logit s·cos(θ + m),
 *   with the usual fallback of the authors' implementation (insightface) where θ + m
 *   would pass π: when cos θ ≤ cos(π − m) the target logit is s·(cos θ − m·sin(π − m)),
 *   which keeps the logit monotonic in θ.
 *
 * Non-target logits are s·cos θ. The result is fed to {@link softmaxCrossEntropy}.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import { assertMatrix, labelsToTensor, type Labels } from './labels.js';

/** Scale and margin of a margin softmax. */
export interface MarginOptions {
  /** Logit scale s. Default 64 (ArcFace) / 30 (CosFace) — pass explicitly to be sure. */
  scale?: number;
  /** Margin m: an angle in radians for ArcFace (default 0.5), a cosine offset for CosFace (default 0.35). */
  margin?: number;
}

const NORM_EPS = 1e-10;

/** Row-wise L2 normalization x / max(‖x‖, ε) along `axis`. */
export function l2Normalize(x: tf.Tensor, axis: number): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), axis, true), NORM_EPS * NORM_EPS))));
}

/**
 * Cosine similarities `[batch, classes]` between the rows of `features` `[batch, d]` and
 * the columns of `weights` `[d, classes]` (both normalized), clipped to (−1, 1).
 */
export function cosineLogits(features: tf.Tensor2D, weights: tf.Tensor2D): tf.Tensor2D {
  assertMatrix(features, 'features');
  assertMatrix(weights, 'class weights');
  if (weights.shape[0] !== features.shape[1]) {
    throw new ShapeError('class weights', `[${features.shape[1]}, classes]`, JSON.stringify(weights.shape));
  }
  return tf.tidy(() => {
    const cos = tf.matMul(l2Normalize(features, 1), l2Normalize(weights, 0));
    return tf.clipByValue(cos, -1 + 1e-7, 1 - 1e-7) as tf.Tensor2D;
  });
}

/** One-hot rows of `labels`, shaped like the logits `cos` `[batch, classes]`. */
function labelsOneHot(labels: Labels, cos: tf.Tensor2D): tf.Tensor2D {
  const [batch, classes] = cos.shape;
  return tf.oneHot(labelsToTensor(labels, batch, classes), classes) as tf.Tensor2D;
}

function checkMargin(scale: number, margin: number, kind: string): void {
  if (!(scale > 0)) throw new ConfigError(`${kind} scale`, `must be > 0, got ${scale}`);
  if (!(margin >= 0)) throw new ConfigError(`${kind} margin`, `must be ≥ 0, got ${margin}`);
}

/** ArcFace logits (see module docs). Differentiable in `features` and `weights`. */
export function arcFaceLogits(
  features: tf.Tensor2D,
  weights: tf.Tensor2D,
  labels: Labels,
  opts: MarginOptions = {},
): tf.Tensor2D {
  const { scale = 64, margin = 0.5 } = opts;
  checkMargin(scale, margin, 'arcface');
  if (margin >= Math.PI / 2) throw new ConfigError('arcface margin', `must be below π/2, got ${margin}`);
  return tf.tidy(() => {
    const cos = cosineLogits(features, weights);
    const onehot = labelsOneHot(labels, cos);
    const sin = tf.sqrt(tf.sub(1, tf.square(cos)));
    const cosPlusM = tf.sub(tf.mul(cos, Math.cos(margin)), tf.mul(sin, Math.sin(margin)));
    const threshold = Math.cos(Math.PI - margin);
    const fallback = tf.sub(cos, Math.sin(Math.PI - margin) * margin);
    // A 0/1 mask from tf.step (whose gradient is zero) instead of tf.where(tf.greater(…)):
    // tfjs has no gradient for Greater, and the mask must not carry one anyway.
    const useMargin = tf.step(tf.sub(cos, threshold));
    const target = tf.add(tf.mul(useMargin, cosPlusM), tf.mul(tf.sub(1, useMargin), fallback));
    const mixed = tf.add(tf.mul(onehot, target), tf.mul(tf.sub(1, onehot), cos));
    return tf.mul(mixed, scale) as tf.Tensor2D;
  });
}

/** CosFace logits (see module docs). Differentiable in `features` and `weights`. */
export function cosFaceLogits(
  features: tf.Tensor2D,
  weights: tf.Tensor2D,
  labels: Labels,
  opts: MarginOptions = {},
): tf.Tensor2D {
  const { scale = 30, margin = 0.35 } = opts;
  checkMargin(scale, margin, 'cosface');
  return tf.tidy(() => {
    const cos = cosineLogits(features, weights);
    const onehot = labelsOneHot(labels, cos);
    return tf.mul(tf.sub(cos, tf.mul(onehot, margin)), scale) as tf.Tensor2D;
  });
}
