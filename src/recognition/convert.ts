/**
 * Turning pretrained FaceNet weights from elsewhere into a model directory of this library
 * (Node only): a facenet-pytorch `.pt` state dict or a davidsandberg/facenet TensorFlow
 * checkpoint becomes `model.json` + weights, `preprocessing.json` and `conversion.json`
 * (where it came from and the model's fingerprint), which `loadFacenetEmbedder`, every
 * `--model DIR` of the CLI, `loadModel` in the browser and galleries accept.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, WeightsFormatError } from '../errors.js';
import type { NamedArrays } from '../io/types.js';
import type { CheckpointImportReport } from '../facenet/checkpoint-import.js';
import { DEFAULT_PREPROCESSING, type Preprocessing } from '../face/embedding.js';

/** Name of the conversion record in a converted model directory. */
export const CONVERSION_FILE = 'conversion.json';

/** Options of {@link convertPretrainedModel}. */
export interface ConvertOptions {
  /** Input side of the converted model and its preprocessing. Default 160 (what both sources were trained at). */
  imageSize?: number;
  /** Crop margin recorded in the preprocessing (pixels, box crop). Default 32 (davidsandberg's LFW setting). */
  margin?: number;
  /**
   * Also write the classifier head (`Logits/weights` `[embedding, classes]`, `Logits/biases`)
   * as a TensorFlow checkpoint `logits/logits.ckpt` in the model directory. Default false:
   * embeddings do not need it.
   */
  keepLogits?: boolean;
  /** Ignore state-dict entries that are not facenet-pytorch InceptionResnetV1 parameters. Default false. */
  allowUnknown?: boolean;
}

/** What {@link convertPretrainedModel} wrote into `conversion.json`. */
export interface ConversionRecord {
  /** File or checkpoint converted (as given). */
  source: string;
  format: 'pytorch' | 'tensorflow-checkpoint';
  /** SHA-256 of the converted file: the `.pt`, or the checkpoint's `.index` (which holds a CRC of every tensor). */
  sourceSha256: string;
  /** {@link modelFingerprint} of the converted model: embedders and galleries report it. */
  fingerprint: string;
  embeddingSize: number;
  imageSize: number;
  /** Model variables loaded. */
  variables: number;
  /** Entries of the source that are not model weights (optimizer slots, counters, logits, …). */
  ignored: string[];
  /** Classes of the classifier head found in the source (0: none). */
  logitsClasses: number;
  /** Whether the classifier head was written to `logits/`. */
  logitsKept: boolean;
}

/** Whether `location` names a TensorFlow checkpoint (a directory, a `.index` file or a prefix with one) rather than a `.pt` file. */
async function isTfCheckpoint(location: string): Promise<boolean> {
  const { isDirectory } = await import('../io/node-fs.js');
  const { existsSync } = await import('node:fs');
  return (await isDirectory(location)) || location.endsWith('.index') || existsSync(`${location}.index`);
}

/**
 * The checkpoint prefix of `location`. A directory without a `checkpoint` state file (the
 * released davidsandberg/facenet model folders have none) must hold exactly one `.index` file.
 */
