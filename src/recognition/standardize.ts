/**
 * Image standardization before the embedding network, as davidsandberg/facenet does it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { Preprocessing } from './types.js';

/**
 * `'fixed'`: `(x − 127.5) / 128` for every pixel (`facenet.FIXED_STANDARDIZATION`);
 * `'prewhiten'`: per image `(x − mean) / max(std, 1/√N)` with `N` the number of values of
 * one image and `std` the population standard deviation (`facenet.prewhiten`); `'none'`:
 * unchanged (as float32).
 * `faces` is `[n, h, w, 3]` RGB 0…255; returns a new tensor.
 */
export function standardizeFaces(faces: tf.Tensor4D, mode: Preprocessing['standardization']): tf.Tensor4D {
  return tf.tidy(() => {
    const x = tf.cast(faces, 'float32') as tf.Tensor4D;
    if (mode === 'none') return x;
    if (mode === 'fixed') return tf.div(tf.sub(x, 127.5), 128) as tf.Tensor4D;
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
