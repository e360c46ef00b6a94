/**
 * Interleaved pixel buffers as OpenCV sees them, for the resampling code that reproduces
 * `cv2.resize` exactly. The element type decides the arithmetic, as it does in OpenCV:
 * a `Uint8Array` is a `CV_8U` image (results rounded to 0…255), a `Float64Array` a
 * `CV_64F` image (no rounding).
 */
import { ShapeError } from '../errors.js';

/** An `height × width × channels` image, row-major, channels interleaved. */
export interface PixelBuffer<T extends Uint8Array | Float64Array = Uint8Array | Float64Array> {
  data: T;
  height: number;
  width: number;
  channels: number;
}

/**
 * `cvRound` of the x86 build: round half to even (`_mm_cvtsd_si32` under the default
 * rounding mode).
 */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/** `saturate_cast<uchar>(float)`: round half to even, then clamp to 0…255. */
export function saturateU8(v: number): number {
  const r = roundHalfEven(v);
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

/** A new zero-filled buffer of the same element type as `like`. */
export function allocLike<T extends Uint8Array | Float64Array>(like: T, length: number): T {
  return (like instanceof Uint8Array ? new Uint8Array(length) : new Float64Array(length)) as T;
}

/**
 * `p` with a border of `border` pixels on every side, each border pixel a copy of the nearest
 * edge pixel (OpenCV's `BORDER_REPLICATE`). Pure: `p` is not changed.
 */
export function padEdge<T extends Uint8Array | Float64Array>(p: PixelBuffer<T>, border: number): PixelBuffer<T> {
  const { width, height, channels, data } = p;
  const w = width + 2 * border;
  const h = height + 2 * border;
  const out = allocLike(data, w * h * channels);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(height - 1, Math.max(0, y - border));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(width - 1, Math.max(0, x - border));
      const from = (sy * width + sx) * channels;
      const to = (y * w + x) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = data[from + c]!;
    }
  }
  return { data: out, width: w, height: h, channels };
}

/** Throws a {@link ShapeError} unless `p` is a consistent, non-empty pixel buffer. */
export function checkPixels(p: PixelBuffer, what: string): void {
  const { height, width, channels, data } = p;
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) {
    throw new ShapeError(what, 'a positive integer width and height', `${width}×${height}`);
  }
  if (!(Number.isInteger(channels) && channels >= 1 && channels <= 4)) {
    throw new ShapeError(what, '1 to 4 channels', String(channels));
  }
  if (data.length !== height * width * channels) {
    throw new ShapeError(what, `${height * width * channels} values`, String(data.length));
  }
}

/** Throws a {@link ShapeError} unless `height × width` is a valid output size. */
export function checkSize(height: number, width: number, what: string): void {
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) {
    throw new ShapeError(what, 'a positive integer width and height', `${width}×${height}`);
  }
}
