/**
 * FaceNet embeddings of the faces in images: image → MTCNN detection → crop (box + margin,
 * or landmark alignment) → standardization → embedding network → L2 normalisation, in
 * batches, optionally with horizontal-flip augmentation.
 *
 * ```ts
 * const embedder = await loadFacenetEmbedder({ modelDir: 'models/facenet' });
 * const [a, b] = await embedder.embed(['alice1.jpg', 'alice2.jpg']);
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, NoFaceError, ShapeError, DisposedError } from '../errors.js';
import { loadImage, loadImageScaled } from '../image/load.js';
import type { ImageInput } from '../image/types.js';
import { cropFaces, selectFaces } from '../face/crop.js';
import { alignFaces, FACE_CHIP_DEFAULTS, faceChipPoints } from '../face/align.js';
import { scaleDetection, type FaceDetection } from '../face/types.js';
import { standardizeFaces } from './standardize.js';
import { DEFAULT_PREPROCESSING, type Embedder, type FaceEmbedding, type ModelCalibration, type Preprocessing } from '../face/embedding.js';
import { sha256 } from '../io/sha256.js';
import { resizeArea } from '../image/resize-area.js';

/** Anything that finds faces: {@link Mtcnn} fits. */
export interface FaceDetector {
  detect(image: ImageInput): Promise<FaceDetection[]>;
  /** Optional: many images at once (faster when the detector batches). */
  detectBatch?(images: readonly ImageInput[]): Promise<FaceDetection[][]>;
}

/** A model given as a function: standardized `[n, s, s, 3]` → embeddings `[n, d]` (any length; normalised after). */
export type EmbeddingFunction = (faces: tf.Tensor4D) => tf.Tensor2D;

/** Options of {@link FacenetEmbedder.create}. */
export interface FacenetEmbedderOptions {
  /**
   * The embedding network: a layers model (e.g. `buildInceptionResnetV1` / `loadModel`),
   * whose output {@link outputIndex} is used, or a function (then `dimension`,
   * `inputSize` and `fingerprint` are required).
   */
  model: tfl.LayersModel | EmbeddingFunction;
  /** Face detector, e.g. `await loadMtcnn()`. */
  detector: FaceDetector;
  /** Preprocessing; missing fields from {@link DEFAULT_PREPROCESSING}, `imageSize` from the model's input. */
  preprocessing?: Partial<Preprocessing>;
  /** Faces per network call. Default 32. */
  batchSize?: number;
  /** Which output of a multi-output layers model holds the embeddings. Default: the last. */
  outputIndex?: number;
  /** Required for a function model: its embedding length. */
  dimension?: number;
  /** Required for a function model: its input side. */
  inputSize?: number;
  /** The model's threshold and detection-score floor (its folder's `calibration.json`). */
  calibration?: ModelCalibration;
  /** Model fingerprint; default computed from a layers model's layers and weights ({@link modelFingerprint}). */
  fingerprint?: string;
  /**
   * What {@link FacenetEmbedder.dispose} releases: the loaders pass the model and the
   * detector they created; things the caller passed in stay the caller's. Default none.
   */
  owned?: ReadonlyArray<{ dispose(): void }>;
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Keys of a layer config that do not change what the layer computes. */
const NON_FUNCTIONAL = /^(name|trainable|dtype)$|(Initializer|Regularizer|Constraint)$/;

/** A layer config without training-only and naming details, and without null fields. */
function functionalConfig(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(functionalConfig);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    const x = (v as Record<string, unknown>)[k];
    if (x === null || x === undefined || NON_FUNCTIONAL.test(k)) continue;
    out[k] = functionalConfig(x);
  }
  return out;
}

/**
 * A fingerprint of a layers model (32 hex digits of a SHA-256): the class and the
 * function-relevant configuration of every layer (not its name — TensorFlow.js numbers
 * names per process — nor its initializers, regularizers or constraints, which only matter
 * for training) and the shape, dtype and bytes of every weight, in order. The same weights
 * in the same architecture give the same fingerprint however the model was built or
 * loaded; any changed weight changes it.
 */
