/**
 * Do two face pipelines describe the same faces alike? Pure functions on boxes and
 * descriptors: pair the faces both found (box overlap), and compare each pair's descriptors
 * by cosine similarity — against the cosine between one pipeline's descriptor and the other's
 * descriptors of the *other* paired faces, the scale that says what "close" means (dlib's
 * descriptors of different people are still at cosine ≈ 0.85–0.9).
 */
import type { Box } from '../src/face/types.js';
import { associate, boxIou } from '../src/recognition/face-tracks.js';

/** One face found by a pipeline: its box `[x1, y1, x2, y2]` and its descriptor. */
export interface DescribedFace {
  box: Box;
  descriptor: Float32Array;
}

/** Cosine of the angle between two vectors of the same length. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/** The faces of one image paired across two pipelines (each face in at most one pair). */
export interface ImagePairing {
  pairs: { ours: DescribedFace; theirs: DescribedFace }[];
  onlyOurs: number;
  onlyTheirs: number;
  /**
   * For each of their faces left unpaired, its largest IoU with any of our faces: tells a face
   * both found but boxed differently (a detector drawing larger boxes) from one we missed.
   */
  unpairedTheirsBestIou: number[];
}

/** Pair the faces of one image whose boxes overlap by at least `minIou`, most-overlapping first. */
export function pairFaces(ours: readonly DescribedFace[], theirs: readonly DescribedFace[], minIou: number): ImagePairing {
  const match = associate(
    theirs.map((f) => f.box),
    ours.map((f) => f.box),
    minIou,
  );
  const pairs = match.flatMap((t, o) => (t >= 0 ? [{ ours: ours[o], theirs: theirs[t] }] : []));
  const unpairedTheirsBestIou = theirs
    .filter((_, t) => !match.includes(t))
    .map((f) => Math.max(0, ...ours.map((g) => boxIou(g.box, f.box))));
  return { pairs, onlyOurs: ours.length - pairs.length, onlyTheirs: theirs.length - pairs.length, unpairedTheirsBestIou };
}

/** Agreement over all images. Cosines are undefined (NaN) when there are too few pairs. */
export interface Agreement {
  paired: number;
  onlyOurs: number;
  onlyTheirs: number;
  /** Largest IoU with one of our faces of each unpaired face of theirs, ascending. */
  unpairedTheirsBestIou: number[];
  /** Cosine between the two descriptors of the same face: mean, minimum, maximum. */
  sameFace: { mean: number; min: number; max: number };
  /** Mean cosine between our descriptor of a face and theirs of every other paired face. */
  otherFaces: number;
}

/** Sum up the pairings of every image. */
export function agreement(pairings: readonly ImagePairing[]): Agreement {
  const pairs = pairings.flatMap((p) => p.pairs);
  const same = pairs.map((p) => cosine(p.ours.descriptor, p.theirs.descriptor));
  let other = 0;
  let otherCount = 0;
  pairs.forEach((p, i) =>
    pairs.forEach((q, j) => {
      if (i === j) return;
      other += cosine(p.ours.descriptor, q.theirs.descriptor);
      otherCount++;
    }),
  );
  return {
    paired: pairs.length,
    onlyOurs: pairings.reduce((s, p) => s + p.onlyOurs, 0),
    onlyTheirs: pairings.reduce((s, p) => s + p.onlyTheirs, 0),
    unpairedTheirsBestIou: pairings.flatMap((p) => p.unpairedTheirsBestIou).sort((a, b) => a - b),
    sameFace: {
      mean: same.length ? same.reduce((a, b) => a + b, 0) / same.length : NaN,
      min: same.length ? Math.min(...same) : NaN,
      max: same.length ? Math.max(...same) : NaN,
    },
    otherFaces: otherCount ? other / otherCount : NaN,
  };
}
