/**
 * davidsandberg/facenet's `detect_face` (src/align/detect_face.py), step for step, for a batch
 * of images: P-Net per image and pyramid level, R-Net and O-Net once each on all crops of
 * the batch.
 */
import {
  bbreg,
  bbregPnet,
  fixBox,
  generateBoundingBox,
  nms,
  pad,
  rerec,
  type Candidate,
  type PadResult,
  type ScoredBox,
} from './box.js';
import { FACENET_LAYOUT, writeFacenetCrops } from './patches.js';
import type { PixelBuffer } from '../image/pixels.js';
import { pyramidLevels } from './pyramid.js';
import { pnetMaps, runRefine } from './stages.js';
import { FloatScratch } from '../util/scratch.js';
import type { Box, FaceDetection, Point } from '../face/types.js';
import type { MtcnnParams } from './weights.js';
import { toDetection, type ResolvedOptions, type StageTimer } from './pipeline-types.js';

/** R-Net's and O-Net's input batches: filled by `cropBatch`, consumed by `runRefine` before it awaits. */
const cropInput = new FloatScratch();

/**
 * Crop every box of every image into one `size × size` batch. Empty boxes (which the
 * reference cannot crop either) are left out; `kept` lists the boxes in batch order.
 */
function cropBatch(
  images: readonly PixelBuffer[],
  boxes: readonly ScoredBox[][],
  size: number,
): { input: Float32Array; count: number; kept: ScoredBox[][] } {
  const plane = size * size * 3;
  let total = 0;
  for (const list of boxes) total += list.length;
  const input = cropInput.take(total * plane);
  let k = 0;
  const kept: ScoredBox[][] = [];
  for (let i = 0; i < boxes.length; i++) {
    const { width: w, height: h } = images[i];
    const pads: PadResult[] = [];
    for (const b of boxes[i]) pads.push(pad(b, w, h));
    const written = writeFacenetCrops(images[i], pads, size, FACENET_LAYOUT, input, k * plane);
    const ok: ScoredBox[] = [];
    for (let j = 0; j < written.length; j++) if (written[j]) ok.push(boxes[i][j]);
    k += ok.length;
    kept.push(ok);
  }
  return { input: input.subarray(0, k * plane), count: k, kept };
}

/** The reference's detection for each image of a batch. */
export async function detectFacenet(
  params: MtcnnParams,
  images: readonly PixelBuffer[],
  o: ResolvedOptions,
  timer: StageTimer,
): Promise<FaceDetection[][]> {
  const nmsT = o.nmsThresholds;
  const t1 = o.thresholds[0];

  // Stage 1: P-Net over each pyramid level.
  timer.start('pnet');
  const levels = images.map((image) => pyramidLevels(image.height, image.width, o.minFaceSize, o.scaleFactor));
  const maps = await pnetMaps(params, images, levels, 'area', FACENET_LAYOUT);
  const stage: ScoredBox[][] = [];
  for (let i = 0; i < images.length; i++) {
    // Each level's candidates after their own NMS, then NMS over all levels.
    const all: Candidate[] = [];
    for (const m of maps[i]) {
      // The map is the network output for the transposed image: rows run along x.
      const boxes = generateBoundingBox(m.heat, m.reg, m.scale, t1);
      for (const p of nms(boxes, nmsT.pnetScale, 'Union')) all.push(boxes[p]);
    }
    const picked: ScoredBox[] = [];
    for (const p of nms(all, nmsT.pnetAll, 'Union')) {
      const c = all[p];
      picked.push(fixBox(rerec(bbregPnet({ x1: c.x1, y1: c.y1, x2: c.x2, y2: c.y2, score: c.score }, c.reg))));
    }
    stage.push(picked);
  }
  timer.stop('pnet');
  return refineAndOutput(params, images, stage, o, timer);
}

