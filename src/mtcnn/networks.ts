/**
 * The three MTCNN networks as functional tfjs ops, layer for layer as davidsandberg/facenet's
 * `PNet`, `RNet` and `ONet` (and the seed's slim models, which have the same layers):
 * VALID stride-1 convolutions with bias, PReLU, max-pooling (`SAME` for the first pool of
 * every net and O-Net's third, `VALID` for the second), fully-connected layers on the
 * row-major flattening of the NHWC feature map, softmax over the two classes.
 *
 * The functions take input already in the orientation the weights expect (transposed for
 * the Caffe weights) and return raw outputs; callers own the returned tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ConvParams, ConvPreluTrunk, FcParams, ONetParams, PNetParams, PNetRunWeights, RNetParams } from './weights.js';

function conv(x: tf.Tensor4D, p: ConvParams): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter: p.filter, strides: 1, pad: 'valid', bias: p.bias });
}

/** Convolution + bias + PReLU in one fused kernel. */
function convPrelu(x: tf.Tensor4D, p: ConvParams, alpha: tf.Tensor1D): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter: p.filter, strides: 1, pad: 'valid', bias: p.bias, activation: 'prelu', preluActivationWeights: alpha });
}

function fc(x: tf.Tensor2D, p: FcParams): tf.Tensor2D {
  return tf.add(tf.matMul(x, p.weights), p.bias);
}

/** PReLU with per-channel slopes (tf.prelu's typing wants the slope tensor to share x's rank). */
function prelu<T extends tf.Tensor>(x: T, alpha: tf.Tensor1D): T {
  return tf.prelu(x, alpha as unknown as T);
}

function flatten(x: tf.Tensor4D): tf.Tensor2D {
  return tf.reshape(x, [x.shape[0], -1]);
}

/** P-Net outputs: per cell, face probability (class 1 of the softmax) and 4 box offsets. */
export interface PNetOutput {
  /** `[n, a, b, 1]`: softmax probability of "face". */
  prob: tf.Tensor4D;
  /** `[n, a, b, 4]`: regression. */
  reg: tf.Tensor4D;
}

/** P-Net's layers before its heads: conv1, 2×2/2 `SAME` max-pool, conv2, conv3. */
function pnetTrunk(p: ConvPreluTrunk, x: tf.Tensor4D): tf.Tensor4D {
  let h = convPrelu(x, p.conv1, p.prelu1);
  h = tf.maxPool(h, [2, 2], [2, 2], 'same');
  h = convPrelu(h, p.conv2, p.prelu2);
  return convPrelu(h, p.conv3, p.prelu3);
}

/** P-Net on a batch `[n, a, b, 3]` of normalized images (any size ≥ 12). */
export function pnetForward(p: PNetParams, x: tf.Tensor4D): PNetOutput {
  return tf.tidy(() => {
    const h = pnetTrunk(p, x);
    const logits = conv(h, p.conv4_1);
    const prob = tf.slice(tf.softmax(logits), [0, 0, 0, 1], [-1, -1, -1, 1]) as tf.Tensor4D;
    const reg = conv(h, p.conv4_2);
    return { prob, reg };
  });
}

/**
 * P-Net as the detector runs it: both heads in one `[n, a, b, 5]` tensor (see
 * {@link PNetParams.head}) — per cell the face logit margin `d`, whose logistic function
 * `1 / (1 + e^-d)` is {@link pnetForward}'s `prob`, then the same 4 box offsets as its `reg`.
 */
export function pnetMarginMap(p: PNetRunWeights, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => conv(pnetTrunk(p, x), p.head));
}

const f32 = Math.fround;

/**
 * The face probability from a folded head's margin `d` (face logit minus not-face logit):
 * the two-class softmax, computed in float32 the way a softmax is — the exponential of the
 * smaller logit minus the larger, then a division — so that near-certain faces saturate to
 * exactly 1 where a float32 softmax does. (The detector's last NMS orders faces by score,
 * and equal scores keep index order, so saturation changes which face comes first.)
 */
