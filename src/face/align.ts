/**
 * Landmark alignment: the similarity transform (rotation, uniform scale, translation) that
 * best maps a face's 5 MTCNN landmarks onto a fixed 5-point template, in the least-squares
 * sense (Umeyama 1991), applied with bilinear sampling.
 *
 * The template is the one ArcFace / InsightFace uses for 112×112 crops; it is scaled to any
 * output size and can be shrunk towards the centre to leave a margin around the face.
 * Pixel coordinates follow the usual convention of OpenCV's `warpAffine` and
 * `tf.image.transform`: integer coordinates are pixel centres.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import type { Point } from './types.js';

/** The 5-point template (left eye, right eye, nose, left and right mouth corners) for 112×112 crops. */
export const ARCFACE_TEMPLATE_112: readonly Point[] = Object.freeze([
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
] as Point[]);

/**
 * dlib's mean face (the 68-point shape of `get_face_chip_details`, in units of the face's
 * extent) reduced to MTCNN's 5 landmarks: the centres of the two six-point eye contours,
 * the nose tip (point 30) and the mouth corners (points 48 and 54).
 */
export const DLIB_MEAN_FACE_5: readonly Point[] = Object.freeze([
  [0.2254918, 0.2159903],
  [0.7547613, 0.2159903],
  [0.490127, 0.515625],
  [0.254149, 0.780233],
  [0.726104, 0.780233],
] as Point[]);

/** dlib's face-recognition chip: 150 px with padding 0.25 (`get_face_chip_details(shape, 150, 0.25)`). */
export const FACE_CHIP_DEFAULTS = { imageSize: 150, padding: 0.25 } as const;

/**
 * Where the 5 landmarks go in a dlib face chip of `imageSize` pixels: the mean face shrunk
 * to leave `padding` × the face's extent free on each side, as `get_face_chip_details`
 * does (`(padding + p) / (1 + 2·padding)`), in pixel-centre coordinates.
 */
export function faceChipPoints(imageSize: number = FACE_CHIP_DEFAULTS.imageSize, padding: number = FACE_CHIP_DEFAULTS.padding): Point[] {
  if (!Number.isInteger(imageSize) || imageSize < 1) throw new ConfigError('imageSize', `must be a positive integer, got ${imageSize}`);
  if (!(padding > -0.5 && padding <= 2)) throw new ConfigError('padding', `must be in (-0.5, 2], got ${padding}`);
  return DLIB_MEAN_FACE_5.map(([x, y]) => [
    ((padding + x) / (1 + 2 * padding)) * imageSize - 0.5,
    ((padding + y) / (1 + 2 * padding)) * imageSize - 0.5,
  ]);
}

/**
 * A similarity transform `(x, y) ↦ (a·x − b·y + tx, b·x + a·y + ty)`: rotation by
 * `atan2(b, a)` and scale `hypot(a, b)`, then translation.
 */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** Options of {@link alignFace}. */
export interface AlignOptions {
  /** Side of the square output in pixels. Default 112 (the template's native size). */
  imageSize?: number;
  /**
   * Fraction of the output side left free on each side of the template: the template is
   * scaled into the central `(1 − 2·margin)` part of the output. 0 gives the standard
   * ArcFace crop; e.g. 0.1 shows more hair and chin. Must be in [0, 0.5). Default 0.
   */
  margin?: number;
  /** Another 5-point template in 112×112 coordinates. Default {@link ARCFACE_TEMPLATE_112}. */
  template?: readonly Point[];
  /**
   * The 5 destination points directly in output pixels (e.g. {@link faceChipPoints});
   * replaces `template` and `margin`.
   */
  points?: readonly Point[];
}

/** Defaults of {@link AlignOptions}. */
export const ALIGN_DEFAULTS = { imageSize: 112, margin: 0 } as const;

/**
 * The template points for an output of `imageSize` pixels with `margin` (see {@link AlignOptions}).
 */
export function templatePoints(opts: AlignOptions = {}): Point[] {
  const size = opts.imageSize ?? ALIGN_DEFAULTS.imageSize;
  const margin = opts.margin ?? ALIGN_DEFAULTS.margin;
  const template = opts.template ?? ARCFACE_TEMPLATE_112;
  if (!Number.isInteger(size) || size < 1) throw new ConfigError('imageSize', `must be a positive integer, got ${size}`);
  if (!(margin >= 0 && margin < 0.5)) throw new ConfigError('margin', `must be in [0, 0.5), got ${margin}`);
  checkPoints('template', template);
  // Template coordinates are pixel centres of a 112-pixel image: scale about the image's
  // continuous extent [-0.5, 111.5] so that the same face fills the same fraction at any size.
  const inner = size * (1 - 2 * margin);
  const offset = size * margin;
  return template.map(([x, y]) => [
    ((x + 0.5) / 112) * inner + offset - 0.5,
    ((y + 0.5) / 112) * inner + offset - 0.5,
  ]);
}

function checkPoints(name: string, pts: readonly Point[], n?: number): void {
  if (!Array.isArray(pts) || pts.length < 2 || (n !== undefined && pts.length !== n)) {
    throw new ShapeError(name, n !== undefined ? `${n} points` : 'at least 2 points', String(pts?.length));
  }
  for (const p of pts) {
    if (!Array.isArray(p) || p.length !== 2 || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      throw new ShapeError(name, 'finite [x, y] pairs', JSON.stringify(p));
    }
  }
}

