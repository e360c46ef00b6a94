/**
 * Node-only image decoding with sharp (prebuilt libvips). sharp and the file system come
 * from the Node platform (runtime/node-platform.ts), so this module has no Node import.
 */
import { ImageDecodeError, FileNotFoundError } from '../errors.js';
import type { RawImage } from './types.js';
import { nodeBuiltins } from '../runtime/node-platform.js';

type Sharp = typeof import('sharp').default;

/** The sharp module, imported once. */
export function loadSharp(): Promise<Sharp> {
  return nodeBuiltins('decoding images with sharp').loadSharp();
}

/**
 * Decode image bytes into 8-bit RGB. EXIF orientation is applied; grayscale, CMYK, palette
 * and 16-bit images are converted to 8-bit sRGB; alpha is composited onto black.
 * @param label names the input in errors (usually the file path).
 */
export async function decodeImageBytes(bytes: Uint8Array, label: string): Promise<Required<RawImage>> {
  if (bytes.length === 0) throw new ImageDecodeError(label, 'the file is empty');
  const sharp = await loadSharp();
  try {
    const { data, info } = await sharp(bytes, { failOn: 'truncated', limitInputPixels: 268_402_689 })
      .rotate() // applies EXIF orientation
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
    };
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new ImageDecodeError(label, reason, { cause: e });
  }
}

/** Read and decode an image file into 8-bit RGB. */
export async function decodeImageFile(path: string): Promise<Required<RawImage>> {
  const { readFile } = nodeBuiltins('reading image files').fsp;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FileNotFoundError(path, 'image');
    if (code === 'EISDIR') throw new ImageDecodeError(path, 'is a directory');
    throw new ImageDecodeError(path, (e as Error).message, { cause: e });
  }
  return decodeImageBytes(bytes, path);
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
