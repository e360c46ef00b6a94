/**
 * A stand-in recognition model for the examples until a trained default model exists: a
 * small Inception-ResNet-v1 with seeded random weights, saved like any model directory
 * (model.json + weights + preprocessing.json) so that it is loaded through the same path
 * as a real one. Its embeddings carry no identity information: it names only faces whose
 * exact picture was enrolled.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildInceptionResnetV1, DEFAULT_PREPROCESSING, saveModel, writeModelPreprocessing } from 'tfjs-facenet/node';
import type { InceptionResnetV1Options, Preprocessing } from 'tfjs-facenet/node';

/** Architecture and seed of the placeholder: 80 px input, quarter width, one block per stage. */
export const PLACEHOLDER_MODEL_OPTIONS: Readonly<InceptionResnetV1Options> = Object.freeze({
  inputSize: 80,
  widthMultiplier: 0.25,
  blockRepeats: { block35: 1, block17: 1, block8: 1 },
  embeddingSize: 64,
  seed: 20240611,
});

/** The reference preprocessing scaled to the 80 px input (margin 32 px at 160 px → 16 px). */
export const PLACEHOLDER_PREPROCESSING: Readonly<Preprocessing> = Object.freeze({
  ...DEFAULT_PREPROCESSING,
  imageSize: 80,
  margin: 16,
});

/** Build the placeholder model and save it to `dir` (created if needed). Returns `dir`. */
export async function writePlaceholderModel(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const model = buildInceptionResnetV1(PLACEHOLDER_MODEL_OPTIONS);
  try {
    await saveModel(model, dir);
  } finally {
    model.dispose();
  }
  await writeModelPreprocessing(dir, PLACEHOLDER_PREPROCESSING);
  await writeFile(
    join(dir, 'README.txt'),
    'Untrained placeholder FaceNet (seeded random weights) written by examples/common/placeholder-model.ts.\n' +
      'It recognises only pictures that were themselves enrolled. Replace it with a trained model.\n',
  );
  return dir;
}
