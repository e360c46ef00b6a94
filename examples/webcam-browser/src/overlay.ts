/** Drawing boxes, names and distances over the video. */
import type { IdentifiedFace } from 'tfjs-facenet';
import { faceColor, faceLabel } from '../../common/labels.js';

export function drawFaces(canvas: HTMLCanvasElement, faces: readonly IdentifiedFace[]): void {
  const ctx = canvas.getContext('2d')!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.lineWidth = 2;
  ctx.font = '15px system-ui, sans-serif';
  ctx.textBaseline = 'bottom';
  for (const f of faces) {
    const [x1, y1, x2, y2] = f.box;
    const color = faceColor(f.name);
    const text = faceLabel(f.name, f.distance);
    ctx.strokeStyle = color;
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    const top = Math.max(20, y1);
    ctx.fillStyle = 'rgba(0, 0, 0, 0.6)';
    ctx.fillRect(x1, top - 20, ctx.measureText(text).width + 8, 20);
    ctx.fillStyle = color;
    ctx.fillText(text, x1 + 4, top - 3);
  }
}
