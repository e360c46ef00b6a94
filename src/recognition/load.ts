/**
 * Loading a FaceNet embedder from a model directory (Node only), with the preprocessing
 * recorded beside the model in `preprocessing.json`, so that every tool that uses the
 * model crops and standardizes faces the same way.
 */
import { ConfigError, FileNotFoundError, WeightsFormatError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { loadModel } from '../facenet/model-io.js';
import { loadMtcnn, type LoadMtcnnOptions } from '../mtcnn/detector.js';
import { FacenetEmbedder, type FaceDetector, type FacenetEmbedderOptions } from './embedder.js';
import type { Preprocessing } from '../face/embedding.js';
import { nodeBuiltins } from '../runtime/node-platform.js';

/** Name of the preprocessing record in a model directory. */
export const PREPROCESSING_FILE = 'preprocessing.json';

/** Record the preprocessing a model expects beside it (atomically). */
export async function writeModelPreprocessing(modelDir: string, p: Preprocessing): Promise<void> {
  const { join } = nodeBuiltins('loading a model folder').path;
  const { imageSize, margin, alignment, standardization, flip } = p;
  const record = { imageSize, margin, alignment, standardization, flip };
  await writeFileAtomic(join(modelDir, PREPROCESSING_FILE), JSON.stringify(record, null, 2) + '\n');
}

/**
 * The preprocessing recorded in a model directory, or undefined when there is none.
 * @throws {WeightsFormatError} for an unreadable record.
 */
export async function readModelPreprocessing(modelDir: string): Promise<Partial<Preprocessing> | undefined> {
  const { readFile } = nodeBuiltins('loading a model folder').fsp;
  const { join } = nodeBuiltins('loading a model folder').path;
  const path = join(modelDir, PREPROCESSING_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const o = JSON.parse(text) as Partial<Preprocessing>;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('not an object');
    return o;
  } catch (e) {
    throw new WeightsFormatError(path, `unreadable preprocessing record: ${(e as Error).message}`);
  }
}

/** Options of {@link loadFacenetEmbedder}. */
export interface LoadEmbedderOptions {
  /** Directory of a model saved with `saveModel` (model.json + weights). */
  modelDir: string;
  /** Face detector; default `loadMtcnn(detectorOptions)`. */
  detector?: FaceDetector;
  /** Options of the default detector. */
  detectorOptions?: LoadMtcnnOptions;
  /**
   * Preprocessing overrides. Fields not given come from the model directory's
   * `preprocessing.json`, then the defaults.
   */
  preprocessing?: Partial<Preprocessing>;
  batchSize?: FacenetEmbedderOptions['batchSize'];
}

/**
 * Load a model directory as an embedder. `embedder.dispose()` releases the network and
 * the detector when it was created here (a detector passed in stays the caller's).
 * @throws {FileNotFoundError} when the directory has no model.
 */
export async function loadFacenetEmbedder(opts: LoadEmbedderOptions): Promise<FacenetEmbedder> {
  if (!opts.modelDir) throw new ConfigError('modelDir', 'a model directory is required');
  let model;
  try {
    model = await loadModel(opts.modelDir);
  } catch (e) {
    if (e instanceof FileNotFoundError || e instanceof WeightsFormatError) throw e;
    throw new WeightsFormatError(opts.modelDir, (e as Error).message, { cause: e });
  }
  const recorded = await readModelPreprocessing(opts.modelDir);
  const created = opts.detector ? null : await loadMtcnn(opts.detectorOptions).catch((e) => {
    model.dispose();
    throw e;
  });
  const detector = opts.detector ?? created!;
  const owned = created ? [model, created] : [model];
  try {
    return await FacenetEmbedder.create({
      model,
      detector,
      preprocessing: { ...recorded, ...opts.preprocessing },
      batchSize: opts.batchSize,
      owned,
    });
  } catch (e) {
    owned.forEach((r) => r.dispose());
    throw e;
  }
}
