/**
 * Face crops the way davidsandberg/facenet's `align_dataset_mtcnn.py` makes them: the
 * detected box grown by a margin (in original pixels, half on each side), clipped to the
 * image, cut out and resized to a square with bilinear filtering.
 *
 * The geometric parts ({@link marginBox}, {@link selectFaces}, {@link resizeWeights}) are
 * pure functions; {@link cropFace} / {@link cropFaces} apply them to tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import type { Box, FaceDetection } from './types.js';

/**
 * Which faces of an image to keep:
 * - `'reference'`: one face, the one `align_dataset_mtcnn.py` keeps — largest box area
 *   minus twice the squared distance of the box centre from the image centre;
 * - `'score'`: one face, the one with the highest detection score (the seed project's choice);
 * - `'all'`: every face, in detection order.
 */
export type FaceSelection = 'reference' | 'score' | 'all';

/** Options of {@link cropFace} and {@link cropFaces}. */
export interface CropOptions {
  /** Side of the square output in pixels. Default 182 (the reference's `--image_size`). */
  imageSize?: number;
  /**
   * Margin around the detected box in original-image pixels, half of it added on each
   * side before clipping. Default 44 (the reference's `--margin`).
   */
  margin?: number;
  /**
   * Widen the bilinear filter when shrinking, as PIL's `resize(..., BILINEAR)` (and so
   * the reference's `misc.imresize`) does. When false, plain 2×2 bilinear interpolation.
   * Default true.
   */
  antialias?: boolean;
}

/** Defaults of {@link CropOptions}. */
export const CROP_DEFAULTS: Required<CropOptions> = { imageSize: 182, margin: 44, antialias: true };

function checkSize(name: string, v: number, min: number): void {
  if (!Number.isFinite(v) || !Number.isInteger(v) || v < min) {
    throw new ConfigError(name, `must be an integer ≥ ${min}, got ${v}`);
  }
}

/** Resolve and validate crop options. */
export function resolveCropOptions(opts: CropOptions = {}): Required<CropOptions> {
  const o = { ...CROP_DEFAULTS, ...stripUndefined(opts) };
  checkSize('imageSize', o.imageSize, 1);
  if (!Number.isFinite(o.margin) || o.margin < 0) throw new ConfigError('margin', `must be ≥ 0, got ${o.margin}`);
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The integer crop rectangle the reference cuts for a detected `box`: each side moved out
 * by `margin / 2`, clipped to the image and truncated to integers
 * (`bb[0] = max(x1 - margin/2, 0)`, …, `bb[2] = min(x2 + margin/2, width)`).
 * `x2` and `y2` are exclusive. The result may be empty (x2 ≤ x1) for a box outside the image.
 */
export function marginBox(box: Box, width: number, height: number, margin: number): Box {
  const half = margin / 2;
  // np.int32 assignment truncates toward zero.
  return [
    Math.trunc(Math.max(box[0] - half, 0)),
    Math.trunc(Math.max(box[1] - half, 0)),
    Math.trunc(Math.min(box[2] + half, width)),
    Math.trunc(Math.min(box[3] + half, height)),
  ];
}

/**
 * The score `align_dataset_mtcnn.py` maximizes to pick one face among several: box area
 * minus twice the squared offset of the box centre from the image centre.
 */
export function referenceFaceScore(box: Box, width: number, height: number): number {
  const area = (box[2] - box[0]) * (box[3] - box[1]);
  const dx = (box[0] + box[2]) / 2 - width / 2;
  const dy = (box[1] + box[3]) / 2 - height / 2;
  return area - 2 * (dx * dx + dy * dy);
}

/**
 * Choose the faces to crop from the detections of one `width`×`height` image (see
 * {@link FaceSelection}). Ties go to the earliest face, as with `np.argmax`.
 * Returns a new array (empty when there are no faces).
 */
export function selectFaces<T extends Pick<FaceDetection, 'box' | 'score'>>(
  faces: readonly T[],
  width: number,
  height: number,
  selection: FaceSelection = 'reference',
): T[] {
  if (selection === 'all') return [...faces];
  if (selection !== 'reference' && selection !== 'score') {
    throw new ConfigError('faceSelection', `must be 'reference', 'score' or 'all', got '${String(selection)}'`);
  }
  if (faces.length === 0) return [];
  const value = (f: T) => (selection === 'score' ? f.score : referenceFaceScore(f.box, width, height));
  let best = 0;
  let bestValue = value(faces[0]);
  for (let i = 1; i < faces.length; i++) {
    const v = value(faces[i]);
    if (v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return [faces[best]];
}

/**
 * The `outSize × inSize` row-major matrix that resamples a 1-D signal of `inSize` samples
 * to `outSize` samples with a triangle (bilinear) filter, pixel centres at `i + 0.5`. With
 * `antialias` the filter is widened by the shrink factor, exactly as PIL computes its
 * resampling coefficients, so that downscaling averages instead of skipping pixels.
 * Every row sums to 1.
 */
export function resizeWeights(inSize: number, outSize: number, antialias = true): Float32Array {
  checkSize('inSize', inSize, 1);
  checkSize('outSize', outSize, 1);
  const scale = inSize / outSize;
  const filterScale = antialias ? Math.max(scale, 1) : 1;
  const support = filterScale; // the triangle filter's support is 1
  const w = new Float32Array(outSize * inSize);
  const row = new Float64Array(inSize);
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    // PIL's rounding of the window bounds (C cast truncates toward zero).
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), inSize);
    let sum = 0;
    for (let i = lo; i < hi; i++) {
      const t = Math.abs((i - centre + 0.5) / filterScale);
      row[i] = t < 1 ? 1 - t : 0;
      sum += row[i];
    }
    if (sum === 0) {
      // Only possible for a window that misses every sample: take the nearest one.
      const nearest = Math.min(inSize - 1, Math.max(0, Math.floor(centre)));
      w[o * inSize + nearest] = 1;
      continue;
    }
    for (let i = lo; i < hi; i++) w[o * inSize + i] = row[i] / sum;
  }
  return w;
}

