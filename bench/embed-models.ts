/**
 * The recognition models bench/embed.ts times, made the same way in the main thread and in
 * its worker threads: a shipped model by name (models/<name>), or `full160` — the full
 * Inception-ResNet-v1 at 160 px, 512-d, with fixed random weights (a trained model's compute).
 */
import { join, resolve } from 'node:path';
import type { FaceDetector } from '../src/recognition/embedder.js';
import { FacenetEmbedder } from '../src/recognition/embedder.js';
import { loadFacenetEmbedder } from '../src/recognition/load.js';
import { buildInceptionResnetV1 } from '../src/facenet/inception-resnet-v1.js';

/** Name of the synthetic full-size model. */
export const FULL160 = 'full160';

const root = resolve(import.meta.dirname, '..');

/** A detector for embedders that are only given crops: never called. */
const NO_DETECTOR: FaceDetector = {
  detect: () => Promise.reject(new Error('bench:embed embeds prepared crops; it never detects')),
};

/**
 * Load model `name` as an embedder. `detector` cuts the crops in the main thread; the
 * workers only embed prepared crops and pass none.
 */
export async function loadBenchModel(name: string, detector: FaceDetector = NO_DETECTOR): Promise<FacenetEmbedder> {
  if (name === FULL160) {
    const model = buildInceptionResnetV1({ inputSize: 160, embeddingSize: 512, seed: 15 });
    return FacenetEmbedder.create({
      model,
      detector,
      preprocessing: { imageSize: 160, margin: 32, alignment: 'crop', standardization: 'fixed', flip: false },
      owned: [model],
    });
  }
  const modelDir = /^[\w-]+$/.test(name) ? join(root, 'models', name) : resolve(name);
  return loadFacenetEmbedder({ modelDir, detector });
}
