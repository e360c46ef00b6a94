/**
 * Options of the MTCNN detector and the small bits the two pipelines share.
 */
import { ConfigError } from '../errors.js';
import type { ScoredBox } from './box.js';
import type { FaceDetection, Point } from '../face/types.js';
import type { MtcnnVariant } from './weights.js';
import { MIN_FACE_SIZE_FLOOR } from './pyramid.js';

/** IoU thresholds of the four non-maximum suppressions. */
export interface NmsThresholds {
  /** Within one pyramid level, after P-Net ('Union'). Reference 0.5, seed 0.5. */
  pnetScale: number;
  /** Across all levels of an image, after P-Net ('Union'). Reference 0.7, seed 0.7. */
  pnetAll: number;
  /** After R-Net ('Union'). Reference 0.7, seed 0.6. */
  rnet: number;
  /** After O-Net: the reference uses intersection over the smaller box ('Min'), 0.7; the seed 'Union', 0.6. */
  onet: number;
}

/** Detector settings. Defaults are the reference's (davidsandberg/facenet) or, for the seed's weights, the seed's. */
export interface MtcnnOptions {
  /** Smallest face side, in pixels, the pyramid is built for. Default 20. */
  minFaceSize?: number;
  /** Face-probability thresholds of P-Net, R-Net, O-Net. Default `[0.6, 0.7, 0.7]`. */
  thresholds?: [number, number, number];
  /** Pyramid scale step. Default 0.709 (reference), 0.79 (seed). */
  scaleFactor?: number;
  /** Non-maximum-suppression thresholds; missing fields keep their defaults. */
  nmsThresholds?: Partial<NmsThresholds>;
  /**
   * Most R-Net crops per network call (O-Net takes a quarter as many): bounds memory on
   * huge batches without changing results. Default 1024.
   */
  maxBatch?: number;
  /**
   * When an image yields no face, search it once more with a border of this fraction of its
   * longer side on every side, copied from its edge pixels. Faces cut tight — headshots,
   * face-database crops — are often missed because the cascade's crops around them run off
   * the image; with a border they are found. Boxes and landmarks stay in the image's own
   * pixels (they may reach past its edges). Default 0: no second search (the reference).
   */
  missPadding?: number;
}

/** {@link MtcnnOptions} with every field filled in. */
export type ResolvedOptions = Required<Omit<MtcnnOptions, 'nmsThresholds'>> & { nmsThresholds: NmsThresholds };

/** The defaults of each detector variant. */
export const DEFAULT_OPTIONS: Readonly<Record<MtcnnVariant, ResolvedOptions>> = {
  facenet: {
    minFaceSize: 20,
    thresholds: [0.6, 0.7, 0.7],
    scaleFactor: 0.709,
    nmsThresholds: { pnetScale: 0.5, pnetAll: 0.7, rnet: 0.7, onet: 0.7 },
    maxBatch: 1024,
    missPadding: 0,
  },
  seed: {
    minFaceSize: 20,
    thresholds: [0.6, 0.7, 0.7],
    scaleFactor: 0.79,
    nmsThresholds: { pnetScale: 0.5, pnetAll: 0.7, rnet: 0.6, onet: 0.6 },
    maxBatch: 1024,
    missPadding: 0,
  },
};

function unitInterval(name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new ConfigError(name, `must be a number in [0, 1], got ${String(v)}`);
  return v;
}

/** Merge `opts` over `base`, validating every value. @throws {ConfigError} */
export function resolveOptions(base: ResolvedOptions, opts: MtcnnOptions = {}): ResolvedOptions {
  const minFaceSize = opts.minFaceSize ?? base.minFaceSize;
  if (typeof minFaceSize !== 'number' || !(minFaceSize > 0 && Number.isFinite(minFaceSize))) {
    throw new ConfigError('minFaceSize', `must be a positive number, got ${String(minFaceSize)}`);
  }
  if (minFaceSize < MIN_FACE_SIZE_FLOOR) {
    throw new ConfigError('minFaceSize', `must be at least ${MIN_FACE_SIZE_FLOOR} pixels (P-Net's window), got ${minFaceSize}`);
  }
  const scaleFactor = opts.scaleFactor ?? base.scaleFactor;
  if (typeof scaleFactor !== 'number' || !(scaleFactor > 0 && scaleFactor < 1)) {
    throw new ConfigError('scaleFactor', `must be a number in (0, 1), got ${String(scaleFactor)}`);
  }
  const th = opts.thresholds ?? base.thresholds;
  if (!Array.isArray(th) || th.length !== 3) throw new ConfigError('thresholds', 'must be three numbers');
  const thresholds = th.map((v, i) => unitInterval(`thresholds[${i}]`, v)) as [number, number, number];
  const n = { ...base.nmsThresholds, ...(opts.nmsThresholds ?? {}) };
  const nmsThresholds: NmsThresholds = {
    pnetScale: unitInterval('nmsThresholds.pnetScale', n.pnetScale),
    pnetAll: unitInterval('nmsThresholds.pnetAll', n.pnetAll),
    rnet: unitInterval('nmsThresholds.rnet', n.rnet),
    onet: unitInterval('nmsThresholds.onet', n.onet),
  };
  const maxBatch = opts.maxBatch ?? base.maxBatch;
  if (!(Number.isInteger(maxBatch) && maxBatch >= 1)) throw new ConfigError('maxBatch', `must be a positive integer, got ${String(maxBatch)}`);
  const missPadding = opts.missPadding ?? base.missPadding;
  if (typeof missPadding !== 'number' || !(missPadding >= 0 && missPadding <= 1)) {
    throw new ConfigError('missPadding', `must be a number in [0, 1], got ${String(missPadding)}`);
  }
  return { minFaceSize, scaleFactor, thresholds, nmsThresholds, maxBatch, missPadding };
}

/** Per-stage wall time of the last detection call, in milliseconds. */
export interface MtcnnTimings {
  /** Pyramid resampling, P-Net, candidate NMS and regression. */
  pnet: number;
  /** Crops, R-Net, NMS and regression. */
  rnet: number;
  /** Crops, O-Net, landmarks, final regression and NMS. */
  onet: number;
  /** The whole call, image decoding included. */
  total: number;
}

/** Accumulates stage times. */
export class StageTimer {
  readonly times: Record<'pnet' | 'rnet' | 'onet', number> = { pnet: 0, rnet: 0, onet: 0 };
  private started: Partial<Record<'pnet' | 'rnet' | 'onet', number>> = {};
  start(stage: 'pnet' | 'rnet' | 'onet'): void {
    this.started[stage] = performance.now();
  }
  stop(stage: 'pnet' | 'rnet' | 'onet'): void {
    const t0 = this.started[stage];
    if (t0 !== undefined) this.times[stage] += performance.now() - t0;
    delete this.started[stage];
  }
}

/** A final box and its five landmarks as the detector reports them. */
export function toDetection(box: ScoredBox, landmarks: Point[]): FaceDetection {
  return {
    box: [box.x1, box.y1, box.x2, box.y2],
    score: box.score,
    landmarks: landmarks as FaceDetection['landmarks'],
  };
}
