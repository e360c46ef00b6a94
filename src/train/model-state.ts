/**
 * What the trainer needs from any tfjs-layers model (images → pre-logits): its weights
 * as named variables, control of its dropout randomness, seeded construction, and export.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, IncompatibleFileError, ShapeError } from '../errors.js';
import type { NamedArrays } from '../io/types.js';
import { Rng } from './rng.js';

/** One model weight as the trainer sees it. */
export interface ModelWeight {
  /** Checkpoint key: `model/<index in model.weights>`. */
  key: string;
  /** The layer variable's name (diagnostics, weight-decay selection). */
  name: string;
  variable: tf.Variable;
  trainable: boolean;
}

/** The model's weights in `model.weights` order (trainable and not, e.g. batch-norm statistics). */
export function modelWeights(model: tfl.LayersModel): ModelWeight[] {
  return model.weights.map((w, i) => ({
    key: `model/${i}`,
    name: w.originalName ?? w.name,
    variable: w.read() as tf.Variable,
    trainable: w.trainable,
  }));
}

/**
 * Whether a weight gets L2 weight decay: convolution and dense kernels (TF-slim puts
 * `weights_regularizer` on conv2d and fully_connected weights, not on biases or
 * batch-norm parameters).
 */
export function isDecayedWeight(name: string): boolean {
  return /kernel$/i.test(name);
}

/** Copy weights into named arrays under their keys. */
export function weightsToArrays(weights: { key: string; variable: tf.Tensor }[], out: NamedArrays = new Map()): NamedArrays {
  for (const w of weights) {
    out.set(w.key, {
      shape: w.variable.shape.slice(),
      dtype: 'float32',
      data: Float32Array.from(w.variable.dataSync() as Float32Array),
    });
  }
  return out;
}

/** Assign named arrays to variables. @throws {IncompatibleFileError} on a missing key or shape mismatch. */
export function arraysToWeights(arrays: NamedArrays, weights: { key: string; variable: tf.Variable }[], source: string): void {
  for (const w of weights) {
    const a = arrays.get(w.key);
    if (!a) throw new IncompatibleFileError(source, `has no array "${w.key}"`);
    if (a.shape.join(',') !== w.variable.shape.join(',')) {
      throw new IncompatibleFileError(source, `"${w.key}" has shape [${a.shape}], the model expects [${w.variable.shape}]`);
    }
    const t = tf.tensor(a.data as Float32Array, w.variable.shape, 'float32');
    w.variable.assign(t);
    t.dispose();
  }
}

/** Every layer of a model, nested models included, depth first. */
export function allLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  const out: tfl.layers.Layer[] = [];
  const walk = (layers: tfl.layers.Layer[]) => {
    for (const l of layers) {
      out.push(l);
      const inner = (l as unknown as { layers?: tfl.layers.Layer[] }).layers;
      if (Array.isArray(inner)) walk(inner);
    }
  };
  walk(model.layers);
  return out;
}

/** Layers whose output in training mode is random and that take a `seed` (Dropout and friends). */
export function randomLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  return allLayers(model).filter((l) => /Dropout|GaussianNoise/i.test(l.getClassName()) || 'seed' in l);
}

/**
 * Give every random layer a fresh seed from `rng`. tfjs draws an unseeded dropout mask
 * from Math.random; with these per-step seeds a resumed run draws the same masks.
 */
export function seedRandomLayers(layers: tfl.layers.Layer[], rng: Rng): void {
  for (const l of layers) (l as unknown as { seed: number }).seed = rng.nextUint32();
}

/**
 * Run `fn` with Math.random replaced by a seeded generator, so that tfjs-layers
 * initializers (which seed themselves from Math.random) give the same weights for the
 * same seed. The original Math.random is restored afterwards, also on error.
 */
export async function withSeededMathRandom<T>(seed: number, fn: () => T | Promise<T>): Promise<T> {
  const original = Math.random;
  const rng = new Rng(seed);
  Math.random = () => rng.next();
  try {
    return await fn();
  } finally {
    Math.random = original;
  }
}

/** Index of the pre-logits output: a number, an output name (substring), or by default the one named like "prelogits"/"bottleneck", else 0. */
export function prelogitsOutputIndex(model: tfl.LayersModel, which?: number | string): number {
  const names = model.outputs.map((o) => o.name);
  if (typeof which === 'number') {
    if (!Number.isInteger(which) || which < 0 || which >= names.length) {
      throw new ConfigError('prelogitsOutput', `the model has ${names.length} output(s), got index ${which}`);
    }
    return which;
  }
  if (typeof which === 'string') {
    const i = names.findIndex((n) => n.includes(which));
    if (i < 0) throw new ConfigError('prelogitsOutput', `no output named like "${which}" (outputs: ${names.join(', ')})`);
    return i;
  }
  const i = names.findIndex((n) => /prelogits|bottleneck/i.test(n));
  return i >= 0 ? i : 0;
}

/** Run the model and return its pre-logits `[batch, d]`. */
export function applyForPrelogits(model: tfl.LayersModel, x: tf.Tensor4D, outputIndex: number, training: boolean): tf.Tensor2D {
  const out = model.apply(x, { training }) as tf.Tensor | tf.Tensor[];
  const t = Array.isArray(out) ? out[outputIndex] : out;
  if (Array.isArray(out)) for (const o of out) if (o !== t) o.dispose();
  if (t.rank !== 2) throw new ShapeError('model output', '[batch, features] pre-logits', JSON.stringify(t.shape));
  return t as tf.Tensor2D;
}
