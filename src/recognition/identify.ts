/**
 * Identifying faces: every face of an image, embedded and matched against a gallery. Works
 * wherever the embedder does (Node, browser); the gallery must hold embeddings of the same
 * model and preprocessing.
 */
import type { Box } from '../face/types.js';
import type { ImageInput } from '../image/types.js';
import { checkGalleryCompatible } from '../gallery/format.js';
import type { Gallery, MatchCandidate, MatchOptions } from '../gallery/gallery.js';
import type { Embedder, FaceEmbedding } from '../face/embedding.js';

/**
 * Refuse to mix embeddings: a gallery that records a model fingerprint or preprocessing
 * only accepts an embedder with the same ones (and always the same dimension).
 * @throws {IncompatibleFileError} naming `source`.
 */
export function assertGalleryMatchesEmbedder(
  gallery: Pick<Gallery, 'dimension' | 'fingerprint' | 'preprocessing'>,
  embedder: Embedder,
  source = 'gallery',
): void {
  checkGalleryCompatible(
    gallery,
    {
      dimension: embedder.dimension,
      fingerprint: gallery.fingerprint ? embedder.fingerprint : undefined,
      preprocessing: gallery.preprocessing ? { ...embedder.preprocessing } : undefined,
    },
    source,
  );
}

/** Options of {@link identifyFaces}. */
export interface IdentifyOptions extends MatchOptions {
  /**
   * Faces detected with a lower score are reported unnamed. Default: the model's
   * `calibration.minDetectionScore`, else 0 ({@link nameFaces}: 0).
   */
  minDetectionScore?: number;
}

/** One face found by {@link identifyFaces}. */
export interface IdentifiedFace {
  /** `[x1, y1, x2, y2]` in the image's own pixels (also for a file decoded downscaled). */
  box: Box;
  score: number;
  /** The identity, or null when unknown. */
  name: string | null;
  distance: number;
  candidates: MatchCandidate[];
}

/** Find and identify every face of one image (a file, a decoded frame, a tensor, a browser image). */
export async function identifyFaces(
  gallery: Gallery,
  embedder: Embedder,
  image: ImageInput,
  opts: IdentifyOptions = {},
): Promise<IdentifiedFace[]> {
  assertGalleryMatchesEmbedder(gallery, embedder);
  const minDetectionScore = opts.minDetectionScore ?? embedder.calibration?.minDetectionScore;
  return nameFaces(gallery, await embedder.embedAllFaces(image), { ...opts, minDetectionScore });
}

/**
 * Name faces already embedded (by an embedder compatible with `gallery`): the matching half
 * of {@link identifyFaces}, for embeddings computed elsewhere (a worker, a `FacePool`).
 */
export function nameFaces(gallery: Gallery, faces: readonly FaceEmbedding[], opts: IdentifyOptions = {}): IdentifiedFace[] {
  if (faces.length === 0) return [];
  const { minDetectionScore = 0, ...matchOptions } = opts;
  const matches = gallery.matchMany(
    faces.map((f) => f.embedding),
    matchOptions,
  );
  return faces.map((f, i) => ({
    box: f.detection.box,
    score: f.detection.score,
    // A detection scoring below the floor is most likely not a face: never name it.
    name: f.detection.score >= minDetectionScore ? matches[i].name : null,
    distance: matches[i].distance,
    candidates: matches[i].candidates,
  }));
}

