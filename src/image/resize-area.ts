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
import { checkPixels, checkSize, saturateU8, type PixelBuffer } from './pixels.js';
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

/**
 * `ResizeArea_Invoker<uchar, float>`: the general area-averaging path for 8-bit images.
 * OpenCV accumulates in `float`; storing every partial sum in a `Float32Array` and rounding
 * each product with `Math.fround` reproduces its arithmetic operation for operation.
 * (Kept separate from the float64 version so each loop stays monomorphic and fast.)
 */
function resizeAreaExactU8(src: PixelBuffer<Uint8Array>, dstHeight: number, dstWidth: number): PixelBuffer<Uint8Array> {
  const { height: sh, width: sw, channels: cn, data: S } = src;
  const xtab = areaTab(sw, dstWidth, 1 / (dstWidth / sw));
  const ytab = areaTab(sh, dstHeight, 1 / (dstHeight / sh));
  const rowLen = dstWidth * cn;
  const out = new Uint8Array(dstHeight * rowLen);
  const buf = new Float32Array(rowLen);
  const sum = new Float32Array(rowLen);
  const xdi = xtab.di;
  const xsi = xtab.si;
  const xal = xtab.alpha;
  const n = xtab.length;
  let bufRow = -1;
  let prevDy = ytab.di[0];
  for (let j = 0; j < ytab.length; j++) {
    const beta = ytab.alpha[j];
    const dy = ytab.di[j];
    const sy = ytab.si[j];
    if (bufRow !== sy) {
      buf.fill(0);
      const base = sy * sw * cn;
      if (cn === 3) {
        // The terms of one output pixel are consecutive (the table is in output order), so
        // they accumulate in locals, each partial sum rounded to float as OpenCV's `buf` is.
        let k = 0;
        while (k < n) {
          const dd = xdi[k];
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          for (; k < n && xdi[k] === dd; k++) {
            const s = base + xsi[k] * 3;
            const a = xal[k];
            a0 = f32(a0 + f32(S[s] * a));
            a1 = f32(a1 + f32(S[s + 1] * a));
            a2 = f32(a2 + f32(S[s + 2] * a));
          }
          buf[dd * 3] = a0;
          buf[dd * 3 + 1] = a1;
          buf[dd * 3 + 2] = a2;
        }
      } else {
        for (let k = 0; k < n; k++) {
          const d = xdi[k] * cn;
          const s = base + xsi[k] * cn;
          const a = xal[k];
          for (let c = 0; c < cn; c++) buf[d + c] = buf[d + c] + f32(S[s + c] * a);
        }
      }
      bufRow = sy;
    }
    if (dy !== prevDy) {
      const o = prevDy * rowLen;
      for (let x = 0; x < rowLen; x++) {
        out[o + x] = saturateU8(sum[x]);
        sum[x] = f32(beta * buf[x]);
      }
      prevDy = dy;
    } else {
      for (let x = 0; x < rowLen; x++) sum[x] = sum[x] + f32(beta * buf[x]);
    }
  }
  const o = prevDy * rowLen;
  for (let x = 0; x < rowLen; x++) out[o + x] = saturateU8(sum[x]);
  return { data: out, height: dstHeight, width: dstWidth, channels: cn };
}

