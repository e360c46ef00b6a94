/**
 * What an embedder promises, and the preprocessing recorded beside every embedding so that
 * enrollment and matching cannot silently differ.
 */
import type { ImageInput } from '../image/types.js';
import type { FaceDetection } from './types.js';

/**
 * How a face is turned into the network's input. Stored in galleries: a gallery enrolled
 * with one preprocessing refuses queries embedded with another.
 */
export interface Preprocessing {
  /** Side of the square network input in pixels (the reference uses 160). */
  imageSize: number;
  /**
   * Margin around the face. For `alignment: 'crop'`: pixels of the original image added
   * around the detected box, half on each side (the reference's `--margin`, 32 for its
   * 160-pixel LFW crops). For `'landmarks'`: fraction of the output side left free on each
   * side of the 5-point template (0 … 0.5). For `'chip'`: dlib's padding, a fraction of the
   * face's extent (0.25 for dlib's recognition chip).
   */
  margin: number;
  /**
   * `'crop'`: the detected box plus margin, resized to a square (davidsandberg/facenet);
   * `'landmarks'`: a similarity warp of the 5 MTCNN landmarks onto a fixed template;
   * `'chip'`: the same warp onto dlib's mean face (`get_face_chip_details`).
   */
  alignment: 'crop' | 'landmarks' | 'chip';
  /**
   * `'fixed'`: `(x − 127.5) / 128` (the reference's `--use_fixed_image_standardization`,
   * used by its 2018 models); `'prewhiten'`: per-image `(x − mean) / max(std, 1/√N)`;
   * `'none'`: RGB 0…255 as it is (models that normalise their input themselves).
   */
  standardization: 'fixed' | 'prewhiten' | 'none';
  /**
   * Also embed the horizontally mirrored face and concatenate the two embeddings
   * (`[e(x) ‖ e(flip x)] / √2`, unit length, twice the model's dimension) — the
   * reference's `--use_flipped_images`, re-normalised.
   */
  flip: boolean;
}

/** Defaults: the reference's LFW validation setup (160 px, margin 32, box crop, fixed standardization, no flip). */
export const DEFAULT_PREPROCESSING: Readonly<Preprocessing> = Object.freeze({
  imageSize: 160,
  margin: 32,
  alignment: 'crop',
  standardization: 'fixed',
  flip: false,
});

/** One face found in an image and its embedding. */
export interface FaceEmbedding {
  detection: FaceDetection;
  /** L2-normalised embedding of length {@link Embedder.dimension}. */
  embedding: Float32Array;
}

/**
 * How a model's distances should be read, measured by whoever shipped it (`calibration.json`
 * in a model folder): the threshold that names a face, and the detection score below which a
 * face is not named at all.
 */
export interface ModelCalibration {
  /**
   * Squared Euclidean distance between unit embeddings below which two faces are taken for
   * the same person; chosen at {@link falseAcceptRate} on people the model was not trained on.
   */
  threshold: number;
  /** The false-accept rate the threshold was chosen at (e.g. 0.001). */
  falseAcceptRate: number;
  /** What data the threshold was chosen on. */
  calibratedOn: string;
  /**
   * Faces whose detection score is lower are reported but never named (MTCNN's false
   * positives — hands, patterns — score lower than real faces).
   */
  minDetectionScore: number;
}

/**
 * Turns face images into L2-normalised embeddings. Two embedders with equal
 * {@link fingerprint} and {@link preprocessing} produce comparable embeddings.
 */
export interface Embedder {
  /** Length of every embedding. */
  readonly dimension: number;
  /** Identifies the model: a hash of its topology and weights (hex). */
  readonly fingerprint: string;
  readonly preprocessing: Readonly<Preprocessing>;
  /** The model's threshold and detection-score floor, when its folder records them. */
  readonly calibration?: Readonly<ModelCalibration>;
  /**
   * One embedding per image: of its main face (the largest, most central one — the face
   * `align_dataset_mtcnn.py` keeps).
   * @throws {NoFaceError} naming the first image in which no face was found.
   */
  embed(images: readonly ImageInput[]): Promise<Float32Array[]>;
  /** Every face found in one image, with its detection, in detection order. */
  embedAllFaces(image: ImageInput): Promise<FaceEmbedding[]>;
}

/** Canonical JSON of a preprocessing record (sorted keys), for comparisons and hashing. */
export function preprocessingKey(p: Readonly<Preprocessing>): string {
  return JSON.stringify({
    alignment: p.alignment,
    flip: p.flip,
    imageSize: p.imageSize,
    margin: p.margin,
    standardization: p.standardization,
  });
}
