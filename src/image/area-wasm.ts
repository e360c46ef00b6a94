/**
 * `INTER_AREA` resizing of an 8-bit RGB image straight into normalized float32 network input,
 * in WebAssembly SIMD (kernels/area.wat): the same arithmetic as {@link resizeArea} followed by
 * the normalization, operation for operation in float32, so the output is bit for bit the
 * same (the tests compare the two) at a fraction of the JavaScript's cost — one pixel's three
 * channels per SIMD operation. Where WebAssembly SIMD is missing, or the case is not the
 * general area path, callers fall back to the JavaScript.
 */
import type { PixelBuffer } from './pixels.js';
import { areaPath, areaTab, isGeneralArea, windowInside, type PaddedWindow } from './resize-area.js';
import { clipRow, linearTab } from './resize-linear.js';
import { WASM_BASE64 } from './kernels/area-wasm.js';

/** How pixels become network input. */
export interface InputLayout {
  /**
   * Write `[x][y][c]` instead of `[y][x][c]`: the Caffe MTCNN weights were trained on
   * column-major (MATLAB) images, so the reference feeds every image transposed.
   */
  transpose: boolean;
  /** Reverse the channel order (the seed's nets take OpenCV's BGR). */
  bgr: boolean;
  /** `(v - mean) * scale`. */
  mean: number;
  scale: number;
}

interface AreaKernel {
  memory: WebAssembly.Memory;
  areaToInput: (...args: number[]) => void;
  cropToInput: (...args: number[]) => void;
  cropEnlargeToInput: (...args: number[]) => void;
}

let kernel: AreaKernel | null | undefined;

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The compiled kernel, or null where WebAssembly SIMD is not available. */
function areaKernel(): AreaKernel | null {
  if (kernel === undefined) {
    try {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(WASM_BASE64)), {});
      const { memory, areaToInput, cropToInput, cropEnlargeToInput } = instance.exports as unknown as AreaKernel;
      kernel = { memory, areaToInput, cropToInput, cropEnlargeToInput };
    } catch {
      kernel = null;
    }
  }
  return kernel;
}

/** Whether the kernel can run here (WebAssembly with SIMD). */
export function areaKernelAvailable(): boolean {
  return areaKernel() !== null;
}

/** `(v - mean) * scale` is exact in float32 for every 8-bit `v`: what lets the kernel skip double precision. */
function exactInFloat32(n: InputLayout): boolean {
  return Number.isInteger(n.mean * 2) && Math.abs(n.mean) < 2 ** 20 && Number.isInteger(Math.log2(n.scale));
}

const align16 = (n: number): number => (n + 15) & ~15;

/** Grow the kernel's memory to at least `bytes`; returns its (possibly new) buffer. */
function reserve(k: AreaKernel, bytes: number): ArrayBuffer {
  const have = k.memory.buffer.byteLength;
  if (bytes > have) k.memory.grow(Math.ceil((bytes - have) / 65536));
  return k.memory.buffer;
}

/**
 * Resize `img` to `dstHeight × dstWidth` with `INTER_AREA` and write it normalized into `out`
 * at `offset` (`dstHeight × dstWidth × 3`, or `dstWidth × dstHeight × 3` when transposed).
 *
 * @returns false, having written nothing, when the kernel does not apply: no WebAssembly
 *   SIMD, an image that is not 8-bit RGB, a size change outside OpenCV's general area path
 *   (enlarging, integer factors, same size), or a normalization not exact in float32.
 */
