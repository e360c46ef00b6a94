/**
 * The class head on top of the pre-logits: a fully connected layer (the reference's
 * `Logits` layer, Xavier/Glorot-uniform kernel, zero bias) for softmax, or unbiased class
 * weights compared by cosine for ArcFace/CosFace. It exists only for training.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HeadKind } from './config.js';
import { arcFaceLogits, cosFaceLogits, cosineLogits } from '../losses/margin-softmax.js';
import type { Labels } from '../losses/labels.js';

/** Options of {@link ClassHead}. */
export interface ClassHeadOptions {
  kind: Exclude<HeadKind, 'none'>;
  featureSize: number;
  numClasses: number;
  /** Seed of the Glorot-uniform initialization. */
  seed: number;
  /** ArcFace/CosFace scale. */
  scale?: number;
  /** ArcFace/CosFace margin. */
  margin?: number;
}

/** Trainable class weights and the logits they produce. */
export class ClassHead {
  readonly kind: ClassHeadOptions['kind'];
  /** `[featureSize, numClasses]` */
  readonly kernel: tf.Variable<tf.Rank.R2>;
  /** `[numClasses]`, softmax only. */
  readonly bias: tf.Variable<tf.Rank.R1> | null;
  private readonly scale: number;
  private readonly margin: number;

  constructor(opts: ClassHeadOptions) {
    this.kind = opts.kind;
    this.scale = opts.scale ?? 64;
    this.margin = opts.margin ?? 0.5;
    const limit = Math.sqrt(6 / (opts.featureSize + opts.numClasses));
    const k = tf.randomUniform([opts.featureSize, opts.numClasses], -limit, limit, 'float32', opts.seed);
    this.kernel = tf.variable(k, true) as tf.Variable<tf.Rank.R2>;
    k.dispose();
    if (opts.kind === 'softmax') {
      const b = tf.zeros([opts.numClasses]);
      this.bias = tf.variable(b, true) as tf.Variable<tf.Rank.R1>;
      b.dispose();
    } else {
      this.bias = null;
    }
  }

  /** Variables with their checkpoint names. */
  namedVariables(): { name: string; variable: tf.Variable }[] {
    const out: { name: string; variable: tf.Variable }[] = [{ name: 'head/kernel', variable: this.kernel }];
    if (this.bias) out.push({ name: 'head/bias', variable: this.bias });
    return out;
  }

  /** Logits for the loss (margins applied to the labelled class for ArcFace/CosFace). */
  trainingLogits(prelogits: tf.Tensor2D, labels: Labels): tf.Tensor2D {
    switch (this.kind) {
      case 'softmax':
        return this.predictLogits(prelogits);
      case 'arcface':
        return arcFaceLogits(prelogits, this.kernel, labels, { scale: this.scale, margin: this.margin });
      case 'cosface':
        return cosFaceLogits(prelogits, this.kernel, labels, { scale: this.scale, margin: this.margin });
    }
  }

  /** Logits without margins (for accuracy): x·W + b, or the scaled cosines. */
  predictLogits(prelogits: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      if (this.kind === 'softmax') return tf.add(tf.matMul(prelogits, this.kernel), this.bias!) as tf.Tensor2D;
      return tf.mul(cosineLogits(prelogits, this.kernel), this.scale) as tf.Tensor2D;
    });
  }

  dispose(): void {
    this.kernel.dispose();
    this.bias?.dispose();
  }
}
