/**
 * The MTCNN face detector: three cascaded networks (P-Net proposals over an image pyramid,
 * R-Net refinement, O-Net refinement and five landmarks), reproducing davidsandberg/facenet's
 * `detect_face` exactly — or, with the seed's weights, the seed project's detector.
 */
import { ConfigError, DisposedError } from '../errors.js';
import type { ImageInput } from '../image/types.js';
import { detectFacenet, trackFacenet } from './pipeline-facenet.js';
import { detectSeed } from './pipeline-seed.js';
import {
  DEFAULT_OPTIONS,
  resolveOptions,
  StageTimer,
  type MtcnnOptions,
  type MtcnnTimings,
  type ResolvedOptions,
} from './pipeline-types.js';
import { readPixels } from './stages.js';
import { scaleDetection, shiftDetection, type Box, type FaceDetection } from '../face/types.js';
import { padEdge } from '../image/pixels.js';
import { firstLevelPixels, MAX_PYRAMID_LEVEL_PIXELS } from './pyramid.js';
import { disposeParams, loadMtcnnParams, type MtcnnParams, type MtcnnWeightsSource } from './weights.js';

/**
 * A loaded detector. Holds the network weights as tensors until {@link Mtcnn.dispose}.
 *
 * ```ts
 * const mtcnn = await loadMtcnn();            // the shipped weights, reference settings
 * const faces = await mtcnn.detect('group.jpg');
 * for (const f of faces) console.log(f.box, f.score, f.landmarks);
 * mtcnn.dispose();
 * ```
 */
export class Mtcnn {
  /** The settings used when a call passes none (the variant's defaults merged with the load options). */
  readonly options: ResolvedOptions;
  /** Format of the loaded weights: `caffe`, `faceapi` or `seed`. */
  readonly weightsFormat: string;
  /** Per-stage times of the most recent {@link detect} / {@link detectBatch} call. */
  lastTimings: MtcnnTimings | null = null;
  private params: MtcnnParams | null;

  /**
   * @param params network weights (see `paramsFromCaffe`, `paramsFromFaceApi`, `paramsFromSeed`);
   *   the detector takes ownership and disposes them in {@link dispose}.
   * @param options settings overriding the defaults of the weights' variant.
   */
  constructor(params: MtcnnParams, options: MtcnnOptions = {}) {
    this.params = params;
    this.weightsFormat = params.format;
    this.options = resolveOptions(DEFAULT_OPTIONS[params.variant], options);
  }

  /** `facenet` (the reference's pipeline) or `seed`. */
  get variant(): MtcnnParams['variant'] {
    return this.live().variant;
  }

  private live(): MtcnnParams {
    if (!this.params) throw new DisposedError('Mtcnn');
    return this.params;
  }

  /**
   * Detect the faces in one image.
   *
   * @returns faces in decreasing order of the final pick (highest score first); boxes are
   *   `[x1, y1, x2, y2]` exactly as the reference returns them (after the last regression,
   *   not squared, not clipped to the image). A file or encoded bytes larger than
   *   `MAX_DECODE_PIXELS` is searched downscaled, and its boxes are given in its own pixels.
   * @throws {ImageDecodeError} / {FileNotFoundError} for an unreadable image,
   *   {ConfigError} for bad options.
   */
  async detect(image: ImageInput, opts?: MtcnnOptions): Promise<FaceDetection[]> {
    return (await this.detectBatch([image], opts))[0];
  }

  /**
   * Detect the faces in many images. P-Net runs per pyramid level (levels of equal size
   * across images share a call); R-Net and O-Net each run once on the crops of all images.
   * Results are identical to calling {@link detect} on each image.
   */
  async detectBatch(images: readonly ImageInput[], opts?: MtcnnOptions): Promise<FaceDetection[][]> {
    const params = this.live();
    const o = opts ? resolveOptions(this.options, opts) : this.options;
    const t0 = performance.now();
    const pixels: Awaited<ReturnType<typeof readPixels>>[] = [];
    for (const img of images) pixels.push(await readPixels(img));
    const timer = new StageTimer();
    const run = params.variant === 'seed' ? detectSeed : detectFacenet;
    const result = await run(params, pixels, o, timer);
    if (o.missPadding > 0) {
      // Images without a face: once more with a border copied from their edges (see missPadding).
      // Only where the bordered image still fits the pyramid: the second search must not fail
      // where the first did not.
      const border = (p: { width: number; height: number }) => Math.round(o.missPadding * Math.max(p.width, p.height));
      const missed = result.flatMap((faces, i) => {
        const b = 2 * border(pixels[i]!);
        const fits = firstLevelPixels(pixels[i]!.height + b, pixels[i]!.width + b, o.minFaceSize) <= MAX_PYRAMID_LEVEL_PIXELS;
        return faces.length === 0 && fits ? [i] : [];
      });
      const borders = missed.map((i) => border(pixels[i]!));
      const again = missed.length > 0 ? await run(params, missed.map((i, k) => padEdge(pixels[i], borders[k])), o, timer) : [];
      missed.forEach((i, k) => (result[i] = again[k].map((f) => shiftDetection(f, -borders[k], -borders[k]))));
    }
    this.lastTimings = { ...timer.times, total: performance.now() - t0 };
    // A file decoded downscaled (past the decoder's pixel cap): boxes in the file's pixels.
    return result.map((faces, i) => faces.map((f) => scaleDetection(f, 1 / pixels[i].scale)));
  }

