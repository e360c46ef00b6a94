/**
 * The seed project's detector (LeslieZhoa/tensorflow-facenet `align/MtcnnDetector.py`, from
 * LeslieZhoa/tensorflow-MTCNN), step for step, for its own re-trained weights: BGR input in
 * the normal orientation, `(v - 127.5) / 128`, `INTER_LINEAR` resampling, pyramid
 * `int(h * scale)` while the smaller side is `> 12`, rounded boxes, 0-based padding, NMS
 * with `+1e-10` in the union, and these quirks of the original kept as they are:
 * - `pad` clips the squared boxes to the image in place, so R-Net/O-Net boxes, landmarks and
 *   regressions start from the clipped box;
 * - before R-Net only the first `k` boxes are used, `k` = the number of boxes at least
 *   20 pixels wide and high, and boxes among them smaller than that get an all-zero input.
 */
import { argsortNumpy } from './argsort.js';
import { greedySuppress, type Candidate, type HeatMap, type Regression, type ScoredBox } from './box.js';
import { SEED_LAYOUT, writeSeedCrop, type SeedPad } from './patches.js';
import { roundHalfEven, type PixelBuffer } from '../image/pixels.js';
import { seedPyramidLevels } from './pyramid.js';
import { pnetMaps, runRefine } from './stages.js';
import type { FaceDetection, Point } from '../face/types.js';
import type { MtcnnParams } from './weights.js';
import { toDetection, type ResolvedOptions, type StageTimer } from './pipeline-types.js';

/**
 * The seed's `py_nms`: highest score first (reversed NumPy argsort), drop boxes whose
 * IoU (`inter / (area_i + area_j - inter + 1e-10)`, `+1` pixel areas) exceeds `thresh`.
 * @returns kept indices in pick order.
 */
export function seedNms(boxes: readonly ScoredBox[], thresh: number): number[] {
  const n = boxes.length;
  if (n === 0) return [];
  const areas = new Float64Array(n);
  const scores = new Float64Array(n);
  boxes.forEach((b, i) => {
    areas[i] = (b.x2 - b.x1 + 1) * (b.y2 - b.y1 + 1);
    scores[i] = b.score;
  });
  const order = argsortNumpy(scores).reverse();
  return greedySuppress(boxes, order, thresh, { method: 'Union', areas, epsilon: 1e-10 });
}

/**
 * The seed's `generate_bbox`: cells of `clsMap` (rows along y) with probability `> threshold`
 * become `[round(2c/scale), round(2r/scale), round((2c+12)/scale), round((2r+12)/scale)]`
 * (NumPy rounding: half to even), in row-major order.
 */
export function seedGenerateBbox(clsMap: HeatMap, reg: ArrayLike<number>, scale: number, threshold: number): Candidate[] {
  const { data, rows, cols } = clsMap;
  const out: Candidate[] = [];
  for (let i = 0; i < rows * cols; i++) {
    if (!(data[i] > threshold)) continue;
    const r = Math.floor(i / cols);
    const c = i - r * cols;
    out.push({
      x1: roundHalfEven((2 * c) / scale),
      y1: roundHalfEven((2 * r) / scale),
      x2: roundHalfEven((2 * c + 12) / scale),
      y2: roundHalfEven((2 * r + 12) / scale),
      score: data[i],
      reg: [reg[i * 4], reg[i * 4 + 1], reg[i * 4 + 2], reg[i * 4 + 3]],
    });
  }
  return out;
}

/** The seed's `calibrate_box`: edges moved by `reg × (x2 - x1 + 1, y2 - y1 + 1)`. */
export function seedCalibrate<T extends ScoredBox>(b: T, reg: Regression): T {
  const w = b.x2 - b.x1 + 1;
  const h = b.y2 - b.y1 + 1;
  return { ...b, x1: b.x1 + w * reg[0], y1: b.y1 + h * reg[1], x2: b.x2 + w * reg[2], y2: b.y2 + h * reg[3] };
}

/** The seed's `convert_to_square` followed by its `np.round` of the coordinates. */
export function seedSquare<T extends ScoredBox>(b: T): T {
  const h = b.y2 - b.y1 + 1;
  const w = b.x2 - b.x1 + 1;
  const side = Math.max(w, h);
  const x1 = b.x1 + w * 0.5 - side * 0.5;
  const y1 = b.y1 + h * 0.5 - side * 0.5;
  return {
    ...b,
    x1: roundHalfEven(x1),
    y1: roundHalfEven(y1),
    x2: roundHalfEven(x1 + side - 1),
    y2: roundHalfEven(y1 + side - 1),
  };
}

/**
 * The seed's `pad` for one box in a `w × h` image: the 0-based copy window, and the box as
 * `pad` leaves it — clipped to the image, because the original modifies its input in place.
 */
export function seedPad<T extends ScoredBox>(b: T, w: number, h: number): { pad: SeedPad; clipped: T } {
  const tmpw = b.x2 - b.x1 + 1;
  const tmph = b.y2 - b.y1 + 1;
  let dx = 0;
  let dy = 0;
  let edx = tmpw - 1;
  let edy = tmph - 1;
  let x = b.x1;
  let y = b.y1;
  let ex = b.x2;
  let ey = b.y2;
  if (ex > w - 1) {
    edx = tmpw + w - 2 - ex;
    ex = w - 1;
  }
  if (ey > h - 1) {
    edy = tmph + h - 2 - ey;
    ey = h - 1;
  }
  if (x < 0) {
    dx = 0 - x;
    x = 0;
  }
  if (y < 0) {
    dy = 0 - y;
    y = 0;
  }
  const t = Math.trunc;
  return {
    pad: { dy: t(dy), edy: t(edy), dx: t(dx), edx: t(edx), y: t(y), ey: t(ey), x: t(x), ex: t(ex), tmpw: t(tmpw), tmph: t(tmph) },
    clipped: { ...b, x1: x, y1: y, x2: ex, y2: ey },
  };
}

