/**
 * Face recognition in one object: detect → align → embed → match. Enrol people from a few
 * photos each, then identify every face of an image, or verify that two photos show the
 * same person. Wraps an embedder and a {@link Gallery}; works wherever they do.
 *
 * ```ts
 * const recognizer = await FaceRecognizer.load();          // the shipped model (Node)
 * await recognizer.enroll('amy', ['amy1.png', 'amy2.png']);
 * for (const face of await recognizer.identify('group.jpg')) console.log(face.name, face.box);
 * recognizer.dispose();
 * ```
 */
import { Gallery } from '../gallery/gallery.js';
import { embeddingDistance } from '../gallery/metric.js';
import type { ImageInput } from '../image/types.js';
import { identifyFaces, assertGalleryMatchesEmbedder, type IdentifiedFace, type IdentifyOptions } from './identify.js';
import { loadEmbedder, type LoadEmbedderByNameOptions } from './models.js';
import type { Embedder } from '../face/embedding.js';

/** An embedder that may own resources (a loaded one does). */
export type DisposableEmbedder = Embedder & { dispose?(): void };

/** Options of the {@link FaceRecognizer} constructor. */
export interface FaceRecognizerOptions {
  embedder: DisposableEmbedder;
  /** The people known so far. Default: a new empty gallery for this embedder. */
  gallery?: Gallery;
  /** Whether {@link FaceRecognizer.dispose} disposes the embedder. Default false (the caller's). */
  ownsEmbedder?: boolean;
}

/** The answer of {@link FaceRecognizer.verify}. */
export interface Verification {
  /** Distance between the two main faces, in the gallery's metric. */
  distance: number;
  /** The decision threshold used (the gallery's). */
  threshold: number;
  /** `distance < threshold`. */
  same: boolean;
}

export class FaceRecognizer {
  readonly embedder: DisposableEmbedder;
  readonly gallery: Gallery;
  private readonly ownsEmbedder: boolean;

  /** @throws {IncompatibleFileError} when `gallery` holds embeddings of another model or preprocessing. */
  constructor(opts: FaceRecognizerOptions) {
    this.embedder = opts.embedder;
    this.gallery =
      opts.gallery ??
      Gallery.create({
        dimension: opts.embedder.dimension,
        fingerprint: opts.embedder.fingerprint,
        preprocessing: { ...opts.embedder.preprocessing },
        threshold: opts.embedder.calibration?.threshold,
      });
    assertGalleryMatchesEmbedder(this.gallery, this.embedder);
    this.ownsEmbedder = opts.ownsEmbedder ?? false;
  }

  /**
   * Load a model ({@link loadEmbedder}: a shipped model's name, a folder or a URL) and wrap
   * it; the recognizer owns what it loaded.
   */
  static async load(model = 'default', opts: LoadEmbedderByNameOptions & { gallery?: Gallery } = {}): Promise<FaceRecognizer> {
    const { gallery, ...loadOptions } = opts;
    const embedder = await loadEmbedder(model, loadOptions);
    try {
      return new FaceRecognizer({ embedder, gallery, ownsEmbedder: true });
    } catch (e) {
      embedder.dispose();
      throw e;
    }
  }

  /**
   * Add a person: the main face of every image (file paths are kept as the sources).
   * @throws {NoFaceError} naming the first image without a face (nothing is added then).
   */
  async enroll(name: string, images: readonly ImageInput[]): Promise<void> {
    const embeddings = await this.embedder.embed(images);
    this.gallery.add(name, embeddings, images.map((i) => (typeof i === 'string' ? i : undefined)));
  }

  /** Every face of an image, with the identity it matches (or null when unknown). */
  identify(image: ImageInput, opts: IdentifyOptions = {}): Promise<IdentifiedFace[]> {
    return identifyFaces(this.gallery, this.embedder, image, opts);
  }

  /**
   * Whether the main faces of two images are the same person, by the gallery's metric and threshold.
   * @throws {NoFaceError} naming an image without a face.
   */
  async verify(a: ImageInput, b: ImageInput): Promise<Verification> {
    const [ea, eb] = await this.embedder.embed([a, b]);
    const distance = embeddingDistance(this.gallery.metric, ea, eb);
    const threshold = this.gallery.threshold;
    return { distance, threshold, same: distance < threshold };
  }

  /** Release the embedder when this recognizer loaded it (see {@link FaceRecognizerOptions.ownsEmbedder}). */
  dispose(): void {
    if (this.ownsEmbedder) this.embedder.dispose?.();
  }
}
