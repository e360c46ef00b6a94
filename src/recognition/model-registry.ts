/**
 * The recognition models shipped with the package, by name: plain data, so that what needs
 * only the names (the CLI's help) does not load TensorFlow.js. {@link loadEmbedder} loads them.
 *
 * A model added to the package gets an entry here (and its folder under the package root).
 */
import { DEFAULT_MODEL_DIR } from './default-model.js';

/** A model shipped with the package. */
export interface ShippedModel {
  /** Its folder, relative to the package root. */
  dir: string;
  /** One line: what it is and how it was made. */
  description: string;
}

/** The shipped models, by name. `'default'` is what {@link loadEmbedder} loads when given nothing. */
export const RECOGNITION_MODELS: Readonly<Record<string, ShippedModel>> = Object.freeze({
  default: {
    dir: DEFAULT_MODEL_DIR,
    description: "the default: dlib's face-recognition ResNet (the most accurate model shipped; see 'dlib')",
  },
  dlib: {
    dir: 'models/dlib',
    description: "dlib's face-recognition ResNet (150 px chip, 128-d), weights from face-api.js, public domain",
  },
  'facenet-distilled': {
    dir: 'models/facenet-distilled',
    description: "FaceNet (Inception-ResNet-v1, 96 px, width ½, 128-d) distilled by tfjs-facenet from dlib's embeddings of 22,585 CelebA faces, embedded with its mirror image; 0.8× dlib's cost (non-commercial)",
  },
  'facenet-celeba': {
    dir: 'models/facenet-celeba',
    description: 'FaceNet (Inception-ResNet-v1, 96 px, width ½, 128-d) trained by tfjs-facenet on 249 CelebA people (non-commercial)',
  },
});

/** `'default'`'s other name: the shipped model whose folder it shares. */
export function defaultModelName(): string {
  return Object.keys(RECOGNITION_MODELS).find((k) => k !== 'default' && RECOGNITION_MODELS[k].dir === RECOGNITION_MODELS.default.dir) ?? 'default';
}
