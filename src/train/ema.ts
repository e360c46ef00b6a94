/**
 * Exponential moving average of the trainable weights, as TensorFlow's
 * `ExponentialMovingAverage(decay, num_updates=global_step)` that the reference and the
 * seed apply after every update: shadow ← d·shadow + (1 − d)·w with
 * d = min(decay, (1 + step) / (10 + step)), so early averages are not dominated by the
 * random initialization.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, IncompatibleFileError } from '../errors.js';
import type { NamedArrays } from '../io/types.js';
import type { NamedVariable } from './optimizers.js';

/** Shadow copies of variables, updated after each optimizer step. */
export class MovingAverage {
  readonly decay: number;
  private readonly vars: NamedVariable[];
  private readonly shadows: tf.Variable[];

  constructor(vars: NamedVariable[], decay: number) {
    if (!(decay > 0 && decay < 1)) throw new ConfigError('movingAverageDecay', `must be in (0, 1), got ${decay}`);
    this.decay = decay;
    this.vars = vars;
    this.shadows = vars.map((v) => {
      const init = tf.clone(v.variable);
      const s = tf.variable(init, false);
      init.dispose();
      return s;
    });
  }

  /** The decay used after update number `step` (1-based count of updates done). */
  effectiveDecay(step: number): number {
    return Math.min(this.decay, (1 + step) / (10 + step));
  }

  /** Fold the current weights into the averages; `step` is the global step after the update. */
  update(step: number): void {
    const d = this.effectiveDecay(step);
    this.vars.forEach((v, i) => {
      const s = this.shadows[i];
      const next = tf.tidy(() => tf.add(tf.mul(s, d), tf.mul(v.variable, 1 - d)));
      s.assign(next);
      next.dispose();
    });
  }

  /** Run `fn` with the averages swapped into the variables, then restore the raw weights. */
  async withAverages<T>(fn: () => Promise<T> | T): Promise<T> {
    const saved = this.vars.map((v) => tf.clone(v.variable));
    this.vars.forEach((v, i) => v.variable.assign(this.shadows[i]));
    try {
      return await fn();
    } finally {
      this.vars.forEach((v, i) => v.variable.assign(saved[i]));
      saved.forEach((t) => t.dispose());
    }
  }

  getState(out: NamedArrays = new Map()): NamedArrays {
    this.vars.forEach((v, i) => {
      out.set(`ema/${v.name}`, {
        shape: this.shadows[i].shape.slice(),
        dtype: 'float32',
        data: Float32Array.from(this.shadows[i].dataSync() as Float32Array),
      });
    });
    return out;
  }

  setState(arrays: NamedArrays, source: string): void {
    this.vars.forEach((v, i) => {
      const a = arrays.get(`ema/${v.name}`);
      if (!a) throw new IncompatibleFileError(source, `has no moving average "ema/${v.name}"`);
      if (a.shape.join(',') !== this.shadows[i].shape.join(',')) {
        throw new IncompatibleFileError(source, `moving average "ema/${v.name}" has shape [${a.shape}]`);
      }
      const t = tf.tensor(a.data as Float32Array, this.shadows[i].shape, 'float32');
      this.shadows[i].assign(t);
      t.dispose();
    });
  }

  dispose(): void {
    for (const s of this.shadows) s.dispose();
  }
}
