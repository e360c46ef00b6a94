/**
 * `cv2.resize(src, (dstWidth, dstHeight), interpolation=cv2.INTER_AREA)` reproduced value for
 * value (OpenCV 4.x, x86 build) — the resampling davidsandberg/facenet's `imresample` uses
 * for every P-Net pyramid level and every R-Net / O-Net crop.
 *
 * What OpenCV does, and so what this does:
 * - same size: a copy;
 * - both sides shrink (or stay) by integer factors: block averages ({@link resizeAreaFast});
 * - both sides shrink (or stay) otherwise: exact area averaging. Each output pixel is the
 *   mean of the source pixels under its footprint, fractional pixels weighted by the
 *   covered fraction (`computeResizeAreaTab`), computed separably: every source row is
 *   reduced horizontally, then rows are accumulated vertically. The weights are `float`s;
 *   8-bit images accumulate in `float` (emulated here with `Math.fround`) and round half to
 *   even at the end, float64 images accumulate in double;
 * - a side grows: OpenCV's bilinear variant with "area" coefficients ({@link resizeBilinear}).
 */
import { allocLike, checkPixels, checkSize, saturateU8, type PixelBuffer } from './pixels.js';
import { areaFastFactors, resizeAreaFast } from './resize-area-fast.js';
import { resizeBilinear } from './resize-linear.js';

const f32 = Math.fround;

/** One contribution: output index `di` takes `alpha ×` source index `si`. */
export interface AreaTab {
  di: Int32Array;
  si: Int32Array;
  /** `float` weights. */
  alpha: Float64Array;
  length: number;
}

/**
 * OpenCV's `computeResizeAreaTab`: the footprint of output pixel `d` is
 * `[d*scale, (d+1)*scale)` in source pixels; partially covered source pixels (by more than
 * 1e-3) get their covered fraction, every weight divided by the footprint width.
 */
export function areaTab(ssize: number, dsize: number, scale: number): AreaTab {
  const cap = ssize * 2 + dsize * 2;
  const di = new Int32Array(cap);
  const si = new Int32Array(cap);
  const alpha = new Float64Array(cap);
  let k = 0;
  for (let d = 0; d < dsize; d++) {
    const fs1 = d * scale;
    const fs2 = fs1 + scale;
    const cellWidth = Math.min(scale, ssize - fs1);
    let s1 = Math.ceil(fs1);
    let s2 = Math.floor(fs2);
    s2 = Math.min(s2, ssize - 1);
    s1 = Math.min(s1, s2);
    if (s1 - fs1 > 1e-3) {
      di[k] = d;
      si[k] = s1 - 1;
      alpha[k++] = f32((s1 - fs1) / cellWidth);
    }
    for (let s = s1; s < s2; s++) {
      di[k] = d;
      si[k] = s;
      alpha[k++] = f32(1 / cellWidth);
    }
    if (fs2 - s2 > 1e-3) {
      di[k] = d;
      si[k] = s2;
      alpha[k++] = f32(Math.min(Math.min(fs2 - s2, 1), cellWidth) / cellWidth);
    }
  }
  return { di, si, alpha, length: k };
}

/** `ResizeArea_Invoker`: the general area-averaging path (both scale factors ≥ 1). */
function resizeAreaExact<T extends Uint8Array | Float64Array>(
  src: PixelBuffer<T>,
  dstHeight: number,
  dstWidth: number,
): PixelBuffer<T> {
  const { height: sh, width: sw, channels: cn, data: S } = src;
  const xtab = areaTab(sw, dstWidth, 1 / (dstWidth / sw));
  const ytab = areaTab(sh, dstHeight, 1 / (dstHeight / sh));
  const rowLen = dstWidth * cn;
  const out = allocLike(S, dstHeight * rowLen);
  const u8 = S instanceof Uint8Array;
  // Float32Array storage rounds every stored sum to float, as OpenCV's float accumulators do.
  const buf = u8 ? new Float32Array(rowLen) : new Float64Array(rowLen);
  const sum = u8 ? new Float32Array(rowLen) : new Float64Array(rowLen);
  let bufRow = -1;
  const reduceRow = (sy: number): void => {
    if (bufRow === sy) return;
    buf.fill(0);
    const base = sy * sw * cn;
    const n = xtab.length;
    if (u8) {
      for (let k = 0; k < n; k++) {
        const d = xtab.di[k] * cn;
        const s = base + xtab.si[k] * cn;
        const a = xtab.alpha[k];
        for (let c = 0; c < cn; c++) buf[d + c] = buf[d + c] + f32(S[s + c] * a);
      }
    } else {
      for (let k = 0; k < n; k++) {
        const d = xtab.di[k] * cn;
        const s = base + xtab.si[k] * cn;
        const a = xtab.alpha[k];
        for (let c = 0; c < cn; c++) buf[d + c] += S[s + c] * a;
      }
    }
    bufRow = sy;
  };
  const flush = (dy: number): void => {
    const o = dy * rowLen;
    if (u8) for (let x = 0; x < rowLen; x++) out[o + x] = saturateU8(sum[x]);
    else for (let x = 0; x < rowLen; x++) out[o + x] = sum[x];
  };
  let prevDy = ytab.di[0];
  for (let j = 0; j < ytab.length; j++) {
    const beta = ytab.alpha[j];
    const dy = ytab.di[j];
    reduceRow(ytab.si[j]);
    if (dy !== prevDy) {
      flush(prevDy);
      if (u8) for (let x = 0; x < rowLen; x++) sum[x] = f32(beta * buf[x]);
      else for (let x = 0; x < rowLen; x++) sum[x] = beta * buf[x];
      prevDy = dy;
    } else if (u8) {
      for (let x = 0; x < rowLen; x++) sum[x] = sum[x] + f32(beta * buf[x]);
    } else {
      for (let x = 0; x < rowLen; x++) sum[x] += beta * buf[x];
    }
  }
  flush(prevDy);
  return { data: out, height: dstHeight, width: dstWidth, channels: cn };
}

/**
 * `cv2.resize(src, (dstWidth, dstHeight), interpolation=cv2.INTER_AREA)`.
 *
 * @param src a `Uint8Array` image (OpenCV `CV_8U`: output rounded to 0…255) or a
 *   `Float64Array` image (`CV_64F`: output unrounded).
 * @throws {ShapeError} for an inconsistent source or an empty output size.
 */
export function resizeArea<T extends Uint8Array | Float64Array>(
  src: PixelBuffer<T>,
  dstHeight: number,
  dstWidth: number,
): PixelBuffer<T> {
  checkPixels(src, 'resizeArea source');
  checkSize(dstHeight, dstWidth, 'resizeArea output size');
  const { height: sh, width: sw } = src;
  if (dstHeight === sh && dstWidth === sw) return { ...src, data: src.data.slice() as T };
  const scaleX = 1 / (dstWidth / sw);
  const scaleY = 1 / (dstHeight / sh);
  if (scaleX >= 1 && scaleY >= 1) {
    const fast = areaFastFactors(sh, sw, dstHeight, dstWidth);
    if (fast) return resizeAreaFast(src, dstHeight, dstWidth, fast[0], fast[1]);
    return resizeAreaExact(src, dstHeight, dstWidth);
  }
  return resizeBilinear(src, dstHeight, dstWidth, true);
}
