/**
 * One function that turns any {@link ImageInput} into an RGB tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DisposedError, ImageDecodeError, ShapeError } from '../errors.js';
import type { ImageInput, RawImage } from './types.js';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

export function isRawImage(x: unknown): x is RawImage {
  return (
    typeof x === 'object' && x !== null && 'data' in x && 'width' in x && 'height' in x &&
    (ArrayBuffer.isView((x as RawImage).data))
  );
}

/** Checks a raw frame's size, channels and byte count. @throws {ShapeError} naming `label`. */
function checkRawImage(img: RawImage, label: string): 3 | 4 {
  const channels = img.channels ?? 3;
  const { width, height, data } = img;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new ShapeError(label, 'positive integer width and height', `${width}×${height}`);
  }
  if (channels !== 3 && channels !== 4) throw new ShapeError(label, '3 or 4 channels', String(channels));
  if (data.length !== width * height * channels) {
    throw new ShapeError(label, `${width * height * channels} bytes (${width}×${height}×${channels})`, `${data.length}`);
  }
  return channels;
}

/** The RGB values of an 8-bit RGB or RGBA frame (alpha dropped), into a new array of `out`'s kind. */
function rgbOf<T extends Uint8Array | Float32Array>(img: RawImage, channels: 3 | 4, out: T): T {
  const { data } = img;
  if (channels === 3) {
    out.set(data);
    return out;
  }
  for (let i = 0, j = 0; i < data.length; i += 4, j += 3) {
    out[j] = data[i]!;
    out[j + 1] = data[i + 1]!;
    out[j + 2] = data[i + 2]!;
  }
  return out;
}

/** Build a `[h, w, 3]` float32 tensor from an 8-bit RGB or RGBA frame. */
export function rawToTensor(img: RawImage, label = 'raw image'): tf.Tensor3D {
  const channels = checkRawImage(img, label);
  const rgb = rgbOf(img, channels, new Float32Array(img.width * img.height * 3));
  return tf.tensor3d(rgb, [img.height, img.width, 3], 'float32');
}

/** The 8-bit RGB bytes of an RGB or RGBA frame (a new array; alpha dropped), checked as {@link rawToTensor} checks. */
export function rawToRgbBytes(img: RawImage, label = 'raw image'): Uint8Array {
  const channels = checkRawImage(img, label);
  return rgbOf(img, channels, new Uint8Array(img.width * img.height * 3));
}

/**
 * Read an image as a `[height, width, 3]` float32 tensor of RGB values in 0…255.
 * The caller owns (and must dispose) the result; a tensor passed in is returned as a new
 * tensor (cast to float32), never the same object. A file larger than the decoder's pixel
 * cap comes downscaled ({@link loadImageScaled} says by how much).
 *
 * @throws {ImageDecodeError} for a corrupt, empty, truncated or non-image file, naming it.
 * @throws {FileNotFoundError} for a path that does not exist.
 */
export async function loadImage(input: ImageInput): Promise<tf.Tensor3D> {
  return (await loadImageScaled(input)).tensor;
}

/** An image as a tensor, and how its pixels relate to the input's own. */
export interface ScaledImage {
  /** `[height, width, 3]` float32 RGB 0…255; the caller disposes it. */
  tensor: tf.Tensor3D;
  /**
   * Tensor size ÷ the input's own size: 1, except for a file or encoded bytes larger than
   * the decoder's pixel cap (`MAX_DECODE_PIXELS`), which are decoded downscaled.
   */
  scale: number;
  /** Width of the input in its own pixels. */
  sourceWidth: number;
  /** Height of the input in its own pixels. */
  sourceHeight: number;
}

/**
 * {@link loadImage}, also saying how the tensor's pixels relate to the input's, so that
 * coordinates found on the tensor can be given in the input's own pixels.
 */
export async function loadImageScaled(input: ImageInput): Promise<ScaledImage> {
  if (isNode && (typeof input === 'string' || input instanceof Uint8Array)) {
    const { decodeImageFile, decodeImageBytes } = await import('./decode-node.js');
    const raw =
      typeof input === 'string' ? await decodeImageFile(input) : await decodeImageBytes(input, 'image buffer');
    return { tensor: rawToTensor(raw), scale: raw.scale, sourceWidth: raw.sourceWidth, sourceHeight: raw.sourceHeight };
  }
  const tensor = await loadUnscaled(input);
  return { tensor, scale: 1, sourceWidth: tensor.shape[1], sourceHeight: tensor.shape[0] };
}

/** Every input but Node files and bytes: used as it is, never resized. */
async function loadUnscaled(input: ImageInput): Promise<tf.Tensor3D> {
  if (input instanceof tf.Tensor) {
    if (input.isDisposed) throw new DisposedError('image tensor');
    if (input.rank !== 3 || input.shape[2] !== 3) {
      throw new ShapeError('image tensor', '[height, width, 3]', JSON.stringify(input.shape));
    }
    return tf.cast(input, 'float32') as tf.Tensor3D;
  }
  if (typeof input === 'string' || input instanceof Uint8Array) {
    // Node files and bytes were decoded by loadImageScaled.
    if (typeof input === 'string') {
      throw new ImageDecodeError(input, 'file paths are only supported in Node; pass an <img>, canvas or ImageBitmap');
    }
    throw new ImageDecodeError('image bytes', 'byte buffers are only supported in Node');
  }
  if (isRawImage(input)) return rawToTensor(input);
  try {
    return tf.tidy(
      () => tf.cast(tf.browser.fromPixels(input as Parameters<typeof tf.browser.fromPixels>[0], 3), 'float32') as tf.Tensor3D,
    );
  } catch (e) {
    throw new ImageDecodeError('browser image', (e as Error).message, { cause: e });
  }
}
