import type * as tf from '@tensorflow/tfjs-core';

/** A decoded 8-bit image in memory, row-major, interleaved channels. */
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA; alpha is dropped). Default 3. */
  channels?: 3 | 4;
}

/** Browser image sources accepted by `tf.browser.fromPixels`. */
export type BrowserImage =
  | ImageData
  | HTMLImageElement
  | HTMLCanvasElement
  | HTMLVideoElement
  | ImageBitmap
  | OffscreenCanvas;

/**
 * Anything tfjs-facenet can read an image from:
 * - Node: a file path, or the bytes of a JPEG / PNG / WebP / GIF / TIFF file;
 * - a `tf.Tensor3D` `[height, width, 3]` of RGB values in 0…255;
 * - a {@link RawImage} frame;
 * - browser: image, canvas, video, ImageData, ImageBitmap.
 */
export type ImageInput = string | Uint8Array | tf.Tensor3D | RawImage | BrowserImage;