/**
 * The least-squares similarity transform mapping `src` points onto `dst` points (Umeyama's
 * method restricted to proper rotations). In 2-D it has a closed form: treating points as
 * complex numbers z, centring both sets, the optimal `a + ib = Σ conj(s)·d / Σ |s|²`.
 *
 * @throws {ShapeError} when the point lists differ in length, have fewer than 2 points, or
 *   all `src` points coincide.
 */
export function estimateSimilarity(src: readonly Point[], dst: readonly Point[]): Similarity {
  checkPoints('src', src);
  checkPoints('dst', dst, src.length);
  const n = src.length;
  let msx = 0, msy = 0, mdx = 0, mdy = 0;
  for (let i = 0; i < n; i++) {
    msx += src[i][0]; msy += src[i][1];
    mdx += dst[i][0]; mdy += dst[i][1];
  }
  msx /= n; msy /= n; mdx /= n; mdy /= n;
  let re = 0, im = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const sx = src[i][0] - msx, sy = src[i][1] - msy;
    const dx = dst[i][0] - mdx, dy = dst[i][1] - mdy;
    // conj(s) · d = (sx − i·sy)(dx + i·dy)
    re += sx * dx + sy * dy;
    im += sx * dy - sy * dx;
    norm += sx * sx + sy * sy;
  }
  if (!(norm > 0)) throw new ShapeError('src', 'points that are not all identical', JSON.stringify(src));
  const a = re / norm;
  const b = im / norm;
  return { a, b, tx: mdx - (a * msx - b * msy), ty: mdy - (b * msx + a * msy) };
}

/** Apply a similarity transform to a point. */
export function applySimilarity(t: Similarity, [x, y]: Point): Point {
  return [t.a * x - t.b * y + t.tx, t.b * x + t.a * y + t.ty];
}

/** The inverse transform. @throws {ShapeError} for a degenerate (zero-scale) transform. */
export function invertSimilarity(t: Similarity): Similarity {
  const d = t.a * t.a + t.b * t.b;
  if (!(d > 0)) throw new ShapeError('similarity', 'a non-zero scale', JSON.stringify(t));
  const a = t.a / d;
  const b = -t.b / d;
  return { a, b, tx: -(a * t.tx - b * t.ty), ty: -(b * t.tx + a * t.ty) };
}

/**
 * The transform from image coordinates to aligned-output coordinates for a face with these
 * 5 landmarks.
 */
export function alignmentTransform(landmarks: readonly Point[], opts: AlignOptions = {}): Similarity {
  checkPoints('landmarks', landmarks, 5);
  if (opts.points) checkPoints('points', opts.points, 5);
  return estimateSimilarity(landmarks, opts.points ?? templatePoints(opts));
}

/**
 * The 8 numbers `tf.image.transform` wants for warping by `imageToOutput`: the inverse
 * (output→input) map as a projective row.
 */
export function transformRow(imageToOutput: Similarity): number[] {
  const inv = invertSimilarity(imageToOutput);
  return [inv.a, -inv.b, inv.tx, inv.b, inv.a, inv.ty, 0, 0];
}

function assertImage(image: tf.Tensor): asserts image is tf.Tensor3D {
  if (image.rank !== 3 || image.shape[2] !== 3) {
    throw new ShapeError('image', '[height, width, 3] tensor', JSON.stringify(image.shape));
  }
}

/**
 * Warp `image` (`[height, width, 3]`, RGB 0…255) so that the 5 `landmarks` land on the
 * template. Pixels that fall outside the image are 0 (black). Returns a new float32
 * `[imageSize, imageSize, 3]` tensor; the caller disposes it.
 */
export function alignFace(image: tf.Tensor3D, landmarks: readonly Point[], opts: AlignOptions = {}): tf.Tensor3D {
  const batch = alignFaces(image, [landmarks], opts);
  const one = tf.squeeze(batch, [0]) as tf.Tensor3D;
  batch.dispose();
  return one;
}

/**
 * Align several faces of one image (see {@link alignFace}) into a
 * `[n, imageSize, imageSize, 3]` batch. `n` may be 0.
 */
export function alignFaces(
  image: tf.Tensor3D,
  landmarksList: readonly (readonly Point[])[],
  opts: AlignOptions = {},
): tf.Tensor4D {
  assertImage(image);
  const size = opts.imageSize ?? ALIGN_DEFAULTS.imageSize;
  const rows = landmarksList.map((lm) => transformRow(alignmentTransform(lm, opts)));
  if (rows.length === 0) {
    if (!opts.points) templatePoints(opts); // validates the options
    return tf.zeros([0, size, size, 3]) as tf.Tensor4D;
  }
  return tf.tidy(() => {
    // One face at a time: a batch would hold a full copy of the image per face.
    const img = tf.expandDims(tf.cast(image, 'float32'), 0) as tf.Tensor4D;
    const faces = rows.map((row) =>
      tf.image.transform(img, tf.tensor2d([row], [1, 8]), 'bilinear', 'constant', 0, [size, size]),
    );
    return (faces.length === 1 ? faces[0] : tf.concat(faces, 0)) as tf.Tensor4D;
  });
}
