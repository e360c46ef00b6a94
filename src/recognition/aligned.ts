/**
 * Embedding images that already are aligned face crops (e.g. the output of
 * `tfjs-facenet align`, or facenet-pytorch's MTCNN crops): no detection, the whole image is
 * the face.
 */
import type { ImageInput } from '../image/types.js';
import { loadAlignedFaces, type FacenetEmbedder } from './embedder.js';

/**
 * The embedding of an image taken as an aligned face crop (resized to the model's input when
 * it differs, see `loadAlignedFaces`), with the embedder's standardization (and flip
 * combination, if its preprocessing says so).
 * @throws {ImageDecodeError} / {FileNotFoundError} for unreadable images.
 */
export async function embedAlignedFace(embedder: FacenetEmbedder, image: ImageInput): Promise<Float32Array> {
  const batch = await loadAlignedFaces([image], embedder.preprocessing.imageSize);
  try {
    return (await embedder.embedCrops(batch))[0];
  } finally {
    batch.dispose();
  }
}
