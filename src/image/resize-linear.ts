/**
 * `cv2.resize(..., interpolation=cv2.INTER_LINEAR)` reproduced value for value (OpenCV 4.x,
 * x86 build), and the bilinear variant OpenCV falls back to for `INTER_AREA` when a side is
 * enlarged.
 *
 * OpenCV resizes separably: each needed source row is first resampled horizontally, then
 * two such rows are blended vertically. The coefficients are `float`s; for 8-bit images
 * they are turned into 11-bit fixed point and the vertical blend uses OpenCV's exact
 * integer formula, so the uint8 results match bit for bit. For float64 images everything
 * is done in double precision, as OpenCV does.
 */
import { allocLike, checkPixels, checkSize, type PixelBuffer } from './pixels.js';
import { areaFastFactors, resizeAreaFast } from './resize-area-fast.js';

const f32 = Math.fround;
/** `INTER_RESIZE_COEF_SCALE`: 8-bit coefficients are scaled by 2^11. */
const COEF_SCALE = 2048;

/** Horizontal or vertical sampling table: source index and the two blend weights. */
export interface LinearTab {
  /** First of the two source indices (already clamped for x; raw for y). */
  ofs: Int32Array;
  /** Weight of `ofs` and of `ofs + 1`, as `float` values. */
  w0: Float64Array;
  w1: Float64Array;
  /** Output columns from here on copy the last source column (x only). */
  xmax: number;
}

/**
 * The coefficient computation of `cv::hal::resize` for a linear kernel.
 * `areaMode` selects the `INTER_AREA` fallback formula; `isX` applies the clamping that
 * OpenCV does on the x axis only (on y the row indices are clipped later, weights kept).
 */
export function linearTab(ssize: number, dsize: number, areaMode: boolean, isX: boolean): LinearTab {
  const inv = dsize / ssize;
  const scale = 1 / inv;
  const ofs = new Int32Array(dsize);
  const w0 = new Float64Array(dsize);
  const w1 = new Float64Array(dsize);
  let xmax = dsize;
  for (let d = 0; d < dsize; d++) {
    let s: number;
    let f: number;
    if (!areaMode) {
      f = f32((d + 0.5) * scale - 0.5);
      s = Math.floor(f);
      f = f32(f - s);
    } else {
      s = Math.floor(d * scale);
      f = f32(d + 1 - (s + 1) * inv);
      f = f <= 0 ? 0 : f32(f - Math.floor(f));
    }
    if (isX) {
      if (s < 0) {
        f = 0;
        s = 0;
      }
      if (s + 1 >= ssize) {
        xmax = Math.min(xmax, d);
        if (s >= ssize - 1) {
          f = 0;
          s = ssize - 1;
        }
      }
    }
    ofs[d] = s;
    w0[d] = f32(1 - f);
    w1[d] = f;
  }
  return { ofs, w0, w1, xmax };
}

/** OpenCV's `clip(x, 0, n)`: clamp a row index into `0 … n-1`. */
export function clipRow(y: number, n: number): number {
  return y >= 0 ? (y < n ? y : n - 1) : 0;
}

/**
 * The generic separable bilinear resampler (`resizeGeneric_` with `HResizeLinear` /
 * `VResizeLinear`). Exported for {@link resizeArea}'s upscaling fallback.
 */
