/**
 * Import and export of FaceNet weights under the reference's TensorFlow variable names
 * (davidsandberg/facenet checkpoints such as 20180402-114759 `model-….ckpt-275`).
 *
 * The model's layer names are the reference's variable scopes below `InceptionResnetV1/`
 * (see `inception-resnet-v1.ts`), so a weight maps to its checkpoint variable by name:
 *
 * | layer kind                     | weight            | checkpoint variable                         |
 * |--------------------------------|-------------------|---------------------------------------------|
 * | conv `S` / dense `Bottleneck`  | kernel            | `InceptionResnetV1/S/weights`               |
 * | block up-projection `S`        | bias              | `InceptionResnetV1/S/biases`                |
 * | batch norm `S/BatchNorm`       | beta, moving_mean, moving_variance (gamma) | `InceptionResnetV1/S/BatchNorm/beta` … |
 *
 * Kernel layouts agree: TF conv kernels are `[kh, kw, in, out]` and dense kernels
 * `[in, out]`, as in TensorFlow.js. Checkpoint variables outside the model (optimizer
 * slots such as `…/Adam`, `global_step`, center-loss `centers`, the softmax `Logits/…`)
 * are ignored.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, WeightsFormatError } from '../errors.js';
import type { NamedArray, NamedArrays } from '../io/types.js';
import { buildInceptionResnetV1, type InceptionResnetV1Options } from './inception-resnet-v1.js';

/** Top-level variable scope of the reference model. */
export const REFERENCE_SCOPE = 'InceptionResnetV1';

/** tfjs-layers weight name → TF-slim variable name. */
const WEIGHT_TO_TF: Record<string, string> = {
  kernel: 'weights',
  bias: 'biases',
  beta: 'beta',
  gamma: 'gamma',
  moving_mean: 'moving_mean',
  moving_variance: 'moving_variance',
};

/** Parameter names the reference model's layers create (the last path segment). */
const MODEL_PARAMETER_NAMES = new Set(Object.values(WEIGHT_TO_TF));

/** One model weight and the checkpoint variable it corresponds to. */
export interface MappedVariable {
  /** Checkpoint variable name, e.g. `InceptionResnetV1/Conv2d_1a_3x3/BatchNorm/beta`. */
  name: string;
  /** The model weight. */
  variable: tfl.LayerVariable;
  /** Its shape. */
  shape: number[];
}

/**
 * The checkpoint name of every weight of `model` (trainable and moving statistics), in
 * model order. Throws {@link ConfigError} for a weight this mapping does not know.
 */
export function checkpointVariableMap(model: tfl.LayersModel): MappedVariable[] {
  const out: MappedVariable[] = [];
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      // originalName is `<layer name>/<weight name>` (layer names contain '/', too).
      const prefix = `${layer.name}/`;
      if (!w.originalName.startsWith(prefix)) {
        throw new ConfigError('model', `weight ${w.originalName} does not belong to layer ${layer.name}`);
      }
      const short = w.originalName.slice(prefix.length);
      const tfName = WEIGHT_TO_TF[short];
      if (!tfName) throw new ConfigError('model', `weight ${w.originalName} has no checkpoint counterpart`);
      out.push({ name: `${REFERENCE_SCOPE}/${layer.name}/${tfName}`, variable: w, shape: w.shape as number[] });
    }
  }
  return out;
}

/**
 * True for a checkpoint variable name that could be a weight of the reference model
 * (`InceptionResnetV1/…/weights|biases|beta|gamma|moving_mean|moving_variance`); false
 * for optimizer slots, `global_step`, `centers`, `Logits/…` and the like.
 */
export function isModelVariableName(name: string): boolean {
  if (!name.startsWith(`${REFERENCE_SCOPE}/`)) return false;
  const last = name.slice(name.lastIndexOf('/') + 1);
  return MODEL_PARAMETER_NAMES.has(last);
}