/** `uint8` copy of an image, truncating as NumPy's float→uint8 assignment does. */
function toU8(img: PixelBuffer): PixelBuffer<Uint8Array> {
  if (img.data instanceof Uint8Array) return img as PixelBuffer<Uint8Array>;
  return { ...img, data: Uint8Array.from(img.data, (v) => Math.max(0, Math.min(255, Math.trunc(v)))) };
}

/** The seed's detection for each image of a batch. */
export async function detectSeed(
  params: MtcnnParams,
  images: readonly PixelBuffer[],
  o: ResolvedOptions,
  timer: StageTimer,
): Promise<FaceDetection[][]> {
  const [t1, t2, t3] = o.thresholds;
  const nmsT = o.nmsThresholds;
  const u8 = images.map(toU8);

  timer.start('pnet');
  const levels = images.map((image) => seedPyramidLevels(image.height, image.width, o.minFaceSize, o.scaleFactor));
  const perImage = (await pnetMaps(params, images, levels, 'linear', SEED_LAYOUT)).map((maps) =>
    maps.flatMap(({ heat, reg, scale }) => {
      const boxes = seedGenerateBbox(heat, reg, scale, t1);
      return seedNms(boxes, nmsT.pnetScale).map((k) => boxes[k]);
    }),
  );
  let stage: ScoredBox[][] = perImage.map((all) =>
    seedNms(all, nmsT.pnetAll).map((k) => {
      const c = all[k];
      return seedCalibrate({ x1: c.x1, y1: c.y1, x2: c.x2, y2: c.y2, score: c.score }, c.reg);
    }),
  );
  timer.stop('pnet');

  // R-Net.
  timer.start('rnet');
  const rPads = stage.map((list, i) => list.map((b) => seedPad(seedSquare(b), images[i].width, images[i].height)));
  const rCounts = rPads.map((list) => list.filter(({ pad: p }) => Math.min(p.tmpw, p.tmph) >= 20).length);
  const rTotal = rCounts.reduce((a, b) => a + b, 0);
  const rPlane = 24 * 24 * 3;
  const rInput = new Float32Array(rTotal * rPlane);
  let k = 0;
  rPads.forEach((list, i) => {
    for (let j = 0; j < rCounts[i]; j++, k++) {
      const p = list[j].pad;
      if (p.tmph < 20 || p.tmpw < 20) continue; // left all zero, as in the seed
      writeSeedCrop(u8[i], p, 24, SEED_LAYOUT, rInput, k * rPlane);
    }
  });
  const rOut = rTotal > 0 ? await runRefine(params, 'rnet', rInput, rTotal, o.maxBatch) : new Float32Array(0);
  let row = 0;
  stage = rPads.map((list, i) => {
    const boxes: ScoredBox[] = [];
    const regs: Regression[] = [];
    for (let j = 0; j < rCounts[i]; j++, row++) {
      const s = row * 5;
      if (rOut[s] > t2) {
        boxes.push({ ...list[j].clipped, score: rOut[s] });
        regs.push([rOut[s + 1], rOut[s + 2], rOut[s + 3], rOut[s + 4]]);
      }
    }
    return seedNms(boxes, nmsT.rnet).map((q) => seedCalibrate(boxes[q], regs[q]));
  });
  timer.stop('rnet');

  // O-Net.
  timer.start('onet');
  const oPads = stage.map((list, i) => list.map((b) => seedPad(seedSquare(b), images[i].width, images[i].height)));
  const oTotal = oPads.reduce((a, l) => a + l.length, 0);
  const oPlane = 48 * 48 * 3;
  const oInput = new Float32Array(oTotal * oPlane);
  k = 0;
  oPads.forEach((list, i) => {
    for (const { pad: p } of list) writeSeedCrop(u8[i], p, 48, SEED_LAYOUT, oInput, k++ * oPlane);
  });
  const oOut = oTotal > 0 ? await runRefine(params, 'onet', oInput, oTotal, Math.max(1, o.maxBatch >> 2)) : new Float32Array(0);
  row = 0;
  const result = oPads.map((list) => {
    const boxes: ScoredBox[] = [];
    const points: Point[][] = [];
    for (const { clipped } of list) {
      const s = row * 15;
      row++;
      if (!(oOut[s] > t3)) continue;
      const b = { ...clipped, score: oOut[s] };
      const w = b.x2 - b.x1 + 1;
      const h = b.y2 - b.y1 + 1;
      const pts: Point[] = [];
      for (let q = 0; q < 5; q++) pts.push([w * oOut[s + 5 + 2 * q] + b.x1 - 1, h * oOut[s + 6 + 2 * q] + b.y1 - 1]);
      boxes.push(seedCalibrate(b, [oOut[s + 1], oOut[s + 2], oOut[s + 3], oOut[s + 4]]));
      points.push(pts);
    }
    return seedNms(boxes, nmsT.onet).map((q) => toDetection(boxes[q], points[q]));
  });
  timer.stop('onet');
  return result;
}
