/**
 * OpenCV's `INTER_AREA` path for integer reduction factors (`resizeAreaFast_`): plain block
 * averages, with OpenCV's own rounding.
 */
import { allocLike, saturateU8, type PixelBuffer } from './pixels.js';

/** `saturate_cast<int>(double)` = cvRound. */
function cvRoundInt(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/**
 * The integer factors `[fy, fx]` when OpenCV takes its fast area path (both scale factors
 * integers to within `DBL_EPSILON`), else `null`.
 */
export function areaFastFactors(
  srcHeight: number,
  srcWidth: number,
  dstHeight: number,
  dstWidth: number,
): [number, number] | null {
  // OpenCV's own arithmetic: inv = dsize/ssize, scale = 1/inv.
  const scaleX = 1 / (dstWidth / srcWidth);
  const scaleY = 1 / (dstHeight / srcHeight);
  const ix = cvRoundInt(scaleX);
  const iy = cvRoundInt(scaleY);
  if (Math.abs(scaleX - ix) < Number.EPSILON && Math.abs(scaleY - iy) < Number.EPSILON) return [iy, ix];
  return null;
}

/**
 * Block average over `fy × fx` source pixels. uint8: the 2×2 case rounds half up
 * (`(a+b+c+d+2)>>2`), other factors multiply the integer sum by `float(1/area)` and round
 * half to even; float64: `sum * float(1/area)` in double.
 */
export function resizeAreaFast<T extends Uint8Array | Float64Array>(
  src: PixelBuffer<T>,
  dstHeight: number,
  dstWidth: number,
  fy: number,
  fx: number,
): PixelBuffer<T> {
  const { width: sw, channels: cn, data: S } = src;
  const out = allocLike(S, dstHeight * dstWidth * cn);
  const area = fx * fy;
  const scale = Math.fround(1 / area);
  const u8 = S instanceof Uint8Array;
  const rowStride = sw * cn;
  for (let dy = 0; dy < dstHeight; dy++) {
    const sy0 = dy * fy;
    for (let dx = 0; dx < dstWidth; dx++) {
      const sx0 = dx * fx;
      for (let c = 0; c < cn; c++) {
        let sum = 0;
        for (let ky = 0; ky < fy; ky++) {
          const rowBase = (sy0 + ky) * rowStride + c;
          for (let kx = 0; kx < fx; kx++) sum += S[rowBase + (sx0 + kx) * cn];
        }
        const o = (dy * dstWidth + dx) * cn + c;
        if (!u8) out[o] = sum * scale;
        else if (area === 4 && fx === 2) out[o] = (sum + 2) >> 2;
        else out[o] = saturateU8(Math.fround(sum * scale));
      }
    }
  }
  return { data: out, height: dstHeight, width: dstWidth, channels: cn };
}