/** The model's weights under their checkpoint names (float32), e.g. to write a TF checkpoint. */
export async function exportCheckpointVariables(model: tfl.LayersModel): Promise<NamedArrays> {
  const vars: NamedArrays = new Map();
  for (const { name, variable, shape } of checkpointVariableMap(model)) {
    const t = variable.read();
    const data = (await t.data()) as Float32Array;
    vars.set(name, { shape: [...shape], dtype: 'float32', data: Float32Array.from(data) });
  }
  return vars;
}

/** What {@link loadCheckpointVariables} did. */
export interface CheckpointImportReport {
  /** Checkpoint variables written into the model. */
  loaded: string[];
  /** Checkpoint variables that are not model weights (optimizer slots, global_step, Logits, centers, …). */
  ignored: string[];
  /** Model weights the checkpoint lacked (left unchanged; only with `allowMissing`). */
  missing: string[];
}

/** Options of {@link loadCheckpointVariables}. */
export interface LoadCheckpointOptions {
  /** Leave model weights the checkpoint lacks unchanged instead of throwing. Default false. */
  allowMissing?: boolean;
  /**
   * Ignore checkpoint variables that look like model weights but have no place in this model
   * (e.g. a checkpoint with more blocks). Default false: they mean the architecture differs, so throw.
   */
  allowUnexpected?: boolean;
  /** Where the variables came from, for error messages. Default 'checkpoint'. */
  source?: string;
}

function toFloat32(a: NamedArray, name: string, source: string): Float32Array {
  if (a.dtype === 'float32') return a.data as Float32Array;
  if (a.dtype === 'float64') return Float32Array.from(a.data as Float64Array);
  throw new WeightsFormatError(source, `${name} has dtype ${a.dtype}, expected float32`);
}

/**
 * Copy checkpoint variables (reference names) into `model`'s weights.
 *
 * @throws {@link WeightsFormatError} when a variable has the wrong shape or dtype, a model
 *   weight is missing (unless `allowMissing`), or a model-like variable has no place in the
 *   model (unless `allowUnexpected`).
 */
export function loadCheckpointVariables(
  model: tfl.LayersModel,
  vars: NamedArrays,
  options: LoadCheckpointOptions = {},
): CheckpointImportReport {
  const source = options.source ?? 'checkpoint';
  const mapping = checkpointVariableMap(model);
  const byName = new Map(mapping.map((m) => [m.name, m]));
  const report: CheckpointImportReport = { loaded: [], ignored: [], missing: [] };
  const unexpected: string[] = [];
  for (const name of vars.keys()) {
    if (byName.has(name)) continue;
    if (isModelVariableName(name)) unexpected.push(name);
    else report.ignored.push(name);
  }
  if (unexpected.length > 0 && !options.allowUnexpected) {
    throw new WeightsFormatError(
      source,
      `${unexpected.length} variable(s) have no place in this model (different architecture?): ${unexpected.slice(0, 5).join(', ')}`,
    );
  }
  report.ignored.push(...unexpected);
  const updates: [tfl.LayerVariable, Float32Array, number[]][] = [];
  for (const m of mapping) {
    const a = vars.get(m.name);
    if (!a) {
      report.missing.push(m.name);
      continue;
    }
    if (a.shape.length !== m.shape.length || a.shape.some((d, i) => d !== m.shape[i])) {
      throw new WeightsFormatError(source, `${m.name} has shape [${a.shape}], the model expects [${m.shape}]`);
    }
    updates.push([m.variable, toFloat32(a, m.name, source), m.shape]);
    report.loaded.push(m.name);
  }
  if (report.missing.length > 0 && !options.allowMissing) {
    throw new WeightsFormatError(
      source,
      `${report.missing.length} model weight(s) missing: ${report.missing.slice(0, 5).join(', ')}`,
    );
  }
  for (const [variable, data, shape] of updates) {
    const t = tf.tensor(data, shape, 'float32');
    variable.write(t);
    t.dispose();
  }
  return report;
}