function assertImage(image: tf.Tensor): asserts image is tf.Tensor3D {
  if (image.rank !== 3 || image.shape[2] !== 3) {
    throw new ShapeError('image', '[height, width, 3] tensor', JSON.stringify(image.shape));
  }
}

/**
 * Resize interleaved RGB pixels `[h, w, 3]` to `[size, size, 3]`: a vertical then a
 * horizontal pass with the {@link resizeWeights} coefficients, visiting only each output's
 * non-zero taps. (Plain loops beat matrix products here: the weight matrices are almost
 * empty, and batched matmuls and broadcasts are slow on the wasm backend.)
 */
export function resizePixels(
  src: ArrayLike<number>,
  h: number,
  w: number,
  size: number,
  antialias = true,
): Float32Array {
  if (src.length !== h * w * 3) throw new ShapeError('pixels', `${h * w * 3} values (${h}×${w}×3)`, String(src.length));
  const wy = resizeWeights(h, size, antialias);
  const wx = resizeWeights(w, size, antialias);
  const taps = (weights: Float32Array, n: number, o: number): [number, number] => {
    let lo = 0;
    while (lo < n - 1 && weights[o * n + lo] === 0) lo++;
    let hi = n;
    while (hi > lo + 1 && weights[o * n + hi - 1] === 0) hi--;
    return [lo, hi];
  };
  const rowLen = w * 3;
  const tmp = new Float32Array(size * rowLen);
  for (let oy = 0; oy < size; oy++) {
    const [lo, hi] = taps(wy, h, oy);
    const dst = oy * rowLen;
    for (let i = lo; i < hi; i++) {
      const k = wy[oy * h + i];
      const from = i * rowLen;
      for (let j = 0; j < rowLen; j++) tmp[dst + j] += k * src[from + j];
    }
  }
  const out = new Float32Array(size * size * 3);
  const xTaps = Array.from({ length: size }, (_, ox) => taps(wx, w, ox));
  for (let oy = 0; oy < size; oy++) {
    const row = oy * rowLen;
    for (let ox = 0; ox < size; ox++) {
      const [lo, hi] = xTaps[ox];
      let r = 0, g = 0, b = 0;
      for (let i = lo; i < hi; i++) {
        const k = wx[ox * w + i];
        const p = row + i * 3;
        r += k * tmp[p];
        g += k * tmp[p + 1];
        b += k * tmp[p + 2];
      }
      const q = (oy * size + ox) * 3;
      out[q] = r;
      out[q + 1] = g;
      out[q + 2] = b;
    }
  }
  return out;
}

/**
 * Crop one face from `image` (`[height, width, 3]`, RGB 0…255) as the reference does:
 * {@link marginBox} around `box`, then a bilinear resize to `imageSize × imageSize`.
 * Returns a new float32 `[imageSize, imageSize, 3]` tensor (not rounded; values stay in
 * 0…255). The caller disposes it. The cropped region is read back synchronously
 * (`dataSync`) and resized on the CPU.
 *
 * @throws {ShapeError} when the image is not `[h, w, 3]` or the box lies outside the image.
 */
export function cropFace(image: tf.Tensor3D, box: Box, opts: CropOptions = {}): tf.Tensor3D {
  assertImage(image);
  const o = resolveCropOptions(opts);
  const [height, width] = image.shape;
  const bb = marginBox(box, width, height, o.margin);
  if (!(bb[2] > bb[0] && bb[3] > bb[1])) {
    throw new ShapeError('face box', `a box overlapping the ${width}×${height} image`, JSON.stringify(box));
  }
  const h = bb[3] - bb[1];
  const w = bb[2] - bb[0];
  const region = tf.tidy(() => tf.cast(tf.slice(image, [bb[1], bb[0], 0], [h, w, 3]), 'float32'));
  let pixels: Float32Array;
  try {
    pixels = resizePixels(region.dataSync() as Float32Array, h, w, o.imageSize, o.antialias);
  } finally {
    region.dispose();
  }
  return tf.tensor3d(pixels, [o.imageSize, o.imageSize, 3], 'float32');
}

/**
 * Crop several faces of one image (see {@link cropFace}) into a `[n, imageSize, imageSize, 3]`
 * batch. `n` may be 0.
 */
export function cropFaces(image: tf.Tensor3D, boxes: readonly Box[], opts: CropOptions = {}): tf.Tensor4D {
  assertImage(image);
  const o = resolveCropOptions(opts);
  if (boxes.length === 0) return tf.zeros([0, o.imageSize, o.imageSize, 3]) as tf.Tensor4D;
  return tf.tidy(() => tf.stack(boxes.map((b) => cropFace(image, b, o))) as tf.Tensor4D);
}
