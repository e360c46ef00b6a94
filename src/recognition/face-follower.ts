/**
 * Naming the faces of a video frame after frame, cheaply: a full MTCNN detection every
 * `detectEvery` frames (and whenever a face is lost), only R-Net and O-Net around the last
 * boxes in between ({@link Mtcnn.track}); a face is embedded when it appears, when its picture
 * changes (another person in its place) and every `embedEveryFrames` frames — otherwise it
 * keeps the name its last embedding gave. Works wherever the embedder does (Node, browser).
 */
import type { FaceDetection } from '../face/types.js';
import type { RawImage } from '../image/types.js';
import { loadImage } from '../image/load.js';
import { ConfigError } from '../errors.js';
import type { Gallery } from '../gallery/gallery.js';
import { Mtcnn } from '../mtcnn/detector.js';
import type { FacenetEmbedder } from './embedder.js';
import { planFaces, type EmbedPolicy, type FaceTrack } from './face-tracks.js';
import { assertGalleryMatchesEmbedder, type IdentifiedFace, type IdentifyOptions } from './identify.js';

/** Options of {@link FaceFollower}. */
export interface FaceFollowerOptions extends IdentifyOptions {
  /** A full detection every this many frames; 1 = every frame (no following). Default 10. */
  detectEvery?: number;
  /**
   * Embed a followed face again once this many frames have passed (e.g. one second of video:
   * the frame rate); 0 = every face of every frame. Default 25.
   */
  embedEveryFrames?: number;
  /**
   * Embed a followed face again at once when its picture changed by more than this many grey
   * levels (mean over 8 × 8 cells, 0…255) since the last frame. Default 24: moving faces stay
   * well under it, another face in the same box goes well over.
   */
  maxChange?: number;
  /** Least box overlap (IoU) for a face to continue a face of the previous frame. Default 0.3. */
  minIou?: number;
}

/** One frame's result. */
export interface FollowedFrame {
  faces: IdentifiedFace[];
  /** A full detection ran on this frame (else the faces were followed from the last one). */
  detected: boolean;
  /** Faces embedded in this frame. */
  embedded: number;
}

/** What a followed face's last embedding said, and the best detection score it has had. */
type Identity = Pick<IdentifiedFace, 'name' | 'distance' | 'candidates'> & { bestScore: number };

function positiveInteger(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(name, `must be a positive integer, got ${v}`);
  return v;
}

/**
 * Follows and names the faces of consecutive frames of one video. One instance per video
 * stream; {@link reset} after a seek. Holds no tensors between frames.
 */
export class FaceFollower {
  private readonly detectEvery: number;
  private readonly policy: EmbedPolicy;
  private readonly match: IdentifyOptions;
  private readonly minDetectionScore: number;
  private readonly mtcnn: Mtcnn | null;
  private tracks: FaceTrack<Identity>[] = [];
  private lost = true;
  private index = 0;

  constructor(
    private readonly gallery: Gallery,
    private readonly embedder: FacenetEmbedder,
    opts: FaceFollowerOptions = {},
  ) {
    assertGalleryMatchesEmbedder(gallery, embedder);
    const { detectEvery = 10, embedEveryFrames = 25, maxChange = 24, minIou = 0.3, minDetectionScore, ...match } = opts;
    this.detectEvery = positiveInteger('detectEvery', detectEvery);
    if (!Number.isInteger(embedEveryFrames) || embedEveryFrames < 0) {
      throw new ConfigError('embedEveryFrames', `must be an integer ≥ 0, got ${embedEveryFrames}`);
    }
    if (!(maxChange >= 0)) throw new ConfigError('maxChange', `must be ≥ 0, got ${maxChange}`);
    if (!(minIou > 0 && minIou <= 1)) throw new ConfigError('minIou', `must be in (0, 1], got ${minIou}`);
    this.policy = { everyFrames: embedEveryFrames, maxChange, minIou };
    this.match = match;
    this.minDetectionScore = minDetectionScore ?? embedder.calibration?.minDetectionScore ?? 0;
    // Following needs MTCNN's track(); any other detector detects every frame.
    this.mtcnn = embedder.detector instanceof Mtcnn ? embedder.detector : null;
  }

  /** Detect or follow, embed where needed, and name the faces of the next frame. */
  async next(frame: Readonly<RawImage>): Promise<FollowedFrame> {
    const full = this.mtcnn === null || this.lost || this.tracks.length === 0 || this.index % this.detectEvery === 0;
    const detections: FaceDetection[] = full
      ? await this.embedder.detector.detect(frame)
      : await this.mtcnn!.track(
          frame,
          this.tracks.map((t) => t.box),
        );
    // Fewer faces than were followed: one moved too far or left — look everywhere next frame.
    this.lost = !full && detections.length < this.tracks.length;
    const plan = planFaces(
      this.tracks,
      detections.map((d) => d.box),
      frame,
      this.index,
      this.policy,
    );
    const toEmbed = plan.flatMap((p, i) => (p.embed ? [i] : []));
    const identities = await this.identify(
      frame,
      toEmbed.map((i) => detections[i]),
    );
    this.tracks = detections.map((d, i) => {
      const k = toEmbed.indexOf(i);
      const { previous, cells } = plan[i];
      const bestScore = Math.max(d.score, previous?.identity.bestScore ?? 0);
      const identity = k >= 0 ? { ...identities[k], bestScore } : { ...previous!.identity, bestScore };
      return { box: d.box, identity, embeddedAt: k >= 0 ? this.index : previous!.embeddedAt, cells };
    });
    this.index++;
    const faces = detections.map((d, i) => {
      const { name, distance, candidates, bestScore } = this.tracks[i].identity;
      // A detection scoring below the floor is most likely not a face: never name it. A
      // followed face is judged by its best score so far (R-Net/O-Net's score of a real face
      // wavers from frame to frame; its name should not).
      return { box: d.box, score: d.score, name: bestScore >= this.minDetectionScore ? name : null, distance, candidates };
    });
    return { faces, detected: full, embedded: toEmbed.length };
  }

  /** Forget the faces followed so far: the next frame gets a full detection and fresh embeddings. */
  reset(): void {
    this.tracks = [];
    this.lost = true;
    this.index = 0;
  }

  private async identify(frame: Readonly<RawImage>, detections: FaceDetection[]): Promise<Omit<Identity, 'bestScore'>[]> {
    if (detections.length === 0) return [];
    const img = await loadImage(frame);
    let embeddings: Float32Array[];
    try {
      const { crops } = this.embedder.cropDetections(img, detections, 'all');
      try {
        embeddings = await this.embedder.embedCrops(crops);
      } finally {
        crops.dispose();
      }
    } finally {
      img.dispose();
    }
    return this.gallery.matchMany(embeddings, this.match).map(({ name, distance, candidates }) => ({ name, distance, candidates }));
  }
}