export function writeAreaInput(
  img: PixelBuffer,
  dstHeight: number,
  dstWidth: number,
  norm: InputLayout,
  out: Float32Array,
  offset: number,
): boolean {
  const { data, height: sh, width: sw, channels } = img;
  if (!(data instanceof Uint8Array) || channels !== 3) return false;
  if (!isGeneralArea(sh, sw, dstHeight, dstWidth) || !exactInFloat32(norm)) return false;
  const k = areaKernel();
  if (!k) return false;

  const xtab = areaTab(sw, dstWidth, 1 / (dstWidth / sw));
  const ytab = areaTab(sh, dstHeight, 1 / (dstHeight / sh));
  const outLength = dstHeight * dstWidth * 3;
  // Layout: source (+4 bytes: a pixel is read as 4), x counts, x terms, y terms, buf, sum, out.
  const src = 0;
  const counts = align16(src + data.length + 4);
  const xterms = align16(counts + dstWidth * 4);
  const yterms = align16(xterms + xtab.length * 8);
  const buf = align16(yterms + ytab.length * 12);
  const sum = buf + dstWidth * 16;
  const dst = sum + dstWidth * 16;
  const mem = reserve(k, dst + outLength * 4);
  new Uint8Array(mem, src, data.length).set(data);
  const cnt = new Int32Array(mem, counts, dstWidth).fill(0);
  const xi = new Int32Array(mem, xterms, xtab.length * 2);
  const xf = new Float32Array(mem, xterms, xtab.length * 2);
  for (let t = 0; t < xtab.length; t++) {
    cnt[xtab.di[t]]++;
    xi[2 * t] = xtab.si[t] * 3;
    xf[2 * t + 1] = xtab.alpha[t];
  }
  const yi = new Int32Array(mem, yterms, ytab.length * 3);
  const yf = new Float32Array(mem, yterms, ytab.length * 3);
  for (let t = 0; t < ytab.length; t++) {
    yi[3 * t] = ytab.si[t];
    yi[3 * t + 1] = ytab.di[t];
    yf[3 * t + 2] = ytab.alpha[t];
  }
  k.areaToInput(
    src, sw * 3,
    counts, xterms, dstWidth,
    yterms, ytab.length, dstHeight,
    buf, sum,
    dst, norm.transpose ? 1 : 0, norm.bgr ? 1 : 0, norm.mean, norm.scale,
  );
  out.set(new Float32Array(mem, dst, outLength), offset);
  return true;
}

/**
 * `resizeAreaPadded(img, win, size, size)` of every window — the float64 arithmetic of the
 * reference's zero-padded CV_64F crops — normalized into `out`, crop `i` at
 * `offsets[i]` (`size × size × 3` floats each, transposed or not), with the image copied into
 * the kernel once for all of them.
 *
 * @param windows each must take OpenCV's general area path or its enlarging path for
 *   `size × size` (see `areaPath`); the caller resizes the others (same size, integer
 *   factors) itself.
 * @returns false, having written nothing, when the kernel does not apply (no WebAssembly
 *   SIMD, not an 8-bit RGB image).
 */
