/**
 * Loading a FaceNet embedder from a model directory (Node only), with the preprocessing
 * recorded beside the model in `preprocessing.json`, so that every tool that uses the
 * model crops and standardizes faces the same way, and its calibration (`calibration.json`:
 * threshold and detection-score floor) so that every tool names faces the same way.
 */
import { ConfigError, FileNotFoundError, WeightsFormatError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { loadModel } from '../facenet/model-io.js';
import { loadMtcnn, type LoadMtcnnOptions } from '../mtcnn/detector.js';
import { checkCalibration, FacenetEmbedder, type FaceDetector, type FacenetEmbedderOptions } from './embedder.js';
import type { ModelCalibration, Preprocessing } from '../face/embedding.js';
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

/** Name of the calibration record (threshold, detection-score floor) in a model directory. */
export const CALIBRATION_FILE = 'calibration.json';

/** A JSON object record of a model directory, or undefined when the file is absent. */
async function readModelRecord<T>(modelDir: string, file: string, what: string): Promise<Partial<T> | undefined> {
  const { readFile } = nodeBuiltins('loading a model folder').fsp;
  const { join } = nodeBuiltins('loading a model folder').path;
  const path = join(modelDir, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const o = JSON.parse(text) as Partial<T>;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('not an object');
    return o;
  } catch (e) {
    throw new WeightsFormatError(path, `unreadable ${what} record: ${(e as Error).message}`);
  }
}

/**
 * The preprocessing recorded in a model directory, or undefined when there is none.
 * @throws {WeightsFormatError} for an unreadable record.
 */
export async function readModelPreprocessing(modelDir: string): Promise<Partial<Preprocessing> | undefined> {
  return readModelRecord<Preprocessing>(modelDir, PREPROCESSING_FILE, 'preprocessing');
}

/**
 * The calibration recorded in a model directory (see {@link ModelCalibration}), or undefined.
 * @throws {WeightsFormatError} for an unreadable record.
 */
export async function readModelCalibration(modelDir: string): Promise<ModelCalibration | undefined> {
  return (await readModelRecord<ModelCalibration>(modelDir, CALIBRATION_FILE, 'calibration')) as ModelCalibration | undefined;
}

/** Record a model's calibration beside it (atomically). */
export async function writeModelCalibration(modelDir: string, c: ModelCalibration): Promise<void> {
  const { join } = nodeBuiltins('writing a model folder').path;
  await writeFileAtomic(join(modelDir, CALIBRATION_FILE), JSON.stringify(checkCalibration(c), null, 2) + '\n');
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
  const calibration = await readModelCalibration(opts.modelDir);
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
      calibration,
      batchSize: opts.batchSize,
      owned,
    });
  } catch (e) {
    owned.forEach((r) => r.dispose());
    throw e;
  }
}