/**
 * Work out the builder options a reference checkpoint was trained with: embedding size
 * from `Bottleneck/weights`, block repetitions from the highest `block35_i`, `block17_i`,
 * `block8_i`, width from `Conv2d_4b_3x3/weights` (256 channels at width 1), a batch-norm scale from
 * `Bottleneck/BatchNorm/gamma`. The input size is not stored in a
 * checkpoint (any size ≥ 75 works); it defaults to 160.
 */
export function inferOptionsFromCheckpoint(vars: NamedArrays, source = 'checkpoint'): InceptionResnetV1Options {
  const bottleneck = vars.get(`${REFERENCE_SCOPE}/Bottleneck/weights`);
  const stem = vars.get(`${REFERENCE_SCOPE}/Conv2d_4b_3x3/weights`);
  if (!bottleneck || !stem) {
    throw new WeightsFormatError(source, `not an ${REFERENCE_SCOPE} checkpoint (no Bottleneck/weights or Conv2d_4b_3x3/weights)`);
  }
  const count = (re: RegExp): number => {
    let max = 0;
    for (const name of vars.keys()) {
      const m = re.exec(name);
      if (m) max = Math.max(max, Number(m[1]));
    }
    return max;
  };
  // Slim's batch norm has a scale `gamma` only with scale=True (not the reference's setting;
  // checkpoints converted from PyTorch ports have one).
  const hasGamma = vars.has(`${REFERENCE_SCOPE}/Bottleneck/BatchNorm/gamma`);
  return {
    ...(hasGamma ? { batchNormScale: true } : {}),
    embeddingSize: bottleneck.shape[1],
    widthMultiplier: stem.shape[3] / 256,
    blockRepeats: {
      block35: count(/^InceptionResnetV1\/Repeat\/block35_(\d+)\//),
      block17: count(/^InceptionResnetV1\/Repeat_1\/block17_(\d+)\//),
      block8: count(/^InceptionResnetV1\/Repeat_2\/block8_(\d+)\//),
    },
  };
}

/**
 * Build an Inception-ResNet-v1 matching a reference checkpoint's variables and load them.
 * `options` override what {@link inferOptionsFromCheckpoint} finds (e.g. `inputSize`).
 */
export function modelFromCheckpointVariables(
  vars: NamedArrays,
  options: InceptionResnetV1Options = {},
  source = 'checkpoint',
): { model: tfl.LayersModel; report: CheckpointImportReport } {
  const inferred = inferOptionsFromCheckpoint(vars, source);
  const model = buildInceptionResnetV1({ ...inferred, ...options });
  try {
    const report = loadCheckpointVariables(model, vars, { source });
    return { model, report };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * Read a davidsandberg/facenet TensorFlow checkpoint from disk (Node) — a prefix like
 * `…/20180402-114759/model-20180402-114759.ckpt-275`, its `.index` file, or the directory
 * with its `checkpoint` file — and build the model from it. Only model variables are read
 * (optimizer slots are skipped).
 */
export async function importFacenetCheckpoint(
  location: string,
  options: InceptionResnetV1Options = {},
): Promise<{ model: tfl.LayersModel; report: CheckpointImportReport }> {
  const { readTfCheckpoint } = await import('../io/tf-checkpoint.js');
  const vars = await readTfCheckpoint(location, { filter: isModelVariableName });
  return modelFromCheckpointVariables(vars, options, location);
}

/**
 * Write `model`'s weights as a TensorFlow checkpoint with the reference's variable names
 * (Node), loadable by the reference code's `tf.train.Saver` and by {@link importFacenetCheckpoint}.
 */
export async function exportFacenetCheckpoint(model: tfl.LayersModel, prefix: string): Promise<void> {
  const { writeTfCheckpoint } = await import('../io/tf-checkpoint.js');
  await writeTfCheckpoint(prefix, await exportCheckpointVariables(model));
}