export function writeAreaCrops(
  img: PixelBuffer,
  windows: readonly PaddedWindow[],
  size: number,
  norm: InputLayout,
  out: Float32Array,
  offsets: readonly number[],
): boolean {
  const { data, height: ih, width: iw, channels } = img;
  if (!(data instanceof Uint8Array) || channels !== 3) return false;
  const k = areaKernel();
  if (!k) return false;
  const paths = windows.map((w) => areaPath(w.height, w.width, size, size));
  paths.forEach((p, i) => {
    if (p !== 'general' && p !== 'enlarge') {
      throw new RangeError(`writeAreaCrops: a ${windows[i].width}×${windows[i].height} window takes OpenCV's '${p}' path to ${size}×${size}, which the kernel does not do`);
    }
  });
  // Layout: image (+4 bytes), then per crop: x counts, x terms, y terms, buf, sum, out.
  const plane = size * size * 3;
  const counts = align16(data.length + 4);
  let mem = reserve(k, counts + size * 4);
  new Uint8Array(mem, 0, data.length).set(data);
  for (let c = 0; c < windows.length; c++) {
    const w = windows[c];
    const { rowLo, rowHi, colLo, colHi } = windowInside(w, ih, iw);
    if (paths[c] === 'enlarge') {
      // Bilinear with area coefficients: two source columns and rows per output pixel.
      const xt = linearTab(w.width, size, true, true);
      const yt = linearTab(w.height, size, true, false);
      const xtab = align16(counts);
      const ytab = xtab + size * 16;
      const sum = ytab + size * 16;
      const zero = sum + size * 32; // 4 zero bytes: where padding pixels are read
      const dst = zero + 16;
      mem = reserve(k, dst + plane * 4);
      const xi = new Int32Array(mem, xtab, size * 4);
      const xf = new Float32Array(mem, xtab, size * 4);
      const col = (cc: number) => (cc >= colLo && cc < colHi ? (cc + w.colOffset) * 3 : -1);
      for (let d = 0; d < size; d++) {
        const s0 = xt.ofs[d];
        const two = d < xt.xmax;
        xi[4 * d] = col(s0);
        xi[4 * d + 1] = two ? col(s0 + 1) : -1;
        xf[4 * d + 2] = two ? xt.w0[d] : 1;
        xf[4 * d + 3] = two ? xt.w1[d] : 0;
      }
      const yi = new Int32Array(mem, ytab, size * 4);
      const yf = new Float32Array(mem, ytab, size * 4);
      const row = (r: number) => (r >= rowLo && r < rowHi ? (r + w.rowOffset) * iw * 3 : -1);
      for (let d = 0; d < size; d++) {
        yi[4 * d] = row(clipRow(yt.ofs[d], w.height));
        yi[4 * d + 1] = row(clipRow(yt.ofs[d] + 1, w.height));
        yf[4 * d + 2] = yt.w0[d];
        yf[4 * d + 3] = yt.w1[d];
      }
      new Int32Array(mem, zero, 1)[0] = 0;
      k.cropEnlargeToInput(xtab, size, ytab, size, sum, zero, dst, norm.transpose ? 1 : 0, norm.bgr ? 1 : 0, norm.mean, norm.scale);
      out.set(new Float32Array(mem, dst, plane), offsets[c]);
      continue;
    }
    const xtab = areaTab(w.width, size, 1 / (size / w.width));
    // Candidate boxes are squares: one table serves both axes.
    const ytab = w.height === w.width ? xtab : areaTab(w.height, size, 1 / (size / w.height));
    const xterms = align16(counts + size * 4);
    const yterms = align16(xterms + xtab.length * 8);
    const buf = align16(yterms + ytab.length * 16);
    const sum = buf + size * 32;
    const dst = sum + size * 32;
    mem = reserve(k, dst + plane * 4);
    const cnt = new Int32Array(mem, counts, size).fill(0);
    const xi = new Int32Array(mem, xterms, xtab.length * 2);
    const xf = new Float32Array(mem, xterms, xtab.length * 2);
    let n = 0;
    for (let t = 0; t < xtab.length; t++) {
      const si = xtab.si[t];
      if (si < colLo || si >= colHi) continue; // multiplies a padding zero
      cnt[xtab.di[t]]++;
      xi[2 * n] = (si + w.colOffset) * 3;
      xf[2 * n + 1] = xtab.alpha[t];
      n++;
    }
    const yi = new Int32Array(mem, yterms, ytab.length * 4);
    const yf = new Float32Array(mem, yterms, ytab.length * 4);
    for (let t = 0; t < ytab.length; t++) {
      const sy = ytab.si[t];
      yi[4 * t] = sy >= rowLo && sy < rowHi ? (sy + w.rowOffset) * iw * 3 : -1;
      yi[4 * t + 1] = ytab.di[t];
      yf[4 * t + 2] = ytab.alpha[t];
      yi[4 * t + 3] = t === 0 || ytab.si[t - 1] !== sy ? 1 : 0;
    }
    k.cropToInput(
      counts, xterms, size,
      yterms, ytab.length, size,
      buf, sum,
      dst, norm.transpose ? 1 : 0, norm.bgr ? 1 : 0, norm.mean, norm.scale,
    );
    out.set(new Float32Array(mem, dst, plane), offsets[c]);
  }
  return true;
}
