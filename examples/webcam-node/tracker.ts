/**
 * Following faces from frame to frame so that a video does not pay for a full detection and
 * an embedding of every face in every frame: which face of this frame is which face of the
 * last one (box overlap), and which faces need a new embedding (new faces, faces last
 * embedded too long ago, faces whose picture changed — a cut to another scene or person).
 * Pure functions and plain data; main.ts does the detecting and embedding.
 */
import type { Box } from 'tfjs-facenet/node';

/** Intersection over union of two boxes `[x1, y1, x2, y2]`. */
export function boxIou(a: Readonly<Box>, b: Readonly<Box>): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Pair this frame's boxes with the previous frame's: repeatedly the most-overlapping free
 * pair, as long as it overlaps by at least `minIou`.
 * @returns for each current box, the index of its previous box, or -1 (a new face).
 */
export function associate(previous: readonly Readonly<Box>[], current: readonly Readonly<Box>[], minIou: number): number[] {
  const pairs: { p: number; c: number; iou: number }[] = [];
  previous.forEach((pb, p) =>
    current.forEach((cb, c) => {
      const iou = boxIou(pb, cb);
      if (iou >= minIou) pairs.push({ p, c, iou });
    }),
  );
  pairs.sort((x, y) => y.iou - x.iou);
  const match = new Array<number>(current.length).fill(-1);
  const takenPrev = new Set<number>();
  for (const { p, c } of pairs) {
    if (match[c] !== -1 || takenPrev.has(p)) continue;
    match[c] = p;
    takenPrev.add(p);
  }
  return match;
}

/** Cells per side of the grid {@link regionChange} compares, and samples per cell side. */
const GRID = 8;
const SAMPLES = 4;

/** Mean grey level of each of the `GRID × GRID` cells of `box` in `frame` (4 × 4 samples per cell). */
function cellMeans(frame: Uint8Array, width: number, height: number, box: Readonly<Box>): Float32Array {
  const out = new Float32Array(GRID * GRID);
  const bw = box[2] - box[0];
  const bh = box[3] - box[1];
  for (let gy = 0; gy < GRID; gy++) {
    for (let gx = 0; gx < GRID; gx++) {
      let sum = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        const y = Math.min(height - 1, Math.max(0, Math.round(box[1] + ((gy + (sy + 0.5) / SAMPLES) * bh) / GRID)));
        for (let sx = 0; sx < SAMPLES; sx++) {
          const x = Math.min(width - 1, Math.max(0, Math.round(box[0] + ((gx + (sx + 0.5) / SAMPLES) * bw) / GRID)));
          const i = (y * width + x) * 3;
          sum += 0.299 * frame[i] + 0.587 * frame[i + 1] + 0.114 * frame[i + 2];
        }
      }
      out[gy * GRID + gx] = sum / (SAMPLES * SAMPLES);
    }
  }
  return out;
}

/**
 * How much a face's picture changed between two frames: the mean absolute difference of the
 * grey levels of the 8 × 8 cells of its box in each frame (`before` read through its box then,
 * `after` through its box now), 0…255. The same face, moved and re-boxed, changes it a little;
 * another face in its place (a cut to another scene, someone stepping in front) a lot.
 */
export function regionChange(
  before: Uint8Array,
  beforeBox: Readonly<Box>,
  after: Uint8Array,
  afterBox: Readonly<Box>,
  width: number,
  height: number,
): number {
  const a = cellMeans(before, width, height, beforeBox);
  const b = cellMeans(after, width, height, afterBox);
  let sum = 0;
  for (let k = 0; k < a.length; k++) sum += Math.abs(a[k] - b[k]);
  return sum / a.length;
}

/** A face being followed, with the identity its last embedding gave. */
export interface Track<Identity> {
  box: Box;
  identity: Identity;
  /** Frame index of its last embedding. */
  embeddedAt: number;
}

/** When to embed again. */
export interface EmbedPolicy {
  /** Re-embed a face once this many frames have passed since its last embedding. */
  everyFrames: number;
  /** Re-embed when the face's picture changed by more than this since the last frame ({@link regionChange}). */
  maxChange: number;
  /** Least overlap for a box to continue a previous face. */
  minIou: number;
}

/** For each face of this frame: the track it continues (or null) and whether it must be embedded now. */
export interface FacePlan<Identity> {
  previous: Track<Identity> | null;
  embed: boolean;
}

/** Decide, for this frame's boxes, which continue a track and which need an embedding. */
export function planFaces<Identity>(
  tracks: readonly Track<Identity>[],
  boxes: readonly Readonly<Box>[],
  frame: { data: Uint8Array; width: number; height: number; index: number },
  previousFrame: Uint8Array | null,
  policy: EmbedPolicy,
): FacePlan<Identity>[] {
  const match = associate(
    tracks.map((t) => t.box),
    boxes,
    policy.minIou,
  );
  return boxes.map((box, i) => {
    const previous = match[i] >= 0 ? tracks[match[i]] : null;
    const embed =
      previous === null ||
      previousFrame === null ||
      frame.index - previous.embeddedAt >= policy.everyFrames ||
      regionChange(previousFrame, previous.box, frame.data, box, frame.width, frame.height) > policy.maxChange;
    return { previous, embed };
  });
}
