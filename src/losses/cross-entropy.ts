/**
 * Softmax cross-entropy over a class head, and classification accuracy.
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertMatrix, labelsToTensor, type Labels } from './labels.js';

/**
 * Mean over the batch of the softmax cross-entropy between `logits` `[batch, classes]`
 * and integer `labels` (TensorFlow's `sparse_softmax_cross_entropy_with_logits`
 * followed by `reduce_mean`): mean_i( logsumexp(logits_i) − logits_i[y_i] ).
 * Differentiable with respect to `logits`.
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: Labels): tf.Scalar {
  assertMatrix(logits, 'logits');
  const [batch, classes] = logits.shape;
  return tf.tidy(() => {
    const y = labelsToTensor(labels, batch, classes);
    const onehot = tf.oneHot(y, classes);
    const target = tf.sum(tf.mul(onehot, logits), 1);
    const lse = tf.logSumExp(logits, 1);
    return tf.mean(tf.sub(lse, target)) as tf.Scalar;
  });
}

/** Fraction of rows whose largest logit is at the label (ties go to the lowest index). */
export function classificationAccuracy(logits: tf.Tensor2D, labels: Labels): number {
  assertMatrix(logits, 'logits');
  const [batch, classes] = logits.shape;
  const pred = tf.tidy(() => tf.argMax(logits, 1));
  const p = pred.dataSync();
  pred.dispose();
  const y = labelsToTensor(labels, batch, classes);
  const t = y.dataSync();
  y.dispose();
  let correct = 0;
  for (let i = 0; i < batch; i++) if (p[i] === t[i]) correct++;
  return batch === 0 ? 0 : correct / batch;
}
