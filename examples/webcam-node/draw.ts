/** Drawing the recognition results onto a raw RGB24 frame (sharp composites an SVG overlay). */
import sharp from 'sharp';
import { annotationSvg, type IdentifiedFace } from 'tfjs-facenet/node';
import { faceColor, faceLabel } from '../common/labels.js';

/** The frame with a box, name and distance per face and the frame rate in the top-left corner, RGB24. */
export async function drawFrame(
  frame: Uint8Array,
  width: number,
  height: number,
  faces: readonly IdentifiedFace[],
  fps: number,
): Promise<Uint8Array> {
  const boxes = annotationSvg(
    width,
    height,
    faces.map((f) => ({ box: f.box, label: faceLabel(f.name, f.distance), color: faceColor(f.name) })),
    { showScore: false, landmarks: false },
  );
  const status =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect x="0" y="0" width="120" height="26" fill="#000000" fill-opacity="0.6"/>` +
    `<text x="6" y="19" font-family="DejaVu Sans, Arial, sans-serif" font-size="16" fill="#ffffff">fps ${fps.toFixed(1)}</text></svg>`;
  const out = await sharp(frame, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(boxes) }, { input: Buffer.from(status) }])
    .removeAlpha()
    .raw()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
