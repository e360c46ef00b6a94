/**
 * Optimizers with TensorFlow 1.x update rules (what the reference and the seed trained
 * with), written out here so that (a) the rules match TF1 exactly — tfjs's Adam puts
 * epsilon after the bias correction and its RMSProp starts the mean square at 0, which
 * with the reference's large epsilons (Adam 0.1, RMSProp 1.0) changes training — and
 * (b) the whole state is plain named arrays for checkpoints.
 *
 * - adam: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 *   w ← w − lr·√(1−β2ᵗ)/(1−β1ᵗ) · m / (√v + ε)  (β1 0.9, β2 0.999, ε 0.1)
 * - rmsprop: ms ← ρ·ms + (1−ρ)·g² (ms starts at 1); mom ← μ·mom + lr·g/√(ms + ε);
 *   w ← w − mom  (ρ 0.9, μ 0.9, ε 1.0)
 * - momentum (Nesterov): a ← μ·a + g; w ← w − lr·(g + μ·a)  (μ 0.9)
 * - adagrad: a ← a + g² (a starts at 0.1); w ← w − lr·g/√a
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, IncompatibleFileError, ShapeError } from '../errors.js';
import type { NamedArrays } from '../io/types.js';
import type { OptimizerName } from './config.js';

/** A trainable variable and the stable name it is saved under. */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

interface SlotSpec {
  name: string;
  init: number;
}

const SLOTS: Record<OptimizerName, SlotSpec[]> = {
  adam: [
    { name: 'm', init: 0 },
    { name: 'v', init: 0 },
  ],
  rmsprop: [
    { name: 'ms', init: 1 },
    { name: 'mom', init: 0 },
  ],
  momentum: [{ name: 'accum', init: 0 }],
  adagrad: [{ name: 'accum', init: 0.1 }],
};

/** Hyper-parameters (defaults are the reference's). */
export interface OptimizerHyper {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  decay?: number;
  momentum?: number;
}

/**
 * One of the four TF1 optimizers over a fixed list of variables. The learning rate is
 * passed to every {@link apply}, so schedules need no optimizer surgery.
 */
export class TrainOptimizer {
  readonly kind: OptimizerName;
  /** Updates applied so far (TF's `global_step` for Adam's bias correction). */
  iterations = 0;
  private readonly vars: NamedVariable[];
  private readonly slots: tf.Variable[][];
  private readonly hyper: Required<OptimizerHyper>;

  constructor(kind: OptimizerName, vars: NamedVariable[], hyper: OptimizerHyper = {}) {
    if (!(kind in SLOTS)) throw new ConfigError('optimizer', `unknown optimizer "${kind}"`);
    this.kind = kind;
    this.vars = vars;
    const defaults: Record<OptimizerName, Required<OptimizerHyper>> = {
      adam: { beta1: 0.9, beta2: 0.999, epsilon: 0.1, decay: 0, momentum: 0 },
      rmsprop: { beta1: 0, beta2: 0, epsilon: 1.0, decay: 0.9, momentum: 0.9 },
      momentum: { beta1: 0, beta2: 0, epsilon: 0, decay: 0, momentum: 0.9 },
      adagrad: { beta1: 0, beta2: 0, epsilon: 0, decay: 0, momentum: 0 },
    };
    this.hyper = { ...defaults[kind], ...hyper };
    this.slots = vars.map(({ variable }) =>
      SLOTS[kind].map((s) => {
        const init = tf.fill(variable.shape, s.init);
        const slot = tf.variable(init, false);
        init.dispose();
        return slot;
      }),
    );
  }

  /** Apply one update with gradients aligned to the variable list. */
  apply(grads: readonly tf.Tensor[], learningRate: number): void {
    if (grads.length !== this.vars.length) {
      throw new ShapeError('gradients', `${this.vars.length} tensors`, `${grads.length}`);
    }
    this.iterations++;
    const t = this.iterations;
    const h = this.hyper;
    const lr = learningRate;
    for (let i = 0; i < grads.length; i++) {
      const w = this.vars[i].variable;
      const g = grads[i];
      const s = this.slots[i];
      tf.tidy(() => {
        switch (this.kind) {
          case 'adam': {
            const m = tf.add(tf.mul(s[0], h.beta1), tf.mul(g, 1 - h.beta1));
            const v = tf.add(tf.mul(s[1], h.beta2), tf.mul(tf.square(g), 1 - h.beta2));
            const lrT = (lr * Math.sqrt(1 - Math.pow(h.beta2, t))) / (1 - Math.pow(h.beta1, t));
            s[0].assign(m);
            s[1].assign(v);
            w.assign(tf.sub(w, tf.mul(tf.div(m, tf.add(tf.sqrt(v), h.epsilon)), lrT)));
            break;
          }
          case 'rmsprop': {
            const ms = tf.add(tf.mul(s[0], h.decay), tf.mul(tf.square(g), 1 - h.decay));
            const mom = tf.add(tf.mul(s[1], h.momentum), tf.mul(tf.mul(g, tf.rsqrt(tf.add(ms, h.epsilon))), lr));
            s[0].assign(ms);
            s[1].assign(mom);
            w.assign(tf.sub(w, mom));
            break;
          }
          case 'momentum': {
            const a = tf.add(tf.mul(s[0], h.momentum), g);
            s[0].assign(a);
            w.assign(tf.sub(w, tf.mul(tf.add(g, tf.mul(a, h.momentum)), lr)));
            break;
          }
          case 'adagrad': {
            const a = tf.add(s[0], tf.square(g));
            s[0].assign(a);
            w.assign(tf.sub(w, tf.mul(tf.mul(g, tf.rsqrt(a)), lr)));
            break;
          }
        }
      });
    }
  }

  /** The slot arrays, named `<variable>/<slot>`, plus `iterations`. */
  getState(): { iterations: number; slots: NamedArrays } {
    const out: NamedArrays = new Map();
    this.vars.forEach((v, i) => {
      SLOTS[this.kind].forEach((spec, j) => {
        const t = this.slots[i][j];
        out.set(`${v.name}/${spec.name}`, {
          shape: t.shape.slice(),
          dtype: 'float32',
          data: Float32Array.from(t.dataSync() as Float32Array),
        });
      });
    });
    return { iterations: this.iterations, slots: out };
  }

  /** Restore {@link getState}. @throws {IncompatibleFileError} when names or shapes differ. */
  setState(state: { iterations: number; slots: NamedArrays }, source = 'optimizer state'): void {
    this.vars.forEach((v, i) => {
      SLOTS[this.kind].forEach((spec, j) => {
        const key = `${v.name}/${spec.name}`;
        const a = state.slots.get(key);
        const slot = this.slots[i][j];
        if (!a) throw new IncompatibleFileError(source, `no ${this.kind} slot "${key}"`);
        if (a.shape.join(',') !== slot.shape.join(',')) {
          throw new IncompatibleFileError(source, `slot "${key}" has shape [${a.shape}], expected [${slot.shape}]`);
        }
        const t = tf.tensor(a.data as Float32Array, slot.shape, 'float32');
        slot.assign(t);
        t.dispose();
      });
    });
    this.iterations = state.iterations;
  }

  /** Free the slot variables. */
  dispose(): void {
    for (const s of this.slots) for (const v of s) v.dispose();
  }
}
