/**
 * Image pyramids of the P-Net stage: which scales are tried and the size of each level.
 */
import { ConfigError } from '../errors.js';

/** One pyramid level: the scale and the size of the resized image fed to P-Net. */
export interface PyramidLevel {
  scale: number;
  height: number;
  width: number;
}

// Double-double helpers for an exactly rounded integer power (see powInt).
const SPLIT = 134217729; // 2^27 + 1
function twoProd(a: number, b: number): [number, number] {
  const p = a * b;
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}
function ddMul(x: [number, number], y: [number, number]): [number, number] {
  const [p, e0] = twoProd(x[0], y[0]);
  const e = e0 + (x[0] * y[1] + x[1] * y[0]);
  const s = p + e;
  return [s, e - (s - p)];
}

/**
 * `base ** k` for a non-negative integer `k`, correctly rounded (computed in double-double),
 * which is what C's `pow` — and so Python and NumPy without SIMD math — returns. `Math.pow`
 * is off by one unit in the last place for many of the pyramid's powers, and one ulp is
 * enough to move `ceil(h * scale)` when `h * scale` lands on an integer.
 */
export function powInt(base: number, k: number): number {
  let r: [number, number] = [1, 0];
  let b: [number, number] = [base, 0];
  let n = k;
  while (n > 0) {
    if (n & 1) r = ddMul(r, b);
    n >>= 1;
    if (n > 0) b = ddMul(b, b);
  }
  return r[0] + r[1];
}

/**
 * The smallest face size the detector accepts: P-Net's 12-pixel window. Below it the
 * pyramid would upsample the image (memory grows as (12 / minFaceSize)²: 0.1 asks for a
 * 14 400 times larger first level), and faces that small hold too little for recognition.
 */
export const MIN_FACE_SIZE_FLOOR = 12;

/**
 * The most pixels of the largest pyramid level (2^22, 4.2 MP): P-Net's activations on it are
 * the detector's peak memory. The default minimum face size (20) stays under it for any image
 * the decoder makes (≤ 2^23 pixels); smaller minimum sizes on large images are refused.
 */
export const MAX_PYRAMID_LEVEL_PIXELS = 2 ** 22;

/** Pixels of the largest pyramid level of a `height × width` image (the one of scale 12 / minFaceSize). */
export function firstLevelPixels(height: number, width: number, minFaceSize: number): number {
  const scale = 12 / minFaceSize;
  return Math.ceil(height * scale) * Math.ceil(width * scale);
}

function checkPyramidArgs(height: number, width: number, minFaceSize: number, factor: number): void {
  if (!(Number.isFinite(minFaceSize) && minFaceSize > 0)) {
    throw new ConfigError('minFaceSize', `must be a positive number, got ${minFaceSize}`);
  }
  if (minFaceSize < MIN_FACE_SIZE_FLOOR) {
    throw new ConfigError('minFaceSize', `must be at least ${MIN_FACE_SIZE_FLOOR} pixels (P-Net's window), got ${minFaceSize}`);
  }
  if (!(factor > 0 && factor < 1)) throw new ConfigError('scaleFactor', `must be in (0, 1), got ${factor}`);
  if (!(height > 0 && width > 0)) throw new ConfigError('image size', `must be positive, got ${width}×${height}`);
  const levelPixels = firstLevelPixels(height, width, minFaceSize);
  if (levelPixels > MAX_PYRAMID_LEVEL_PIXELS) {
    const least = Math.ceil(12 * Math.sqrt((height * width) / MAX_PYRAMID_LEVEL_PIXELS));
    throw new ConfigError(
      'minFaceSize',
      `${minFaceSize} on a ${width}×${height} image needs a ${levelPixels}-pixel first pyramid level, more than the ${MAX_PYRAMID_LEVEL_PIXELS} allowed: use a minimum face size of at least ${least} or a smaller image`,
    );
  }
}

/**
 * The reference's pyramid (davidsandberg/facenet `detect_face`): with `m = 12 / minsize`,
 * scales `m * factor^k` for `k = 0, 1, …` while `min(h, w) * m * factor^k >= 12` (the
 * running product is tracked by repeated multiplication, exactly as the reference does);
 * level sizes `ceil(h * scale) × ceil(w * scale)`.
 */
export function pyramidLevels(height: number, width: number, minFaceSize: number, factor: number): PyramidLevel[] {
  checkPyramidArgs(height, width, minFaceSize, factor);
  const m = 12.0 / minFaceSize;
  let minl = Math.min(height, width) * m;
  const levels: PyramidLevel[] = [];
  let k = 0;
  while (minl >= 12) {
    const scale = m * powInt(factor, k);
    levels.push({ scale, height: Math.ceil(height * scale), width: Math.ceil(width * scale) });
    minl = minl * factor;
    k += 1;
  }
  return levels;
}

/**
 * The seed's pyramid (LeslieZhoa/tensorflow-facenet `MtcnnDetector.detect_pnet`): start at
 * `scale = 12 / minsize`, sizes `int(h * scale) × int(w * scale)`, keep going while the
 * smaller side is `> 12`, multiplying the scale by `factor` each time.
 */
export function seedPyramidLevels(height: number, width: number, minFaceSize: number, factor: number): PyramidLevel[] {
  checkPyramidArgs(height, width, minFaceSize, factor);
  let scale = 12 / minFaceSize;
  const levels: PyramidLevel[] = [];
  let h = Math.trunc(height * scale);
  let w = Math.trunc(width * scale);
  while (Math.min(h, w) > 12) {
    levels.push({ scale, height: h, width: w });
    scale *= factor;
    h = Math.trunc(height * scale);
    w = Math.trunc(width * scale);
  }
  return levels;
}
