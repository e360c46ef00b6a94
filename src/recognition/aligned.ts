/**
 * Embedding images that already are aligned face crops (e.g. the output of
 * `tfjs-facenet align`, or facenet-pytorch's MTCNN crops): no detection, the whole image is
 * the face.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadImage } from '../image/load.js';
import type { ImageInput } from '../image/types.js';
import type { FacenetEmbedder } from './embedder.js';

/**
 * `[1, size, size, 3]` from an RGB image: unchanged when it already is `size × size`, else
 * resized bilinearly (half-pixel centres, as OpenCV's and PIL's bilinear resize sample).
 * The caller disposes the result.
 */
export function alignedFaceBatch(image: tf.Tensor3D, size: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [h, w] = image.shape;
    const resized = h === size && w === size ? image : tf.image.resizeBilinear(image, [size, size], false, true);
    return tf.expandDims(resized, 0) as tf.Tensor4D;
  });
}

/**
 * The embedding of an image taken as an aligned face crop, with the embedder's
 * standardization (and flip combination, if its preprocessing says so).
 * @throws {ImageDecodeError} / {FileNotFoundError} for unreadable images.
 */
export async function embedAlignedFace(embedder: FacenetEmbedder, image: ImageInput): Promise<Float32Array> {
  const img = await loadImage(image);
  let batch: tf.Tensor4D | undefined;
  try {
    batch = alignedFaceBatch(img, embedder.preprocessing.imageSize);
    return (await embedder.embedCrops(batch))[0];
  } finally {
    img.dispose();
    batch?.dispose();
  }
}