export async function modelFingerprint(model: tfl.LayersModel): Promise<string> {
  const enc = new TextEncoder();
  const digests: Uint8Array[] = [];
  const layers = model.layers.map((l) => [l.getClassName(), functionalConfig(l.getConfig())]);
  digests.push(await sha256(enc.encode(JSON.stringify(layers))));
  for (const w of model.weights) {
    const t = w.read();
    const data = await t.data();
    digests.push(await sha256(enc.encode(`${JSON.stringify(w.shape)}:${w.dtype}`)));
    digests.push(await sha256(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
  }
  const all = new Uint8Array(digests.length * 32);
  digests.forEach((d, i) => all.set(d, i * 32));
  return hex(await sha256(all)).slice(0, 32);
}

function isLayersModel(m: unknown): m is tfl.LayersModel {
  return typeof m === 'object' && m !== null && 'predict' in m && 'layers' in m;
}

function checkPreprocessing(p: Preprocessing): Preprocessing {
  if (!Number.isInteger(p.imageSize) || p.imageSize < 1) throw new ConfigError('imageSize', `must be a positive integer, got ${p.imageSize}`);
  if (!['crop', 'landmarks', 'chip'].includes(p.alignment)) {
    throw new ConfigError('alignment', `must be 'crop', 'landmarks' or 'chip', got "${p.alignment as string}"`);
  }
  if (!['fixed', 'prewhiten', 'none'].includes(p.standardization)) {
    throw new ConfigError('standardization', `must be 'fixed', 'prewhiten' or 'none', got "${p.standardization as string}"`);
  }
  if (p.alignment === 'crop' && !(Number.isFinite(p.margin) && p.margin >= 0)) {
    throw new ConfigError('margin', `must be a number of pixels ≥ 0 for alignment 'crop', got ${p.margin}`);
  }
  if (p.alignment === 'landmarks' && !(p.margin >= 0 && p.margin < 0.5)) {
    throw new ConfigError('margin', `must be a fraction in [0, 0.5) for alignment 'landmarks', got ${p.margin}`);
  }
  if (p.alignment === 'chip' && !(p.margin > -0.5 && p.margin <= 2)) {
    throw new ConfigError('margin', `must be dlib's padding in (-0.5, 2] for alignment 'chip', got ${p.margin}`);
  }
  if (typeof p.flip !== 'boolean') throw new ConfigError('flip', 'must be true or false');
  return p;
}

/** @throws {ConfigError} naming the first field of a calibration record that is out of range. */
export function checkCalibration(c: ModelCalibration): ModelCalibration {
  if (!(Number.isFinite(c.threshold) && c.threshold > 0)) throw new ConfigError('calibration.threshold', `must be a positive number, got ${c.threshold}`);
  if (!(c.falseAcceptRate >= 0 && c.falseAcceptRate < 1)) throw new ConfigError('calibration.falseAcceptRate', `must be in [0, 1), got ${c.falseAcceptRate}`);
  if (!(c.minDetectionScore >= 0 && c.minDetectionScore <= 1)) throw new ConfigError('calibration.minDetectionScore', `must be in [0, 1], got ${c.minDetectionScore}`);
  if (typeof c.calibratedOn !== 'string') throw new ConfigError('calibration.calibratedOn', 'must be a text');
  return { threshold: c.threshold, falseAcceptRate: c.falseAcceptRate, calibratedOn: c.calibratedOn, minDetectionScore: c.minDetectionScore };
}

/** Faces cropped from one image, ready for {@link FacenetEmbedder.embedCrops}. */
export interface FaceCrops {
  /** The detections the crops come from, in crop order. */
  detections: FaceDetection[];
  /** `[n, imageSize, imageSize, 3]` RGB 0…255 (n may be 0). The caller disposes it. */
  crops: tf.Tensor4D;
  /** Width of the image the detections are in: the input's own pixels (see {@link FacenetEmbedder.cropFaces}). */
  width: number;
  /** Height of the image the detections are in. */
  height: number;
}

/**
 * Resize a batch of faces (`[n, h, w, 3]`, 0…255) to `size`×`size` with OpenCV's INTER_AREA
 * (area averaging when shrinking, so no aliasing). Returns the input itself when it already
 * has that size; otherwise a new float32 tensor the caller disposes.
 */
export function resizeFaces(faces: tf.Tensor4D, size: number): tf.Tensor4D {
  const [n, height, width] = faces.shape;
  if (height === size && width === size) return faces;
  const src = faces.dataSync();
  const per = height * width * 3;
  const out = new Float32Array(n * size * size * 3);
  for (let i = 0; i < n; i++) {
    const data = Float64Array.from(src.subarray(i * per, (i + 1) * per));
    out.set(resizeArea({ data, height, width, channels: 3 }, size, size).data, i * size * size * 3);
  }
  return tf.tensor4d(out, [n, size, size, 3]);
}

/**
 * Images that are already aligned face crops (e.g. written by `tfjs-facenet align` with the
 * model's alignment) as a `[n, imageSize, imageSize, 3]` batch (RGB 0…255, float32), each
 * resized to the model's input when its size differs ({@link resizeFaces}). The caller
 * disposes the batch.
 */
export async function loadAlignedFaces(images: readonly ImageInput[], imageSize: number): Promise<tf.Tensor4D> {
  const faces: tf.Tensor4D[] = [];
  try {
    for (const im of images) {
      const t = await loadImage(im);
      const x = tf.tidy(() => tf.expandDims(tf.cast(t, 'float32'), 0) as tf.Tensor4D);
      t.dispose();
      const resized = resizeFaces(x, imageSize);
      if (resized !== x) x.dispose();
      faces.push(resized);
    }
    if (faces.length === 1) return faces.pop()!;
    return faces.length ? (tf.concat(faces, 0) as tf.Tensor4D) : (tf.zeros([0, imageSize, imageSize, 3]) as tf.Tensor4D);
  } finally {
    tf.dispose(faces);
  }
}

/** The FaceNet pipeline as an {@link Embedder}. */
export class FacenetEmbedder implements Embedder {
  readonly dimension: number;
  readonly fingerprint: string;
  readonly preprocessing: Readonly<Preprocessing>;
  calibration?: Readonly<ModelCalibration>;
  /** Embedding length of the network itself (half of {@link dimension} with flip). */
  readonly modelDimension: number;
  private readonly run: EmbeddingFunction;
  private readonly batchSize: number;
  private owned: ReadonlyArray<{ dispose(): void }> = [];
  private disposed = false;

  private constructor(
    run: EmbeddingFunction,
    modelDimension: number,
    fingerprint: string,
    preprocessing: Preprocessing,
    batchSize: number,
    readonly detector: FaceDetector,
  ) {
    this.run = run;
    this.modelDimension = modelDimension;
    this.dimension = preprocessing.flip ? 2 * modelDimension : modelDimension;
    this.fingerprint = fingerprint;
    this.preprocessing = Object.freeze({ ...preprocessing });
    this.batchSize = batchSize;
  }

  /**
   * Release what this embedder owns (see {@link FacenetEmbedderOptions.owned}): for a
   * loaded embedder, its network and the detector the loader created. Safe to call twice.
   */
  dispose(): void {
    const owned = this.owned;
    this.owned = [];
    this.disposed = true;
    for (const r of owned) r.dispose();
  }

  /** Refuse use after {@link dispose} with a typed error instead of a failure deep in tfjs. */
  private checkLive(): void {
    if (this.disposed) throw new DisposedError('FacenetEmbedder');
  }

  /**
   * Set up an embedder (computes the model fingerprint unless given).
   * @throws {ConfigError} for inconsistent options (e.g. an image size the model does not take).
   */
  static async create(opts: FacenetEmbedderOptions): Promise<FacenetEmbedder> {
    const batchSize = opts.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError('batchSize', `must be a positive integer, got ${batchSize}`);
    let run: EmbeddingFunction;
    let dim: number;
    let inputSize: number;
    let fingerprint: string;
    if (isLayersModel(opts.model)) {
      const model = opts.model;
      const inShape = model.inputs[0].shape;
      if (inShape.length !== 4 || inShape[3] !== 3 || inShape[1] == null || inShape[1] !== inShape[2]) {
        throw new ShapeError('model input', '[batch, s, s, 3]', JSON.stringify(inShape));
      }
      inputSize = inShape[1];
      const outIndex = opts.outputIndex ?? model.outputs.length - 1;
      if (!(outIndex >= 0 && outIndex < model.outputs.length)) {
        throw new ConfigError('outputIndex', `the model has ${model.outputs.length} outputs, got ${outIndex}`);
      }
      const outShape = model.outputs[outIndex].shape;
      if (outShape.length !== 2 || outShape[1] == null) throw new ShapeError('model output', '[batch, d]', JSON.stringify(outShape));
      dim = outShape[1];
      run = (x) => {
        const out = model.predict(x);
        if (!Array.isArray(out)) return out as tf.Tensor2D;
        // predict returns every output; keep the one wanted (tidy disposes the rest).
        return out[outIndex] as tf.Tensor2D;
      };
      fingerprint = opts.fingerprint ?? (await modelFingerprint(model));
    } else {
      if (typeof opts.model !== 'function') throw new ConfigError('model', 'must be a layers model or a function');
      if (!opts.dimension || !opts.inputSize || !opts.fingerprint) {
        throw new ConfigError('model', 'a function model needs dimension, inputSize and fingerprint');
      }
      run = opts.model;
      dim = opts.dimension;
      inputSize = opts.inputSize;
      fingerprint = opts.fingerprint;
    }
    const preprocessing = checkPreprocessing({ ...DEFAULT_PREPROCESSING, imageSize: inputSize, ...opts.preprocessing });
    if (preprocessing.imageSize !== inputSize) {
      throw new ConfigError('imageSize', `the model takes ${inputSize}×${inputSize} faces, not ${preprocessing.imageSize}`);
    }
    const embedder = new FacenetEmbedder(run, dim, fingerprint, preprocessing, batchSize, opts.detector);
    embedder.owned = [...(opts.owned ?? [])];
    if (opts.calibration) embedder.calibration = Object.freeze(checkCalibration(opts.calibration));
    return embedder;
  }

  /**
   * Detect the faces of one image and cut them out as the preprocessing says.
   * @param select `'main'` keeps the face `align_dataset_mtcnn.py` would keep (largest,
   *   most central); `'all'` keeps every face. Default `'all'`.
   * @returns the crops, and the detections and image size in the input's own pixels (a file
   *   larger than `MAX_DECODE_PIXELS` is searched and cropped downscaled).
   */
  async cropFaces(image: ImageInput | tf.Tensor3D, select: 'main' | 'all' = 'all'): Promise<FaceCrops> {
    this.checkLive();
    // A file past the decoder's pixel cap is searched and cropped downscaled; its detections
    // and size are reported in the file's own pixels, as the detector reports them.
    const { tensor: img, scale, sourceWidth, sourceHeight } = await loadImageScaled(image);
    try {
      const detections = await this.detector.detect(img);
      const found = this.cropDetections(img, detections, select);
      if (scale === 1) return found;
      return {
        detections: found.detections.map((d) => scaleDetection(d, 1 / scale)),
        crops: found.crops,
        width: sourceWidth,
        height: sourceHeight,
      };
    } finally {
      img.dispose();
    }
  }

  /**
   * Cut out faces already detected in `img` as the preprocessing says (`select` as in
   * {@link cropFaces}); lets one detection serve several embedders.
   */
  cropDetections(img: tf.Tensor3D, all: FaceDetection[], select: 'main' | 'all' = 'all'): FaceCrops {
    const [height, width] = img.shape;
    const detections = select === 'main' ? selectFaces(all, width, height, 'reference') : all;
    const p = this.preprocessing;
    const landmarks = detections.map((d) => d.landmarks);
    const crops =
      p.alignment === 'crop'
        ? cropFaces(img, detections.map((d) => d.box), { imageSize: p.imageSize, margin: p.margin })
        : p.alignment === 'chip'
          ? this.faceChips(img, landmarks)
          : alignFaces(img, landmarks, { imageSize: p.imageSize, margin: p.margin });
    return { detections, crops, width, height };
  }

  /**
   * dlib face chips for the network: warped at dlib's 150 px (or the input size when larger)
   * and area-resized to the input, exactly as chips aligned at 150 px and then rescaled —
   * how the distilled models' training faces were made.
   */
  private faceChips(img: tf.Tensor3D, landmarks: FaceDetection['landmarks'][]): tf.Tensor4D {
    const { imageSize, margin } = this.preprocessing;
    const warpSize = Math.max(imageSize, FACE_CHIP_DEFAULTS.imageSize);
    const chips = alignFaces(img, landmarks, { imageSize: warpSize, points: faceChipPoints(warpSize, margin) });
    const resized = resizeFaces(chips, imageSize);
    if (resized !== chips) chips.dispose();
    return resized;
  }

  /**
   * The network's L2-normalised embeddings of face crops (`[n, s, s, 3]`, RGB 0…255), or of
   * their mirror images — without flip combination. Length {@link modelDimension}.
   */
  async embedCropsRaw(crops: tf.Tensor4D, opts: { mirror?: boolean } = {}): Promise<Float32Array[]> {
    this.checkLive();
    const [n, h, w, c] = crops.shape;
    const s = this.preprocessing.imageSize;
    if (h !== s || w !== s || c !== 3) throw new ShapeError('crops', `[n, ${s}, ${s}, 3]`, JSON.stringify(crops.shape));
    const out: Float32Array[] = [];
    for (let start = 0; start < n; start += this.batchSize) {
      const size = Math.min(this.batchSize, n - start);
      const emb = tf.tidy(() => {
        let x = tf.slice(crops, [start, 0, 0, 0], [size, s, s, 3]) as tf.Tensor4D;
        if (opts.mirror) x = tf.reverse(x, 2) as tf.Tensor4D;
        const y = this.run(standardizeFaces(x, this.preprocessing.standardization));
        if (y.rank !== 2 || y.shape[0] !== size || y.shape[1] !== this.modelDimension) {
          throw new ShapeError('model output', `[${size}, ${this.modelDimension}]`, JSON.stringify(y.shape));
        }
        return tf.div(y, tf.maximum(tf.norm(y, 'euclidean', 1, true), 1e-12));
      });
      const data = (await emb.data()) as Float32Array;
      emb.dispose();
      for (let i = 0; i < size; i++) out.push(data.slice(i * this.modelDimension, (i + 1) * this.modelDimension));
    }
    return out;
  }

  /**
   * Embeddings of face crops as the preprocessing says: with `flip`, each crop's embedding
   * concatenated with its mirror image's, divided by √2 (unit length).
   */
  async embedCrops(crops: tf.Tensor4D): Promise<Float32Array[]> {
    const plain = await this.embedCropsRaw(crops);
    if (!this.preprocessing.flip) return plain;
    const mirrored = await this.embedCropsRaw(crops, { mirror: true });
    const d = this.modelDimension;
    return plain.map((a, i) => {
      const v = new Float32Array(2 * d);
      for (let k = 0; k < d; k++) {
        v[k] = a[k] * Math.SQRT1_2;
        v[d + k] = mirrored[i][k] * Math.SQRT1_2;
      }
      return v;
    });
  }

  async embed(images: readonly ImageInput[]): Promise<Float32Array[]> {
    this.checkLive();
    const out: Float32Array[] = [];
    for (let start = 0; start < images.length; start += this.batchSize) {
      const chunk = images.slice(start, start + this.batchSize);
      const tensors: tf.Tensor3D[] = [];
      const crops: tf.Tensor4D[] = [];
      try {
        for (const im of chunk) tensors.push(await loadImage(im));
        const found = this.detector.detectBatch
          ? await this.detector.detectBatch(tensors)
          : await Promise.all(tensors.map((t) => this.detector.detect(t)));
        found.forEach((faces, i) => {
          if (faces.length === 0) {
            const im = chunk[i];
            throw new NoFaceError(typeof im === 'string' ? im : `image ${start + i}`);
          }
          crops.push(this.cropDetections(tensors[i], faces, 'main').crops);
        });
        const batch = crops.length === 1 ? crops[0] : (tf.concat(crops, 0) as tf.Tensor4D);
        try {
          out.push(...(await this.embedCrops(batch)));
        } finally {
          if (batch !== crops[0]) batch.dispose();
        }
      } finally {
        tensors.forEach((t) => t.dispose());
        crops.forEach((t) => t.dispose());
      }
    }
    return out;
  }

  async embedAllFaces(image: ImageInput): Promise<FaceEmbedding[]> {
    this.checkLive();
    const { detections, crops } = await this.cropFaces(image, 'all');
    try {
      const embs = detections.length ? await this.embedCrops(crops) : [];
      return detections.map((detection, i) => ({ detection, embedding: embs[i] }));
    } finally {
      crops.dispose();
    }
  }
}
