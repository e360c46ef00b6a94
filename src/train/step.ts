/**
 * One micro-batch of training: forward pass in training mode, the losses, and the
 * gradients with respect to the trainable variables. Shared by the in-process trainer
 * and the data-parallel workers, so both compute exactly the same thing.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { CenterLoss } from '../losses/center-loss.js';
import { softmaxCrossEntropy } from '../losses/cross-entropy.js';
import { l2Normalize } from '../losses/margin-softmax.js';
import { prelogitsNorm } from '../losses/regularization.js';
import { minedTripletLoss } from '../losses/triplet.js';
import { embeddingDistillationLoss, relationalDistillationLoss, type DistillationMetric } from '../losses/distillation.js';
import type { ClassHead } from './head.js';
import { applyForPrelogits, seedRandomLayers } from './model-state.js';
import type { Rng } from './rng.js';

/** The loss weights of a run (from the training configuration). */
export interface LossSettings {
  centerLossFactor: number;
  prelogitsNormFactor: number;
  prelogitsNormP: number;
  tripletLossFactor: number;
  tripletMargin: number;
  tripletMining: 'semi-hard' | 'batch-hard';
  distillationFactor: number;
  distillationMetric: DistillationMetric;
  relationalDistillationFactor: number;
}

/** Per-micro-batch loss values (unscaled). */
export interface MicroMetrics {
  /** Data loss: cross-entropy + weighted center, pre-logits-norm and triplet terms (no weight decay). */
  loss: number;
  crossEntropy: number;
  centerLoss: number;
  prelogitsNorm: number;
  tripletLoss: number;
  /** Embedding-matching loss against the teacher (0 without one). */
  distillation: number;
  /** Relational loss against the teacher (0 without one or when its weight is 0). */
  relationalDistillation: number;
  accuracy: number;
  /** The model's own regularizer losses (layer kernelRegularizers), if it has any. */
  modelRegularization: number;
}

/** What {@link microBatchGradients} needs. */
export interface MicroBatchInput {
  model: tfl.LayersModel;
  outputIndex: number;
  head: ClassHead | null;
  /** Read only here (its update is the caller's, after the whole step). */
  centerLoss: CenterLoss | null;
  settings: LossSettings;
  /** Variables to differentiate, in a fixed order. */
  variables: tf.Variable[];
  images: Float32Array;
  shape: [number, number, number, number];
  labels: Int32Array;
  /** The teacher's embeddings of the images (`[n, d]` row-major), for distillation. */
  targets?: Float32Array;
  /** Layers to give fresh dropout seeds and the generator for them. */
  randomLayers: tfl.layers.Layer[];
  dropoutRng: Rng;
  /** Gradients are of loss × this (1 / accumulation steps: accumulated gradients average). */
  lossScale: number;
}

/** Gradients (aligned with `variables`, never null) and the detached pre-logits. */
export interface MicroBatchResult {
  grads: tf.Tensor[];
  prelogits: tf.Tensor2D;
  metrics: MicroMetrics;
}

/** Forward + backward of one micro-batch. The caller disposes `grads` and `prelogits`. */
export function microBatchGradients(input: MicroBatchInput): MicroBatchResult {
  const { model, head, centerLoss, settings: s, labels } = input;
  seedRandomLayers(input.randomLayers, input.dropoutRng);
  const parts: Record<string, tf.Scalar> = {};
  const kept: { prelogits?: tf.Tensor2D } = {};
  const x = tf.tensor4d(input.images, input.shape);
  try {
    const { value, grads } = tf.variableGrads(() => {
      const prelogits = applyForPrelogits(model, x, input.outputIndex, true);
      kept.prelogits = tf.keep(tf.clone(prelogits));
      let total: tf.Scalar = tf.scalar(0);
      const add = (name: string, v: tf.Scalar, weight: number) => {
        parts[name] = tf.keep(tf.clone(v));
        if (weight !== 0) total = tf.add(total, tf.mul(v, weight));
      };
      if (head) {
        const logits = head.trainingLogits(prelogits, labels);
        add('crossEntropy', softmaxCrossEntropy(logits, labels), 1);
        const plain = head.kind === 'softmax' ? logits : head.predictLogits(prelogits);
        const correct = tf.equal(tf.argMax(plain, 1), tf.tensor1d(labels, 'int32'));
        parts.accuracy = tf.keep(tf.mean(tf.cast(correct, 'float32')) as tf.Scalar);
      }
      if (centerLoss && s.centerLossFactor > 0) add('centerLoss', centerLoss.compute(prelogits, labels), s.centerLossFactor);
      if (s.prelogitsNormFactor > 0) add('prelogitsNorm', prelogitsNorm(prelogits, s.prelogitsNormP), s.prelogitsNormFactor);
      if (s.tripletLossFactor > 0) {
        const emb = l2Normalize(prelogits, 1) as tf.Tensor2D;
        add('tripletLoss', minedTripletLoss(emb, labels, { margin: s.tripletMargin, mining: s.tripletMining }), s.tripletLossFactor);
      }
      if (input.targets) {
        const n = labels.length;
        const teacher = tf.tensor2d(input.targets, [n, input.targets.length / n]);
        if (s.distillationFactor > 0) {
          add('distillation', embeddingDistillationLoss(prelogits as tf.Tensor2D, teacher, s.distillationMetric), s.distillationFactor);
        }
        if (s.relationalDistillationFactor > 0) {
          add('relationalDistillation', relationalDistillationLoss(prelogits as tf.Tensor2D, teacher), s.relationalDistillationFactor);
        }
      }
      parts.loss = tf.keep(tf.clone(total));
      if (model.losses.length > 0) {
        const reg = tf.addN(model.calculateLosses() as tf.Scalar[]) as tf.Scalar;
        parts.modelRegularization = tf.keep(tf.clone(reg));
        total = tf.add(total, reg);
      }
      return tf.mul(total, input.lossScale) as tf.Scalar;
    }, input.variables);
    value.dispose();
    const list = input.variables.map((v) => grads[v.name] ?? tf.zerosLike(v));
    const read = (k: string) => {
      const t = parts[k];
      if (!t) return 0;
      const v = t.dataSync()[0];
      return v;
    };
    const metrics: MicroMetrics = {
      loss: read('loss'),
      crossEntropy: read('crossEntropy'),
      centerLoss: read('centerLoss'),
      prelogitsNorm: read('prelogitsNorm'),
      tripletLoss: read('tripletLoss'),
      distillation: read('distillation'),
      relationalDistillation: read('relationalDistillation'),
      accuracy: read('accuracy'),
      modelRegularization: read('modelRegularization'),
    };
    return { grads: list, prelogits: kept.prelogits!, metrics };
  } catch (e) {
    kept.prelogits?.dispose();
    throw e;
  } finally {
    x.dispose();
    for (const t of Object.values(parts)) t.dispose();
  }
}
