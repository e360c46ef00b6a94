/**
 * Label handling shared by the losses: labels arrive as an int32 tensor or a plain
 * array of class indices and are checked against the batch size and class count.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors.js';

/** Class indices of a batch: an int32 `[batch]` tensor, or a plain array. */
export type Labels = tf.Tensor1D | ArrayLike<number>;

/** The labels as a JS array of integers (reads the tensor synchronously). */
export function labelsToArray(labels: Labels, batch: number, what = 'labels'): Int32Array {
  let arr: ArrayLike<number>;
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 1) throw new ShapeError(what, '[batch] tensor', JSON.stringify(labels.shape));
    arr = labels.dataSync();
  } else {
    arr = labels;
  }
  if (arr.length !== batch) throw new ShapeError(what, `${batch} labels (one per row)`, `${arr.length}`);
  const out = new Int32Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (!Number.isInteger(v) || v < 0) throw new ShapeError(what, 'non-negative integer class indices', String(v));
    out[i] = v;
  }
  return out;
}

/**
 * The labels as an int32 tensor, checked to lie in [0, numClasses). The caller disposes
 * the result (it is a new tensor even when a tensor was passed).
 */
export function labelsToTensor(labels: Labels, batch: number, numClasses: number, what = 'labels'): tf.Tensor1D {
  const arr = labelsToArray(labels, batch, what);
  for (const v of arr) {
    if (v >= numClasses) throw new ShapeError(what, `class indices below ${numClasses}`, String(v));
  }
  return tf.tensor1d(arr, 'int32');
}

/** Check that `x` is a rank-2 `[batch, features]` tensor. */
export function assertMatrix(x: tf.Tensor, what: string): asserts x is tf.Tensor2D {
  if (x.rank !== 2) throw new ShapeError(what, '[batch, features] tensor', JSON.stringify(x.shape));
}
