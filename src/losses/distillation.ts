/**
 * Distillation losses: teach a student network to embed faces as a teacher does, without
 * labels. Both take the student's and the teacher's embeddings of the same images (`[n, d]`
 * each, same `d` — map the student to the teacher's size first when they differ) and
 * normalise both to unit length, so only directions are matched.
 *
 * - {@link embeddingDistillationLoss}: each image's student embedding towards its teacher
 *   embedding (cosine: `1 − cos`; l2: squared distance of the unit vectors, `2 − 2 cos`).
 * - {@link relationalDistillationLoss}: the batch's pairwise cosine similarities towards the
 *   teacher's — the geometry between faces, which is what verification uses, whatever the
 *   absolute orientation of the student's space.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors.js';
import { l2Normalize } from './margin-softmax.js';

/** How {@link embeddingDistillationLoss} compares two unit embeddings. */
export type DistillationMetric = 'cosine' | 'l2';

function checkPair(student: tf.Tensor, teacher: tf.Tensor): void {
  if (student.rank !== 2) throw new ShapeError('student embeddings', '[n, d]', JSON.stringify(student.shape));
  if (teacher.rank !== 2 || teacher.shape[0] !== student.shape[0] || teacher.shape[1] !== student.shape[1]) {
    throw new ShapeError('teacher embeddings', JSON.stringify(student.shape), JSON.stringify(teacher.shape));
  }
}

/** Mean over the batch of `1 − cos(sᵢ, tᵢ)` (cosine) or `‖ŝᵢ − t̂ᵢ‖²` (l2). */
export function embeddingDistillationLoss(student: tf.Tensor2D, teacher: tf.Tensor2D, metric: DistillationMetric = 'cosine'): tf.Scalar {
  checkPair(student, teacher);
  return tf.tidy(() => {
    const s = l2Normalize(student, 1);
    const t = l2Normalize(teacher, 1);
    if (metric === 'l2') return tf.mean(tf.sum(tf.square(tf.sub(s, t)), 1)) as tf.Scalar;
    return tf.mean(tf.sub(1, tf.sum(tf.mul(s, t), 1))) as tf.Scalar;
  });
}

/**
 * Mean over ordered pairs `i ≠ j` of `(cos(sᵢ, sⱼ) − cos(tᵢ, tⱼ))²`; 0 for a batch of one.
 */
export function relationalDistillationLoss(student: tf.Tensor2D, teacher: tf.Tensor2D): tf.Scalar {
  checkPair(student, teacher);
  const n = student.shape[0];
  if (n < 2) return tf.scalar(0);
  return tf.tidy(() => {
    const s = l2Normalize(student, 1) as tf.Tensor2D;
    const t = l2Normalize(teacher, 1) as tf.Tensor2D;
    const diff = tf.sub(tf.matMul(s, s, false, true), tf.matMul(t, t, false, true));
    // The diagonal is 1 − 1 = 0 up to rounding: mask it so it adds neither value nor gradient.
    const offDiagonal = tf.sub(1, tf.eye(n));
    return tf.div(tf.sum(tf.mul(tf.square(diff), offDiagonal)), n * (n - 1)) as tf.Scalar;
  });
}
