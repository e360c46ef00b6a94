/**
 * Node-only image decoding with sharp (prebuilt libvips). sharp and the file system come
 * from the Node platform (runtime/node-platform.ts), so this module has no Node import.
 */
import { ImageDecodeError, FileNotFoundError } from '../errors.js';
import type { RawImage } from './types.js';
import { nodeBuiltins } from '../runtime/node-platform.js';
import { decodeNetpbm, isNetpbm } from './netpbm.js';
import { readJpegHeader } from './jpeg-header.js';
import { decodeJpegInWasm, wasmDecodesJpeg } from './decode-jpeg-wasm.js';

type Sharp = typeof import('sharp').default;

/** The sharp module, imported once. */
export function loadSharp(): Promise<Sharp> {
  return nodeBuiltins('decoding images with sharp').loadSharp();
}

/**
 * The most pixels an image is decoded to: 2^23 (8.4 MP, e.g. 2896 × 2896; a 3840 × 2160 4K
 * frame fits). Larger images are downscaled while they are decoded (JPEG shrinks on load, SVG
 * renders at a lower density, other formats are streamed through the resize), so that no
 * input file can take more than a bounded amount of memory; the detector reports its boxes
 * in the original image's pixels (see {@link DecodedImage.scale}). RELIABILITY.md gives the
 * whole memory model and its measurements.
 */
export const MAX_DECODE_PIXELS = 2 ** 23;

/** A decoded image, and how it relates to the file's own size. */
export interface DecodedImage extends Required<RawImage> {
  /** Decoded size ÷ original size (1 unless the image was larger than the pixel cap). */
  scale: number;
  /** Width of the image as stored (after EXIF orientation), before any downscaling. */
  sourceWidth: number;
  /** Height of the image as stored (after EXIF orientation), before any downscaling. */
  sourceHeight: number;
}

/**
 * The decoded size of a `width × height` image under a cap of `maxPixels`: the same size when
 * it fits, else the largest size of the same aspect ratio (each side at least 1) that fits.
 */
export function cappedSize(width: number, height: number, maxPixels: number): { width: number; height: number } {
  if (width * height <= maxPixels) return { width, height };
  const s = Math.sqrt(maxPixels / (width * height));
  let w = Math.max(1, Math.floor(width * s));
  let h = Math.max(1, Math.floor(height * s));
  // A side clamped to 1 pixel leaves the other one too long: give it what is left.
  if (w * h > maxPixels) {
    if (h === 1) w = Math.floor(maxPixels);
    else h = Math.floor(maxPixels / w);
  }
  return { width: w, height: h };
}

/** sharp's own guard against decompression bombs: images above this are refused outright. */
const SHARP_PIXEL_LIMIT = 268_402_689;

/**
 * Decode image bytes into 8-bit RGB: every format sharp reads, and PGM/PPM (`netpbm.ts`).
 * EXIF orientation is applied; grayscale, CMYK, palette
 * and 16-bit images are converted to 8-bit sRGB; alpha is composited onto black; images of
 * more than `maxPixels` are downscaled while decoding (see {@link MAX_DECODE_PIXELS}).
 * Small plain JPEG files (face crops, LFW's 250 × 250) are decoded in WebAssembly instead,
 * to the same bytes in a fifth to a half of sharp's CPU time (`decode-jpeg-wasm.ts`).
 * @param label names the input in errors (usually the file path).
 */
export async function decodeImageBytes(
  bytes: Uint8Array,
  label: string,
  opts: { maxPixels?: number } = {},
): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageDecodeError(label, 'the file is empty');
  const maxPixels = opts.maxPixels ?? MAX_DECODE_PIXELS;
  const jpeg = readJpegHeader(bytes);
  if (jpeg && wasmDecodesJpeg(jpeg, maxPixels)) {
    const decoded = await decodeJpegInWasm(bytes);
    if (decoded) return { ...decoded, channels: 3, scale: 1, sourceWidth: decoded.width, sourceHeight: decoded.height };
  }
  return decodeWithSharp(bytes, label, maxPixels);
}

/** {@link decodeImageBytes} by sharp alone (every file that is not a small, plain JPEG). */
export async function decodeWithSharp(bytes: Uint8Array, label: string, maxPixels: number): Promise<DecodedImage> {
  const sharp = await loadSharp();
  try {
    // sharp has no PGM/PPM reader: those are parsed here and handed over as raw pixels (their
    // 8-bit samples take no more memory than the file; larger images are refused as sharp refuses).
    const netpbm = isNetpbm(bytes) ? decodeNetpbm(bytes, label, { maxPixels: SHARP_PIXEL_LIMIT }) : null;
    const input = netpbm
      ? ({ raw: { width: netpbm.width, height: netpbm.height, channels: netpbm.channels }, limitInputPixels: SHARP_PIXEL_LIMIT } as const)
      : ({ failOn: 'truncated', limitInputPixels: SHARP_PIXEL_LIMIT } as const);
    const source = netpbm ? netpbm.data : bytes;
    const meta = await sharp(source, input).metadata();
    if (!meta.width || !meta.height) throw new ImageDecodeError(label, 'the file does not say the size of its image');
    // EXIF orientations 5–8 swap width and height.
    const turned = (meta.orientation ?? 1) >= 5;
    const sourceWidth = turned ? meta.height : meta.width;
    const sourceHeight = turned ? meta.width : meta.height;
    const target = cappedSize(sourceWidth, sourceHeight, maxPixels);
    const shrink = target.width !== sourceWidth || target.height !== sourceHeight;
    // An SVG is rendered straight at the smaller size rather than rendered big and shrunk.
    const density = shrink && meta.format === 'svg' ? Math.max(1, (meta.density ?? 72) * (target.width / sourceWidth)) : undefined;
    let pipeline = sharp(source, density ? { ...input, density } : input).rotate(); // applies EXIF orientation
    if (shrink) pipeline = pipeline.resize({ width: target.width, height: target.height, fit: 'fill' });
    const { data, info } = await pipeline
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new ImageDecodeError(label, `decoded to ${info.channels} channels, expected 3`);
    }
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      channels: 3,
      scale: info.width / sourceWidth,
      sourceWidth,
      sourceHeight,
    };
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new ImageDecodeError(label, reason, { cause: e });
  }
}

/** Read and decode an image file into 8-bit RGB. */
export async function decodeImageFile(path: string, opts: { maxPixels?: number } = {}): Promise<DecodedImage> {
  const { readFile } = nodeBuiltins('reading image files').fsp;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FileNotFoundError(path, 'image');
    if (code === 'EISDIR') throw new ImageDecodeError(path, 'is a directory');
    if (code === 'ELOOP') throw new ImageDecodeError(path, 'symbolic link loop');
    if (code === 'ENOTDIR') throw new FileNotFoundError(path, 'image (a parent of the path is not a directory)');
    throw new ImageDecodeError(path, (e as Error).message, { cause: e });
  }
  return decodeImageBytes(bytes, path, opts);
}

/** Encode 8-bit RGB as JPEG or PNG (chosen by the extension of `path`) — bytes only. */
export async function encodeImage(img: RawImage, format: 'jpeg' | 'png' | 'webp' = 'png'): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const channels = img.channels ?? 3;
  const s = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels },
  });
  if (format === 'jpeg') return s.jpeg({ quality: 95 }).toBuffer();
  if (format === 'webp') return s.webp({ quality: 95 }).toBuffer();
  return s.png().toBuffer();
}