export function resizeBilinear<T extends Uint8Array | Float64Array>(
  src: PixelBuffer<T>,
  dstHeight: number,
  dstWidth: number,
  areaMode: boolean,
): PixelBuffer<T> {
  const { height: sh, width: sw, channels: cn, data: S } = src;
  const xt = linearTab(sw, dstWidth, areaMode, true);
  const yt = linearTab(sh, dstHeight, areaMode, false);
  const rowLen = dstWidth * cn;
  const out = allocLike(S, dstHeight * rowLen);
  const fixed = S instanceof Uint8Array;
  // Horizontal coefficients: fixed point for 8-bit images (saturate_cast<short>(c * 2048)).
  const ax0 = new Float64Array(dstWidth);
  const ax1 = new Float64Array(dstWidth);
  for (let d = 0; d < dstWidth; d++) {
    ax0[d] = fixed ? roundCoef(xt.w0[d]) : xt.w0[d];
    ax1[d] = fixed ? roundCoef(xt.w1[d]) : xt.w1[d];
  }
  const one = fixed ? COEF_SCALE : 1;
  // Two horizontally resampled rows, reused while consecutive output rows need them.
  const rows = [new Float64Array(rowLen), new Float64Array(rowLen)];
  const rowSrc = [-1, -1];
  const hresize = (sy: number, dst: Float64Array): void => {
    const base = sy * sw * cn;
    for (let d = 0; d < dstWidth; d++) {
      const sx = base + xt.ofs[d] * cn;
      const o = d * cn;
      if (d < xt.xmax) {
        const a0 = ax0[d];
        const a1 = ax1[d];
        for (let c = 0; c < cn; c++) dst[o + c] = S[sx + c] * a0 + S[sx + cn + c] * a1;
      } else {
        for (let c = 0; c < cn; c++) dst[o + c] = S[sx + c] * one;
      }
    }
  };
  const getRow = (sy: number, slot: number): Float64Array => {
    if (rowSrc[slot] === sy) return rows[slot];
    const other = 1 - slot;
    if (rowSrc[other] === sy) {
      // Move the already computed row into this slot (swap buffers).
      const tmp = rows[slot];
      rows[slot] = rows[other];
      rows[other] = tmp;
      rowSrc[other] = rowSrc[slot];
      rowSrc[slot] = sy;
      return rows[slot];
    }
    hresize(sy, rows[slot]);
    rowSrc[slot] = sy;
    return rows[slot];
  };
  for (let dy = 0; dy < dstHeight; dy++) {
    const sy0 = yt.ofs[dy];
    const r0 = getRow(clipRow(sy0, sh), 0);
    const r1 = getRow(clipRow(sy0 + 1, sh), 1);
    const o = dy * rowLen;
    if (fixed) {
      const b0 = roundCoef(yt.w0[dy]);
      const b1 = roundCoef(yt.w1[dy]);
      for (let x = 0; x < rowLen; x++) {
        // VResizeLinear<uchar, int, short, ...>: ((b0*(S0>>4))>>16) + ((b1*(S1>>4))>>16) + 2 >> 2
        out[x + o] = (((b0 * (r0[x] >> 4)) >> 16) + ((b1 * (r1[x] >> 4)) >> 16) + 2) >> 2;
      }
    } else {
      const b0 = yt.w0[dy];
      const b1 = yt.w1[dy];
      for (let x = 0; x < rowLen; x++) out[x + o] = r0[x] * b0 + r1[x] * b1;
    }
  }
  return { data: out, height: dstHeight, width: dstWidth, channels: cn };
}

/** `saturate_cast<short>(c * INTER_RESIZE_COEF_SCALE)` (c*2048 is exact in float). */
function roundCoef(c: number): number {
  const v = c * COEF_SCALE;
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/**
 * `cv2.resize(src, (dstWidth, dstHeight), interpolation=cv2.INTER_LINEAR)`.
 *
 * Same size is a copy; an exact 2× reduction on both axes is done by OpenCV's 2×2
 * box average (which it substitutes there), everything else by the bilinear resampler.
 */
export function resizeLinear<T extends Uint8Array | Float64Array>(
  src: PixelBuffer<T>,
  dstHeight: number,
  dstWidth: number,
): PixelBuffer<T> {
  checkPixels(src, 'resizeLinear source');
  checkSize(dstHeight, dstWidth, 'resizeLinear output size');
  if (dstHeight === src.height && dstWidth === src.width) {
    return { ...src, data: src.data.slice() as T };
  }
  const fast = areaFastFactors(src.height, src.width, dstHeight, dstWidth);
  if (fast && fast[0] === 2 && fast[1] === 2) return resizeAreaFast(src, dstHeight, dstWidth, 2, 2);
  return resizeBilinear(src, dstHeight, dstWidth, false);
}
