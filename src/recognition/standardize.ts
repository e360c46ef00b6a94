/**
 * Image standardization before the embedding network, as davidsandberg/facenet does it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { Preprocessing } from '../face/embedding.js';

const FIXED_MEAN = 127.5;
const FIXED_SCALE = 128;

/**
 * The reference's `fixed_image_standardization` of one 0…255 value: (x − 127.5) / 128,
 * mapping 0…255 to about [−1, 1]. (The seed wrote `x - 127.5/128`, which subtracts 0.996 —
 * a precedence bug.) The one definition: {@link standardizeFaces} and the training batches use it.
 */
export function fixedStandardization(x: number): number {
  return (x - FIXED_MEAN) / FIXED_SCALE;
}

/**
 * `'fixed'`: {@link fixedStandardization} of every pixel (`facenet.FIXED_STANDARDIZATION`);
 * `'prewhiten'`: per image `(x − mean) / max(std, 1/√N)` with `N` the number of values of
 * one image and `std` the population standard deviation (`facenet.prewhiten`); `'none'`:
 * unchanged (as float32).
 * `faces` is `[n, h, w, 3]` RGB 0…255; returns a new tensor.
 */
export function standardizeFaces(faces: tf.Tensor4D, mode: Preprocessing['standardization']): tf.Tensor4D {
  return tf.tidy(() => {
    const x = tf.cast(faces, 'float32') as tf.Tensor4D;
    if (mode === 'none') return x;
    if (mode === 'fixed') return tf.div(tf.sub(x, FIXED_MEAN), FIXED_SCALE) as tf.Tensor4D;
    if (mode === 'prewhiten') {
      const [, h, w, c] = x.shape;
      const size = h * w * c;
      const { mean, variance } = tf.moments(x, [1, 2, 3], true);
      const stdAdj = tf.maximum(tf.sqrt(variance), 1 / Math.sqrt(size));
      return tf.div(tf.sub(x, mean), stdAdj) as tf.Tensor4D;
    }
    throw new ConfigError('standardization', `must be 'fixed', 'prewhiten' or 'none', got "${mode as string}"`);
  });
}
