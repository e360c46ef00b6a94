/**
 * A (meaningless but deterministic) face-embedding pipeline for the end-to-end tests of
 * the embedder, the gallery and the LFW benchmark.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { setupBackend } from './helpers.js';
import { loadMtcnn, type Mtcnn } from '../src/mtcnn/detector.js';
import { buildInceptionResnetV1 } from '../src/facenet/index.js';
import { FacenetEmbedder } from '../src/recognition/embedder.js';
import { saveModel } from '../src/facenet/model-io.js';
import { writeModelPreprocessing } from '../src/recognition/load.js';

/**
 * A tiny Inception-ResNet-v1 (80 px input, one block of each kind, a quarter of the width,
 * 16-d embeddings): fast enough for end-to-end tests, and recognises nobody.
 */
export const TINY_FACENET = {
  inputSize: 80,
  blockRepeats: { block35: 1, block17: 1, block8: 1 },
  widthMultiplier: 0.25,
  embeddingSize: 16,
} as const;

/** The pieces of an embedding pipeline built by {@link createTinyEmbedder}; the caller disposes `mtcnn` and `model`. */
export interface TinyEmbedder {
  mtcnn: Mtcnn;
  model: tfl.LayersModel;
  embedder: FacenetEmbedder;
}

/**
 * The test backend, the default MTCNN, a {@link TINY_FACENET} network initialised from `seed`,
 * and an embedder on them with a 16-pixel crop margin.
 */
export async function createTinyEmbedder(seed: number): Promise<TinyEmbedder> {
  await setupBackend();
  const mtcnn = await loadMtcnn();
  const model = buildInceptionResnetV1({ ...TINY_FACENET, seed });
  const embedder = await FacenetEmbedder.create({ model, detector: mtcnn, preprocessing: { margin: 16 } });
  return { mtcnn, model, embedder };
}

/**
 * A {@link createTinyEmbedder} network saved as a model folder at `dir` (model + its
 * preprocessing), for tests that run the CLI with `--model dir`; nothing stays loaded.
 */
export async function saveTinyModel(dir: string, seed: number): Promise<void> {
  const { mtcnn, model, embedder } = await createTinyEmbedder(seed);
  try {
    await saveModel(model, dir);
    await writeModelPreprocessing(dir, embedder.preprocessing);
  } finally {
    mtcnn.dispose();
    model.dispose();
  }
}