  /**
   * Follow faces from an earlier frame of a video into this one without the P-Net stage:
   * R-Net and O-Net look only around `previous` boxes (each squared, and once more with
   * some room for motion), so a frame costs a few crops instead of a whole image pyramid.
   * Faces that moved far, or new faces, are not found — run {@link detect} every few frames
   * and whenever fewer faces come back than went in.
   *
   * @param previous boxes `[x1, y1, x2, y2]`, e.g. the `box` of the faces {@link detect}
   *   found in the previous frame.
   * @returns the faces found, as {@link detect} returns them (at most about one per box).
   * @throws {ConfigError} with the seed's weights (whose pipeline has no such entry),
   *   {ImageDecodeError} / {FileNotFoundError} for an unreadable image.
   */
  async track(image: ImageInput, previous: readonly Readonly<Box>[], opts?: MtcnnOptions): Promise<FaceDetection[]> {
    const params = this.live();
    if (params.variant === 'seed') throw new ConfigError('weights', "track() needs the facenet pipeline; the seed's weights only detect()");
    for (const b of previous) {
      if (b.length !== 4 || !b.every(Number.isFinite) || !(b[2] > b[0] && b[3] > b[1])) {
        throw new ConfigError('previous', `each box must be four finite numbers [x1, y1, x2, y2] with x2 > x1 and y2 > y1, got ${JSON.stringify(b)}`);
      }
    }
    const o = opts ? resolveOptions(this.options, opts) : this.options;
    const t0 = performance.now();
    const pixels = await readPixels(image);
    const timer = new StageTimer();
    // Boxes come and go in the file's own pixels, also for a file decoded downscaled.
    const s = pixels.scale;
    const inDecoded = s === 1 ? previous : previous.map((b) => b.map((v) => v * s) as Box);
    const [result] = await trackFacenet(params, [pixels], [inDecoded], o, timer);
    this.lastTimings = { ...timer.times, total: performance.now() - t0 };
    return s === 1 ? result : result.map((f) => scaleDetection(f, 1 / s));
  }

  /** Release the weight tensors. The detector cannot be used afterwards. */
  dispose(): void {
    if (this.params) disposeParams(this.params);
    this.params = null;
  }
}

/** Options of {@link loadMtcnn}: where the weights are, plus detector settings. */
export interface LoadMtcnnOptions extends MtcnnOptions {
  /**
   * Default: the weights shipped in the package (`models/mtcnn`, face-api.js's conversion of
   * the original MTCNN, found relative to the package from any working directory). Or a
   * named set found with `weightsDir` / env `TFJS_FACENET_WEIGHTS` / the download cache:
   * `'caffe'` (davidsandberg/facenet's det1-3.npy, the same numbers), `'faceapi'`, `'seed'`
   * (the seed's re-trained checkpoints, with the seed's pipeline and defaults); or a folder
   * holding any of these.
   */
  weights?: MtcnnWeightsSource;
  /**
   * Folder that holds the named set (`<dir>/mtcnn-caffe/…` or the set's files directly).
   * Default: env `TFJS_FACENET_WEIGHTS`, then the download cache. Given alone (no
   * `weights`), the `caffe` set is read from it.
   */
  weightsDir?: string;
}

/**
 * Load the MTCNN detector (Node: reads weight files).
 *
 * @throws {FileNotFoundError} when the weights cannot be found,
 *   {WeightsFormatError} when they are damaged, {ConfigError} for bad options.
 */
export async function loadMtcnn(opts: LoadMtcnnOptions = {}): Promise<Mtcnn> {
  const { weights, weightsDir, ...detectorOptions } = opts;
  const params = await loadMtcnnParams(weights, weightsDir);
  try {
    return new Mtcnn(params, detectorOptions);
  } catch (e) {
    disposeParams(params);
    throw e;
  }
}
