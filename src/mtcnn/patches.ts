/**
 * Network inputs cut from the image: pyramid levels for P-Net and square crops for R-Net /
 * O-Net, resampled as the reference does and written straight into a batch buffer in the
 * layout and normalization the weights expect.
 */
import type { PadResult } from './box.js';
import type { PixelBuffer } from '../image/pixels.js';
import { areaPath, resizeArea, resizeAreaPadded, type PaddedWindow } from '../image/resize-area.js';
import { writeAreaCrops, writeAreaInput, type InputLayout } from '../image/area-wasm.js';
import { resizeLinear } from '../image/resize-linear.js';

export type { InputLayout };

/** davidsandberg/facenet: `(v - 127.5) * 0.0078125`, transposed, RGB. */
export const FACENET_LAYOUT: InputLayout = { transpose: true, bgr: false, mean: 127.5, scale: 0.0078125 };
/** The seed: `(v - 127.5) / 128`, as is, BGR. */
export const SEED_LAYOUT: InputLayout = { transpose: false, bgr: true, mean: 127.5, scale: 1 / 128 };

/**
 * Write a 3-channel image into `out` at `offset` in the given layout
 * (`height × width × 3`, or `width × height × 3` when transposed).
 */
export function writeNetInput(img: PixelBuffer, layout: InputLayout, out: Float32Array, offset: number): void {
  const { data, height, width } = img;
  const { mean, scale, transpose, bgr } = layout;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      const d = offset + (transpose ? x * height + y : y * width + x) * 3;
      const r = (data[s] - mean) * scale;
      const g = (data[s + 1] - mean) * scale;
      const b = (data[s + 2] - mean) * scale;
      out[d] = bgr ? b : r;
      out[d + 1] = g;
      out[d + 2] = bgr ? r : b;
    }
  }
}

/**
 * Copy `rows × cols` pixels from `img` (top-left `sy, sx`) into `dst` (top-left `dy, dx`),
 * skipping whatever falls outside either.
 */
function copyBlock(
  img: PixelBuffer,
  dst: Uint8Array | Float64Array,
  dstW: number,
  dstH: number,
  dy: number,
  dx: number,
  sy: number,
  sx: number,
  rows: number,
  cols: number,
): void {
  const { data, width, height } = img;
  for (let r = 0; r < rows; r++) {
    const ty = dy + r;
    const iy = sy + r;
    if (ty < 0 || ty >= dstH || iy < 0 || iy >= height) continue;
    for (let c = 0; c < cols; c++) {
      const tx = dx + c;
      const ix = sx + c;
      if (tx < 0 || tx >= dstW || ix < 0 || ix >= width) continue;
      const s = (iy * width + ix) * 3;
      const d = (ty * dstW + tx) * 3;
      dst[d] = data[s];
      dst[d + 1] = data[s + 1];
      dst[d + 2] = data[s + 2];
    }
  }
}

/** The window of the image a padded box covers (see `pad`), in {@link resizeAreaPadded}'s terms. */
function cropWindow(p: PadResult): PaddedWindow {
  return {
    height: p.tmph,
    width: p.tmpw,
    rowOffset: p.y - p.dy,
    colOffset: p.x - p.dx,
    rowStart: p.dy - 1,
    rowEnd: p.dy - 1 + (p.ey - p.y + 1),
    colStart: p.dx - 1,
    colEnd: p.dx - 1 + (p.ex - p.x + 1),
  };
}

/**
 * The reference's crops for R-Net / O-Net: for each box a zero-filled float64 `tmph × tmpw`
 * patch receiving `img[y-1:ey, x-1:ex]` at `[dy-1:edy, dx-1:edx]` (see `pad`), resized to
 * `size × size` with `INTER_AREA`, normalized into `out` one after another from `offset`.
 * Boxes the reference cannot crop either (`tmpw` or `tmph` ≤ 0) are skipped and take no slot.
 * The WebAssembly kernel does them when it can (same values, see `writeAreaCrops`).
 *
 * @returns per box, whether it was written.
 */
export function writeFacenetCrops(
  img: PixelBuffer,
  pads: readonly PadResult[],
  size: number,
  layout: InputLayout,
  out: Float32Array,
  offset: number,
): boolean[] {
  const plane = size * size * 3;
  const written: boolean[] = [];
  const fast: PaddedWindow[] = [];
  const fastOffsets: number[] = [];
  const slow: [PaddedWindow, number][] = [];
  let slot = 0;
  for (const p of pads) {
    const ok = p.tmpw > 0 && p.tmph > 0;
    written.push(ok);
    if (!ok) continue;
    const win = cropWindow(p);
    const at = offset + slot++ * plane;
    const path = areaPath(win.height, win.width, size, size);
    if (path === 'general' || path === 'enlarge') {
      fast.push(win);
      fastOffsets.push(at);
    } else slow.push([win, at]);
  }
  if (!writeAreaCrops(img, fast, size, layout, out, fastOffsets)) for (let i = 0; i < fast.length; i++) slow.push([fast[i], fastOffsets[i]]);
  for (const [win, at] of slow) {
    writeNetInput({ data: resizeAreaPadded(img, win, size, size), height: size, width: size, channels: 3 }, layout, out, at);
  }
  return written;
}

/**
 * The seed's `pad` result: the fields of the reference's {@link PadResult}, but 0-based,
 * with inclusive end indices.
 */
export type SeedPad = PadResult;

/**
 * The seed's crop: a zero-filled uint8 `tmph × tmpw` patch receiving `im[y:ey+1, x:ex+1]` at
 * `[dy:edy+1, dx:edx+1]`, resized to `size × size` with `INTER_LINEAR`, normalized into `out`.
 *
 * @returns false when the box is empty; nothing is written then.
 */
export function writeSeedCrop(
  img: PixelBuffer<Uint8Array>,
  p: SeedPad,
  size: number,
  layout: InputLayout,
  out: Float32Array,
  offset: number,
): boolean {
  if (p.tmpw <= 0 || p.tmph <= 0) return false;
  const tmp = new Uint8Array(p.tmph * p.tmpw * 3);
  copyBlock(img, tmp, p.tmpw, p.tmph, p.dy, p.dx, p.y, p.x, p.ey - p.y + 1, p.ex - p.x + 1);
  const resized = resizeLinear({ data: tmp, height: p.tmph, width: p.tmpw, channels: 3 }, size, size);
  writeNetInput(resized, layout, out, offset);
  return true;
}

/** Resize a whole image for one pyramid level and write it as network input. */
export function writePyramidLevel(
  img: PixelBuffer,
  height: number,
  width: number,
  resample: 'area' | 'linear',
  layout: InputLayout,
  out: Float32Array,
  offset: number,
): void {
  // The WebAssembly kernel gives the same values when it applies (8-bit images, OpenCV's general area path).
  if (resample === 'area' && writeAreaInput(img, height, width, layout, out, offset)) return;
  const resized = resample === 'area' ? resizeArea(img, height, width) : resizeLinear(img, height, width);
  writeNetInput(resized, layout, out, offset);
}
