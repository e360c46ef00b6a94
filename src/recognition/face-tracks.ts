/**
 * Following faces from frame to frame, so that a video does not pay for a full detection and
 * an embedding of every face in every frame: which face of this frame continues which face of
 * the last one (box overlap), and which faces need a new embedding (new faces, faces last
 * embedded too long ago, faces whose picture changed — a cut to another scene or person).
 * Pure functions on plain data; {@link FaceFollower} does the detecting and embedding.
 */
import type { Box } from '../face/types.js';
import type { RawImage } from '../image/types.js';

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

/** Cells per side of the grid a face's picture is summarised by, and samples per cell side. */
const GRID = 8;
const SAMPLES = 4;

/**
 * A face's picture in 64 numbers: the mean grey level (0…255) of each of the 8 × 8 cells of
 * `box` in `frame`, 4 × 4 samples per cell. RGB or RGBA pixels.
 */
export function faceCells(frame: Readonly<RawImage>, box: Readonly<Box>): Float32Array {
  const { data, width, height } = frame;
  const channels = frame.channels ?? 3;
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
          const i = (y * width + x) * channels;
          sum += 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
        }
      }
      out[gy * GRID + gx] = sum / (SAMPLES * SAMPLES);
    }
  }
  return out;
}

/**
 * How much a face's picture changed: the mean absolute difference of two {@link faceCells}
 * summaries, 0…255. The same face, moved and re-boxed, changes it a little; another face in
 * its place (a cut to another scene, someone stepping in front) a lot.
 */
export function cellChange(before: Float32Array, after: Float32Array): number {
  let sum = 0;
  for (let k = 0; k < before.length; k++) sum += Math.abs(before[k] - after[k]);
  return sum / before.length;
}

/** A face being followed, with the identity its last embedding gave. */
export interface FaceTrack<Identity> {
  box: Box;
  identity: Identity;
  /** Frame index of its last embedding. */
  embeddedAt: number;
  /** Its picture in the frame it was last seen in ({@link faceCells}). */
  cells: Float32Array;
}

/** When a followed face is embedded again. */
export interface EmbedPolicy {
  /** Re-embed a face once this many frames have passed since its last embedding (0: every frame). */
  everyFrames: number;
  /** Re-embed when the face's picture changed by more than this since the last frame ({@link cellChange}). */
  maxChange: number;
  /** Least overlap for a box to continue a face of the previous frame. */
  minIou: number;
}

/** For one face of this frame: the track it continues (or null), whether to embed it now, its picture now. */
export interface FacePlan<Identity> {
  previous: FaceTrack<Identity> | null;
  embed: boolean;
  cells: Float32Array;
}

/** Decide, for this frame's boxes, which continue a track and which need an embedding. */
export function planFaces<Identity>(
  tracks: readonly FaceTrack<Identity>[],
  boxes: readonly Readonly<Box>[],
  frame: Readonly<RawImage>,
  frameIndex: number,
  policy: EmbedPolicy,
): FacePlan<Identity>[] {
  const match = associate(
    tracks.map((t) => t.box),
    boxes,
    policy.minIou,
  );
  return boxes.map((box, i) => {
    const previous = match[i] >= 0 ? tracks[match[i]] : null;
    const cells = faceCells(frame, box);
    const embed =
      previous === null ||
      frameIndex - previous.embeddedAt >= policy.everyFrames ||
      cellChange(previous.cells, cells) > policy.maxChange;
    return { previous, embed, cells };
  });
}