/**
 * Follow faces found in an earlier frame without P-Net: each earlier box, squared as P-Net's
 * candidates are, and a copy enlarged by `1 / 0.8` (room for motion) go straight to R-Net, then
 * O-Net, exactly as P-Net's candidates would. A face that moved too far, or left, is not
 * found; the caller then runs a full detection.
 *
 * @param previous per image, the boxes `[x1, y1, x2, y2]` to look around.
 */
export async function trackFacenet(
  params: MtcnnParams,
  images: readonly PixelBuffer[],
  previous: readonly (readonly Readonly<Box>[])[],
  o: ResolvedOptions,
  timer: StageTimer,
): Promise<FaceDetection[][]> {
  const stage = previous.map((boxes) =>
    boxes.flatMap(([x1, y1, x2, y2]) => {
      const square = rerec({ x1, y1, x2, y2, score: 1 });
      const grow = ((square.x2 - square.x1) * (1 / TRACK_SHRINK - 1)) / 2;
      const wide = { x1: square.x1 - grow, y1: square.y1 - grow, x2: square.x2 + grow, y2: square.y2 + grow, score: 1 };
      return [fixBox(square), fixBox(wide)];
    }),
  );
  return refineAndOutput(params, images, stage, o, timer);
}

/** The face's share of the width of the wider box {@link trackFacenet} also tries. */
const TRACK_SHRINK = 0.8;

/** Stages 2 and 3 on square integer candidate boxes (per image). */
async function refineAndOutput(
  params: MtcnnParams,
  images: readonly PixelBuffer[],
  candidates: ScoredBox[][],
  o: ResolvedOptions,
  timer: StageTimer,
): Promise<FaceDetection[][]> {
  const [, t2, t3] = o.thresholds;
  const nmsT = o.nmsThresholds;
  // Stage 2: R-Net on all candidates of all images at once.
  timer.start('rnet');
  const r = cropBatch(images, candidates, 24);
  const rOut = r.count > 0 ? await runRefine(params, 'rnet', r.input, r.count, o.maxBatch) : new Float32Array(0);
  let row = 0;
  const stage: ScoredBox[][] = [];
  for (const list of r.kept) {
    const passed: ScoredBox[] = [];
    const regs: [number, number, number, number][] = [];
    for (const b of list) {
      const s = row * 5;
      row++;
      const score = rOut[s];
      if (score > t2) {
        passed.push({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, score });
        regs.push([rOut[s + 1], rOut[s + 2], rOut[s + 3], rOut[s + 4]]);
      }
    }
    const next: ScoredBox[] = [];
    for (const p of nms(passed, nmsT.rnet, 'Union')) next.push(fixBox(rerec(bbreg(passed[p], regs[p]))));
    stage.push(next);
  }
  timer.stop('rnet');

  // Stage 3: O-Net, landmarks, final regression and NMS ('Min').
  timer.start('onet');
  const q = cropBatch(images, stage, 48);
  const qOut = q.count > 0 ? await runRefine(params, 'onet', q.input, q.count, Math.max(1, o.maxBatch >> 2)) : new Float32Array(0);
  row = 0;
  const result: FaceDetection[][] = [];
  for (const list of q.kept) {
    const moved: ScoredBox[] = [];
    const points: Point[][] = [];
    for (const b of list) {
      const s = row * 15;
      row++;
      const score = qOut[s];
      if (!(score > t3)) continue;
      const box = { x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, score };
      // Landmarks are placed in the box as it was cropped, before its last regression.
      const w = box.x2 - box.x1 + 1;
      const h = box.y2 - box.y1 + 1;
      const pts: Point[] = [];
      for (let k = 0; k < 5; k++) pts.push([w * qOut[s + 5 + k] + box.x1 - 1, h * qOut[s + 10 + k] + box.y1 - 1]);
      moved.push(bbreg(box, [qOut[s + 1], qOut[s + 2], qOut[s + 3], qOut[s + 4]]));
      points.push(pts);
    }
    const faces: FaceDetection[] = [];
    for (const p of nms(moved, nmsT.onet, 'Min')) faces.push(toDetection(moved[p], points[p]));
    result.push(faces);
  }
  timer.stop('onet');
  return result;
}
