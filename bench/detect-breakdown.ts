/**
 * A finer split of one detection than `Mtcnn.lastTimings` gives: the detector's stages
 * re-run from its exported building blocks, timing the resampling (pyramid levels,
 * R-Net / O-Net crops), the network calls and the box arithmetic separately, and counting the
 * candidates each network sees. Diagnostic only: the benchmark checks that the number of faces
 * it ends with equals the detector's, so a drift from the real pipeline shows up.
 * Times are process CPU time (see `cpuNow`).
 */
import { bbreg, bbregPnet, fixBox, generateBoundingBox, nms, pad, rerec, type Candidate, type ScoredBox } from '../src/mtcnn/box.js';
import { FACENET_LAYOUT, writeFacenetCrops, writePyramidLevel } from '../src/mtcnn/patches.js';
import type { PixelBuffer } from '../src/image/pixels.js';
import { pyramidLevels } from '../src/mtcnn/pyramid.js';
import type { ResolvedOptions } from '../src/mtcnn/pipeline-types.js';
import { runPnet, runRefine } from '../src/mtcnn/stages.js';
import type { MtcnnParams } from '../src/mtcnn/weights.js';

/**
 * Process CPU time in ms. The detector is single-threaded, so on a busy machine this is the
 * time the work would take on a quiet one, where wall time is not.
 */
function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** CPU milliseconds per component, and candidate counts. */
export interface Breakdown {
  /** Resampling every pyramid level (JS, exact INTER_AREA) and writing it as network input. */
  pyramid: number;
  /** P-Net calls (includes a second resampling inside `runPnet`, subtracted out: see `pnetNet`). */
  pnetNet: number;
  /** Candidate boxes, per-level and global NMS, regression. */
  pnetPost: number;
  rnetCrops: number;
  rnetNet: number;
  rnetPost: number;
  onetCrops: number;
  onetNet: number;
  onetPost: number;
  levels: number;
  pyramidPixels: number;
  rnetInputs: number;
  onetInputs: number;
  faces: number;
}

function crops(image: PixelBuffer, boxes: ScoredBox[], size: number): { input: Float32Array; kept: ScoredBox[] } {
  const plane = size * size * 3;
  const input = new Float32Array(boxes.length * plane);
  const written = writeFacenetCrops(image, boxes.map((b) => pad(b, image.width, image.height)), size, FACENET_LAYOUT, input, 0);
  const kept = boxes.filter((_, i) => written[i]);
  return { input: input.subarray(0, kept.length * plane), kept };
}

/** Time the components of one facenet-variant detection of `image`. */
export async function breakdown(params: MtcnnParams, image: PixelBuffer, o: ResolvedOptions): Promise<Breakdown> {
  const [t1, t2, t3] = o.thresholds;
  const n = o.nmsThresholds;
  const levels = pyramidLevels(image.height, image.width, o.minFaceSize, o.scaleFactor);
  let t = cpuNow();
  let pyramidPixels = 0;
  for (const level of levels) {
    const buf = new Float32Array(level.height * level.width * 3);
    writePyramidLevel(image, level.height, level.width, 'area', FACENET_LAYOUT, buf, 0);
    pyramidPixels += level.height * level.width;
  }
  const pyramid = cpuNow() - t;

  t = cpuNow();
  const maps = await runPnet(params, levels.map((level, index) => ({ image, level, index })), 'area', FACENET_LAYOUT);
  // runPnet resamples the levels itself; what it spends beyond `pyramid` is the network.
  const pnetNet = Math.max(0, cpuNow() - t - pyramid);

  t = cpuNow();
  const all: Candidate[] = [];
  maps.forEach((m, j) => {
    const boxes = generateBoundingBox({ data: m.prob, rows: m.rows, cols: m.cols }, m.reg, levels[j].scale, t1);
    for (const p of nms(boxes, n.pnetScale, 'Union')) all.push(boxes[p]);
  });
  const stage1 = all.length === 0 ? [] : nms(all, n.pnetAll, 'Union').map((p) => fixBox(rerec(bbregPnet(all[p], all[p].reg))));
  const pnetPost = cpuNow() - t;

  t = cpuNow();
  const r = crops(image, stage1, 24);
  const rnetCrops = cpuNow() - t;
  t = cpuNow();
  const rOut = r.kept.length ? await runRefine(params, 'rnet', r.input, r.kept.length, o.maxBatch) : new Float32Array(0);
  const rnetNet = cpuNow() - t;
  t = cpuNow();
  const passed: ScoredBox[] = [];
  const regs: [number, number, number, number][] = [];
  r.kept.forEach((b, i) => {
    if (rOut[i * 5] > t2) {
      passed.push({ ...b, score: rOut[i * 5] });
      regs.push([rOut[i * 5 + 1], rOut[i * 5 + 2], rOut[i * 5 + 3], rOut[i * 5 + 4]]);
    }
  });
  const stage2 = passed.length ? nms(passed, n.rnet, 'Union').map((p) => fixBox(rerec(bbreg(passed[p], regs[p])))) : [];
  const rnetPost = cpuNow() - t;

  t = cpuNow();
  const q = crops(image, stage2, 48);
  const onetCrops = cpuNow() - t;
  t = cpuNow();
  const qOut = q.kept.length ? await runRefine(params, 'onet', q.input, q.kept.length, Math.max(1, o.maxBatch >> 2)) : new Float32Array(0);
  const onetNet = cpuNow() - t;
  t = cpuNow();
  const moved: ScoredBox[] = [];
  q.kept.forEach((b, i) => {
    const s = i * 15;
    if (qOut[s] > t3) moved.push(bbreg({ ...b, score: qOut[s] }, [qOut[s + 1], qOut[s + 2], qOut[s + 3], qOut[s + 4]]));
  });
  const faces = moved.length ? nms(moved, n.onet, 'Min').length : 0;
  const onetPost = cpuNow() - t;

  return {
    pyramid,
    pnetNet,
    pnetPost,
    rnetCrops,
    rnetNet,
    rnetPost,
    onetCrops,
    onetNet,
    onetPost,
    levels: levels.length,
    pyramidPixels,
    rnetInputs: r.kept.length,
    onetInputs: q.kept.length,
    faces,
  };
}
