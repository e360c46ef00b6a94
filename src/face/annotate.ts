/**
 * Draw face boxes, landmarks and labels over an image. {@link annotationSvg} builds the
 * overlay as SVG text (pure, usable anywhere, e.g. layered over an `<img>` in a page);
 * {@link annotateImage} (Node) composites it onto the image with sharp and returns the
 * encoded bytes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import type { Box, Point } from './types.js';
import type { RawImage } from '../image/types.js';

/** One thing to draw: a face box, optionally its landmarks, score and a label. */
export interface Annotation {
  box: Box;
  landmarks?: readonly Point[];
  score?: number;
  /** Text drawn above the box (e.g. a name). */
  label?: string;
  /** CSS colour of this box and its label. Default {@link AnnotateOptions.color}. */
  color?: string;
}

/** Options of {@link annotationSvg} and {@link annotateImage}. */
export interface AnnotateOptions {
  /** Box colour (any SVG colour). Default `'#00e000'`. */
  color?: string;
  /** Box line width in pixels. Default: 0.3 % of the shorter image side, at least 2. */
  lineWidth?: number;
  /** Label font size in pixels. Default: 2.5 % of the shorter image side, at least 11. */
  fontSize?: number;
  /** Draw the landmarks (one colour per point: eyes, nose, mouth corners). Default true. */
  landmarks?: boolean;
  /** Append the detection score to the label (or show it alone). Default true. */
  showScore?: boolean;
  /** Output encoding of {@link annotateImage}. Default `'png'`. */
  format?: 'png' | 'jpeg' | 'webp';
}

const LANDMARK_COLORS = ['#ff3030', '#ff30ff', '#30a0ff', '#ffd000', '#ff8000'];

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

const fmt = (v: number) => (Math.round(v * 100) / 100).toString();

/**
 * The SVG overlay (same size as the image) that draws `faces`: a rectangle per box, a dot
 * per landmark and a label on a dark band above the box (inside it when the box touches
 * the top edge).
 */
export function annotationSvg(
  width: number,
  height: number,
  faces: readonly Annotation[],
  opts: AnnotateOptions = {},
): string {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new ShapeError('image size', 'positive integers', `${width}×${height}`);
  }
  const short = Math.min(width, height);
  const lineWidth = opts.lineWidth ?? Math.max(2, Math.round(short * 0.003));
  const fontSize = opts.fontSize ?? Math.max(11, Math.round(short * 0.025));
  if (!(lineWidth > 0)) throw new ConfigError('lineWidth', `must be > 0, got ${lineWidth}`);
  if (!(fontSize > 0)) throw new ConfigError('fontSize', `must be > 0, got ${fontSize}`);
  const color = opts.color ?? '#00e000';
  const radius = Math.max(1.5, lineWidth * 1.2);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
  );
  for (const face of faces) {
    const [x1, y1, x2, y2] = face.box;
    if (![x1, y1, x2, y2].every(Number.isFinite)) throw new ShapeError('box', 'finite numbers', JSON.stringify(face.box));
    const c = escapeXml(face.color ?? color);
    parts.push(
      `<rect x="${fmt(x1)}" y="${fmt(y1)}" width="${fmt(x2 - x1)}" height="${fmt(y2 - y1)}" fill="none" stroke="${c}" stroke-width="${lineWidth}"/>`,
    );
    if (opts.landmarks !== false && face.landmarks) {
      face.landmarks.forEach(([x, y], i) => {
        parts.push(`<circle cx="${fmt(x)}" cy="${fmt(y)}" r="${fmt(radius)}" fill="${LANDMARK_COLORS[i % 5]}"/>`);
      });
    }
    const texts: string[] = [];
    if (face.label) texts.push(face.label);
    if (opts.showScore !== false && face.score !== undefined) texts.push(face.score.toFixed(3));
    if (texts.length > 0) {
      const text = texts.join(' ');
      const bandH = Math.round(fontSize * 1.3);
      // Glyph widths vary; 0.6 em per character is a safe average for sans-serif.
      const bandW = Math.round(text.length * fontSize * 0.6 + fontSize * 0.6);
      const top = y1 - bandH >= 0 ? y1 - bandH : Math.max(0, y1);
      const left = Math.min(Math.max(0, x1), Math.max(0, width - bandW));
      parts.push(
        `<rect x="${fmt(left)}" y="${fmt(top)}" width="${bandW}" height="${bandH}" fill="#000000" fill-opacity="0.6"/>`,
        `<text x="${fmt(left + fontSize * 0.3)}" y="${fmt(top + fontSize * 1.0)}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="${fontSize}" fill="${c}">${escapeXml(text)}</text>`,
      );
    }
  }
  parts.push('</svg>');
  return parts.join('\n');
}

async function toRaw(input: string | Uint8Array | RawImage | tf.Tensor3D): Promise<Required<RawImage>> {
  if (input instanceof tf.Tensor) {
    if (input.rank !== 3 || input.shape[2] !== 3) {
      throw new ShapeError('image tensor', '[height, width, 3]', JSON.stringify(input.shape));
    }
    const bytes = tf.tidy(() => tf.cast(tf.clipByValue(tf.round(input), 0, 255), 'int32'));
    const data = Uint8Array.from(await bytes.data());
    bytes.dispose();
    return { data, width: input.shape[1], height: input.shape[0], channels: 3 };
  }
  const { decodeImageFile, decodeImageBytes } = await import('../image/decode-node.js');
  if (typeof input === 'string') return decodeImageFile(input);
  if (input instanceof Uint8Array) return decodeImageBytes(input, 'image buffer');
  const channels = input.channels ?? 3;
  return { data: Uint8Array.from(input.data), width: input.width, height: input.height, channels };
}

/**
 * Draw `faces` onto an image and encode the result (Node only; uses sharp). The image is
 * decoded the same way the detector reads it (EXIF orientation applied), so detector
 * coordinates line up.
 *
 * @param input a file path, encoded image bytes, a {@link RawImage} or an RGB tensor `[h, w, 3]` (0…255).
 * @returns the encoded PNG (default), JPEG or WebP bytes.
 * @throws {ImageDecodeError} / {@link FileNotFoundError} for an unreadable input.
 */
export async function annotateImage(
  input: string | Uint8Array | RawImage | tf.Tensor3D,
  faces: readonly Annotation[],
  opts: AnnotateOptions = {},
): Promise<Uint8Array> {
  const raw = await toRaw(input);
  const svg = annotationSvg(raw.width, raw.height, faces, opts);
  const { loadSharp } = await import('../image/decode-node.js');
  const sharp = await loadSharp();
  const s = sharp(Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength), {
    raw: { width: raw.width, height: raw.height, channels: raw.channels },
  }).composite([{ input: Buffer.from(svg), top: 0, left: 0 }]);
  const format = opts.format ?? 'png';
  if (format === 'jpeg') return s.jpeg({ quality: 92 }).toBuffer();
  if (format === 'webp') return s.webp({ quality: 92 }).toBuffer();
  if (format !== 'png') throw new ConfigError('format', `must be 'png', 'jpeg' or 'webp', got '${String(format)}'`);
  return s.png().toBuffer();
}