/** `ResizeArea_Invoker<double, double>`: the general area-averaging path for float64 images. */
function resizeAreaExactF64(src: PixelBuffer<Float64Array>, dstHeight: number, dstWidth: number): PixelBuffer<Float64Array> {
  const { height: sh, width: sw, channels: cn, data: S } = src;
  const xtab = areaTab(sw, dstWidth, 1 / (dstWidth / sw));
  const ytab = areaTab(sh, dstHeight, 1 / (dstHeight / sh));
  const rowLen = dstWidth * cn;
  const out = new Float64Array(dstHeight * rowLen);
  const buf = new Float64Array(rowLen);
  const sum = new Float64Array(rowLen);
  const xdi = xtab.di;
  const xsi = xtab.si;
  const xal = xtab.alpha;
  const n = xtab.length;
  let bufRow = -1;
  let prevDy = ytab.di[0];
  for (let j = 0; j < ytab.length; j++) {
    const beta = ytab.alpha[j];
    const dy = ytab.di[j];
    const sy = ytab.si[j];
    if (bufRow !== sy) {
      buf.fill(0);
      const base = sy * sw * cn;
      if (cn === 3) {
        let k = 0;
        while (k < n) {
          const dd = xdi[k];
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          for (; k < n && xdi[k] === dd; k++) {
            const s = base + xsi[k] * 3;
            const a = xal[k];
            a0 += S[s] * a;
            a1 += S[s + 1] * a;
            a2 += S[s + 2] * a;
          }
          buf[dd * 3] = a0;
          buf[dd * 3 + 1] = a1;
          buf[dd * 3 + 2] = a2;
        }
      } else {
        for (let k = 0; k < n; k++) {
          const d = xdi[k] * cn;
          const s = base + xsi[k] * cn;
          const a = xal[k];
          for (let c = 0; c < cn; c++) buf[d + c] += S[s + c] * a;
        }
      }
      bufRow = sy;
    }
    if (dy !== prevDy) {
      const o = prevDy * rowLen;
      for (let x = 0; x < rowLen; x++) {
        out[o + x] = sum[x];
        sum[x] = beta * buf[x];
      }
      prevDy = dy;
    } else {
      for (let x = 0; x < rowLen; x++) sum[x] += beta * buf[x];
    }
  }
  out.set(sum, prevDy * rowLen);
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
    return (
      src.data instanceof Uint8Array
        ? resizeAreaExactU8(src as PixelBuffer<Uint8Array>, dstHeight, dstWidth)
        : resizeAreaExactF64(src as PixelBuffer<Float64Array>, dstHeight, dstWidth)
    ) as PixelBuffer<T>;
  }
  return resizeBilinear(src, dstHeight, dstWidth, true);
}

/**
 * Which of OpenCV's `INTER_AREA` code paths resizing `height × width` to `dstHeight × dstWidth`
 * takes: `copy` (same size), `fast` (both sides shrink by integer factors), `general` (both
 * shrink or stay, otherwise), `enlarge` (a side grows: bilinear with area coefficients).
 */
export function areaPath(height: number, width: number, dstHeight: number, dstWidth: number): 'copy' | 'fast' | 'general' | 'enlarge' {
  if (dstHeight === height && dstWidth === width) return 'copy';
  const scaleX = 1 / (dstWidth / width);
  const scaleY = 1 / (dstHeight / height);
  if (!(scaleX >= 1 && scaleY >= 1)) return 'enlarge';
  return areaFastFactors(height, width, dstHeight, dstWidth) ? 'fast' : 'general';
}

/** Whether the resize takes OpenCV's general area-averaging path (see {@link areaPath}). */
export function isGeneralArea(height: number, width: number, dstHeight: number, dstWidth: number): boolean {
  return areaPath(height, width, dstHeight, dstWidth) === 'general';
}

/**
 * A zero-padded window of an image, as the reference builds its crops: a `height × width`
 * patch whose pixel `(r, c)` is `image[r + rowOffset][c + colOffset]` for `r` in
 * `[rowStart, rowEnd)` and `c` in `[colStart, colEnd)`, and 0 elsewhere.
 */
export interface PaddedWindow {
  height: number;
  width: number;
  rowOffset: number;
  colOffset: number;
  rowStart: number;
  rowEnd: number;
  colStart: number;
  colEnd: number;
}

/**
 * The part of a window that shows the image (the rest is padding), in window coordinates:
 * rows `[rowLo, rowHi)`, columns `[colLo, colHi)` (empty when `lo >= hi`).
 */
export function windowInside(win: PaddedWindow, imageHeight: number, imageWidth: number): { rowLo: number; rowHi: number; colLo: number; colHi: number } {
  return {
    rowLo: Math.max(win.rowStart, -win.rowOffset, 0),
    rowHi: Math.min(win.rowEnd, imageHeight - win.rowOffset, win.height),
    colLo: Math.max(win.colStart, -win.colOffset, 0),
    colHi: Math.min(win.colEnd, imageWidth - win.colOffset, win.width),
  };
}