export function faceProbability(margin: number): number {
  if (margin >= 0) return f32(1 / f32(1 + f32(Math.exp(-margin))));
  const e = f32(Math.exp(margin));
  return f32(e / f32(1 + e));
}

/** R-Net / O-Net outputs, one row per input crop. */
export interface RefineOutput {
  /** `[n]`: probability of "face". */
  prob: tf.Tensor1D;
  /** `[n, 4]`: regression. */
  reg: tf.Tensor2D;
  /** `[n, 10]` (O-Net only): landmarks relative to the box. */
  landmarks?: tf.Tensor2D;
}

function faceProb(logits: tf.Tensor2D): tf.Tensor1D {
  return tf.reshape(tf.slice(tf.softmax(logits), [0, 1], [-1, 1]), [-1]) as tf.Tensor1D;
}

/**
 * The layers R-Net and O-Net begin with: conv1, 3×3/2 `SAME` max-pool, conv2, 3×3/2 `VALID`
 * max-pool, conv3 (each convolution with its PReLU).
 */
function refineTrunk(p: ConvPreluTrunk, x: tf.Tensor4D): tf.Tensor4D {
  let h = convPrelu(x, p.conv1, p.prelu1);
  h = tf.maxPool(h, [3, 3], [2, 2], 'same');
  h = convPrelu(h, p.conv2, p.prelu2);
  h = tf.maxPool(h, [3, 3], [2, 2], 'valid');
  return convPrelu(h, p.conv3, p.prelu3);
}

/** The fully-connected hidden layer on the flattened features: PReLU, or ReLU without slopes (the seed's nets). */
function hiddenLayer(h: tf.Tensor4D, p: FcParams, alpha: tf.Tensor1D | undefined): tf.Tensor2D {
  const f = fc(flatten(h), p);
  return alpha ? prelu(f, alpha) : tf.relu(f);
}

/** R-Net's layers before its heads: the shared trunk, then the 128-unit hidden layer. */
function rnetFeatures(p: RNetParams, x: tf.Tensor4D): tf.Tensor2D {
  return hiddenLayer(refineTrunk(p, x), p.fc1, p.prelu4);
}

/** O-Net's layers before its heads: the shared trunk, 2×2/2 `SAME` max-pool, conv4, the 256-unit hidden layer. */
function onetFeatures(p: ONetParams, x: tf.Tensor4D): tf.Tensor2D {
  let h = refineTrunk(p, x);
  h = tf.maxPool(h, [2, 2], [2, 2], 'same');
  h = convPrelu(h, p.conv4, p.prelu4);
  return hiddenLayer(h, p.fc1, p.prelu5);
}

/** R-Net on a batch `[n, 24, 24, 3]` of normalized crops. */
export function rnetForward(p: RNetParams, x: tf.Tensor4D): RefineOutput {
  return tf.tidy(() => {
    const f = rnetFeatures(p, x);
    return { prob: faceProb(fc(f, p.fc2_1)), reg: fc(f, p.fc2_2) };
  });
}

/**
 * R-Net as the detector runs it: one row `[d, box × 4]` per crop, its heads folded into one
 * layer (see `RNetParams.head`); `faceProbability(d)` is {@link rnetForward}'s `prob`.
 */
export function rnetMarginRows(p: RNetParams, x: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => fc(rnetFeatures(p, x), p.head));
}

/** O-Net on a batch `[n, 48, 48, 3]` of normalized crops. */
export function onetForward(p: ONetParams, x: tf.Tensor4D): RefineOutput {
  return tf.tidy(() => {
    const f = onetFeatures(p, x);
    return { prob: faceProb(fc(f, p.fc2_1)), reg: fc(f, p.fc2_2), landmarks: fc(f, p.fc2_3) };
  });
}

/**
 * O-Net as the detector runs it: one row `[d, box × 4, landmarks × 10]` per crop (see
 * {@link rnetMarginRows}).
 */
export function onetMarginRows(p: ONetParams, x: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => fc(onetFeatures(p, x), p.head));
}