async function checkpointPrefix(location: string): Promise<string> {
  const { isDirectory } = await import('../io/node-fs.js');
  const { existsSync } = await import('node:fs');
  const { readdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { resolveCheckpointPrefix } = await import('../io/tf-checkpoint.js');
  if ((await isDirectory(location)) && !existsSync(join(location, 'checkpoint'))) {
    const indexes = (await readdir(location)).filter((f) => f.endsWith('.index'));
    if (indexes.length !== 1) {
      throw new WeightsFormatError(location, `a checkpoint directory needs a 'checkpoint' file or exactly one .index file, found ${indexes.length}`);
    }
    return join(location, indexes[0].slice(0, -'.index'.length));
  }
  return resolveCheckpointPrefix(location);
}

/**
 * Convert pretrained weights into a model directory `outDir` (created if needed; every
 * file written atomically). The architecture (embedding size, width, blocks, batch-norm
 * scale) is read from the weights.
 *
 * @throws {@link FileNotFoundError} / {@link WeightsFormatError} naming the source when it
 *   cannot be read or is not a FaceNet Inception-ResNet-v1; {@link ConfigError} for bad options.
 */
export async function convertPretrainedModel(source: string, outDir: string, options: ConvertOptions = {}): Promise<ConversionRecord> {
  const imageSize = options.imageSize ?? 160;
  const margin = options.margin ?? DEFAULT_PREPROCESSING.margin;
  if (!(Number.isFinite(margin) && margin >= 0)) throw new ConfigError('margin', `must be a number of pixels ≥ 0, got ${margin}`);
  const { createHash } = await import('node:crypto');
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { saveModel } = await import('../facenet/model-io.js');
  const { writeFileAtomic } = await import('../util/atomic.js');
  const { writeModelPreprocessing } = await import('./load.js');
  const { modelFingerprint } = await import('./embedder.js');

  let model: tfl.LayersModel;
  let report: CheckpointImportReport;
  let logits: NamedArrays = new Map();
  let logitsClasses = 0;
  let format: ConversionRecord['format'];
  let hashedFile: string;
  if (await isTfCheckpoint(source)) {
    format = 'tensorflow-checkpoint';
    const { readTfCheckpoint } = await import('../io/tf-checkpoint.js');
    const { isModelVariableName, modelFromCheckpointVariables } = await import('../facenet/checkpoint-import.js');
    const prefix = await checkpointPrefix(source);
    hashedFile = `${prefix}.index`;
    const vars = await readTfCheckpoint(prefix, { filter: (n) => isModelVariableName(n) || n.startsWith('Logits/') });
    for (const name of ['Logits/weights', 'Logits/biases']) {
      const v = vars.get(name);
      if (v) logits.set(name, v);
    }
    logitsClasses = logits.get('Logits/weights')?.shape[1] ?? 0;
    ({ model, report } = modelFromCheckpointVariables(vars, { inputSize: imageSize }, source));
  } else {
    format = 'pytorch';
    hashedFile = source;
    const { importFacenetTorchFile } = await import('../facenet/torch-import.js');
    const imported = await importFacenetTorchFile(source, { model: { inputSize: imageSize }, allowUnknown: options.allowUnknown });
    ({ model, report, logits } = imported);
    logitsClasses = imported.report.logitsClasses;
  }
  try {
    const sourceSha256 = createHash('sha256').update(await readFile(hashedFile)).digest('hex');
    const logitsKept = !!options.keepLogits && logits.size > 0;
    if (options.keepLogits && !logitsKept) throw new ConfigError('keepLogits', `${source} has no classifier head (logits)`);
    await saveModel(model, outDir);
    const preprocessing: Preprocessing = { ...DEFAULT_PREPROCESSING, imageSize, margin, alignment: 'crop', standardization: 'fixed', flip: false };
    await writeModelPreprocessing(outDir, preprocessing);
    if (logitsKept) {
      const { writeTfCheckpoint } = await import('../io/tf-checkpoint.js');
      await writeTfCheckpoint(join(outDir, 'logits', 'logits.ckpt'), logits);
    }
    const embeddingShape = model.outputs[model.outputs.length - 1].shape;
    const record: ConversionRecord = {
      source,
      format,
      sourceSha256,
      fingerprint: await modelFingerprint(model),
      embeddingSize: embeddingShape[1] as number,
      imageSize,
      variables: report.loaded.length,
      ignored: report.ignored,
      logitsClasses,
      logitsKept,
    };
    await writeFileAtomic(join(outDir, CONVERSION_FILE), JSON.stringify(record, null, 2) + '\n');
    return record;
  } finally {
    model.dispose();
  }
}