/**
 * `resizeArea` of the float64 (CV_64F) patch described by `win`, without building the patch:
 * the same result as materializing it and calling {@link resizeArea}, bit for bit (the
 * skipped terms are exact zeros). `image` must have 3 channels.
 */
export function resizeAreaPadded(image: PixelBuffer, win: PaddedWindow, dstHeight: number, dstWidth: number): Float64Array {
  const { height: th, width: tw } = win;
  checkSize(th, tw, 'resizeAreaPadded window');
  checkSize(dstHeight, dstWidth, 'resizeAreaPadded output size');
  const { rowLo: rowStart, rowHi: rowEnd, colLo: colStart, colHi: colEnd } = windowInside(win, image.height, image.width);
  const scaleX = 1 / (dstWidth / tw);
  const scaleY = 1 / (dstHeight / th);
  if (!isGeneralArea(th, tw, dstHeight, dstWidth)) {
    // Rare shapes (enlarging, integer factors, same size): build the patch.
    const tmp = new Float64Array(th * tw * 3);
    const S = image.data;
    for (let r = rowStart; r < rowEnd; r++) {
      for (let c = colStart; c < colEnd; c++) {
        const s = ((r + win.rowOffset) * image.width + c + win.colOffset) * 3;
        const d = (r * tw + c) * 3;
        tmp[d] = S[s];
        tmp[d + 1] = S[s + 1];
        tmp[d + 2] = S[s + 2];
      }
    }
    return resizeArea({ data: tmp, height: th, width: tw, channels: 3 }, dstHeight, dstWidth).data;
  }
  const xtab = areaTab(tw, dstWidth, scaleX);
  const ytab = areaTab(th, dstHeight, scaleY);
  // Keep only the horizontal terms that read inside the window (the others multiply zeros).
  let n = 0;
  const xd = new Int32Array(xtab.length);
  const xs = new Int32Array(xtab.length);
  const xa = new Float64Array(xtab.length);
  for (let k = 0; k < xtab.length; k++) {
    const si = xtab.si[k];
    if (si >= colStart && si < colEnd) {
      xd[n] = xtab.di[k] * 3;
      xs[n] = (si + win.colOffset) * 3;
      xa[n] = xtab.alpha[k];
      n++;
    }
  }
  const S = image.data;
  const imgRow = image.width * 3;
  const rowLen = dstWidth * 3;
  const out = new Float64Array(dstHeight * rowLen);
  const buf = new Float64Array(rowLen);
  const sum = new Float64Array(rowLen);
  let bufRow = -1;
  let prevDy = ytab.di[0];
  for (let j = 0; j < ytab.length; j++) {
    const beta = ytab.alpha[j];
    const dy = ytab.di[j];
    const sy = ytab.si[j];
    if (bufRow !== sy) {
      buf.fill(0);
      if (sy >= rowStart && sy < rowEnd) {
        const base = (sy + win.rowOffset) * imgRow;
        // Terms of one output pixel are consecutive: sum them in locals, in the same order.
        let k = 0;
        while (k < n) {
          const d = xd[k];
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          for (; k < n && xd[k] === d; k++) {
            const s = base + xs[k];
            const a = xa[k];
            a0 += S[s] * a;
            a1 += S[s + 1] * a;
            a2 += S[s + 2] * a;
          }
          buf[d] = a0;
          buf[d + 1] = a1;
          buf[d + 2] = a2;
        }
      }
      bufRow = sy;
    }
    if (dy !== prevDy) {
      const o = prevDy * rowLen;
      for (let x = 0; x < rowLen; x++) {
        out[o + x] = sum[x];
        sum[x] = beta * buf[x];
      }
      prevDy = dy;
    } else {
      for (let x = 0; x < rowLen; x++) sum[x] += beta * buf[x];
    }
  }
  out.set(sum, prevDy * rowLen);
  return out;
}
