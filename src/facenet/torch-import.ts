/**
 * Import of facenet-pytorch weights (timesler/facenet-pytorch `InceptionResnetV1`
 * state dicts such as `20180402-114759-vggface2.pt`) into this library's
 * Inception-ResNet-v1.
 *
 * The PyTorch module tree is the reference's, renamed: `repeat_1.2.branch1.1` is
 * `Repeat/block35_3/Branch_1/Conv2d_0b_3x3`, `last_linear` is `Bottleneck`, and so on. So
 * each PyTorch parameter is renamed to the reference's TensorFlow variable and re-laid
 * out, and the variables are then loaded like a reference checkpoint
 * (`checkpoint-import.ts`), which checks every shape and that every weight is there once:
 *
 * | PyTorch                                   | reference variable                     | layout              |
 * |-------------------------------------------|----------------------------------------|---------------------|
 * | `<m>.conv.weight` `[out, in, kh, kw]`     | `<M>/weights` `[kh, kw, in, out]`      | OIHW → HWIO         |
 * | `<m>.bn.weight` / `.bias` / `.running_mean` / `.running_var` | `<M>/BatchNorm/gamma` / `beta` / `moving_mean` / `moving_variance` | as is |
 * | `<block>.conv2d.weight` / `.bias`         | `<block>/Conv2d_1x1/weights` / `biases` | OIHW → HWIO        |
 * | `last_linear.weight` `[512, 1792]`        | `Bottleneck/weights` `[1792, 512]`     | transposed          |
 * | `last_bn.*`                               | `Bottleneck/BatchNorm/*`               | as is               |
 * | `logits.weight` / `.bias`                 | `Logits/weights` / `Logits/biases` (outside the model) | transposed |
 *
 * The model differs from the reference in what PyTorch does differently: every batch norm
 * has a scale (`gamma`), the batch-norm momentum is PyTorch's 0.1 (decay 0.9), dropout keeps
 * 40 % (facenet-pytorch's `dropout_prob=0.6`), and the final L2 normalization divides by
 * `max(‖x‖, 1e-12)` as `F.normalize` does. Inputs are 160 × 160 RGB standardized as
 * `(x − 127.5) / 128`, NHWC as everywhere in this library.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { WeightsFormatError } from '../errors.js';
import type { NamedArray, NamedArrays } from '../io/types.js';
import { isTorchTensor, torchTensorToArray, type TorchTensor } from '../io/torch-file.js';
import {
  REFERENCE_SCOPE,
  inferOptionsFromCheckpoint,
  loadCheckpointVariables,
  type CheckpointImportReport,
} from './checkpoint-import.js';
import { buildInceptionResnetV1, type InceptionResnetV1Options } from './inception-resnet-v1.js';

/** Builder options that reproduce facenet-pytorch's `InceptionResnetV1` (architecture sizes come from the weights). */
export const TORCH_FACENET_OPTIONS: Readonly<InceptionResnetV1Options> = Object.freeze({
  batchNormScale: true,
  batchNormEpsilon: 0.001,
  // PyTorch's running ← (1 − momentum)·running + momentum·batch with momentum 0.1.
  batchNormDecay: 0.9,
  keepProbability: 0.4,
  // F.normalize: x / max(‖x‖, 1e-12); our layer bounds ‖x‖² instead.
  normalizeEpsilon: 1e-24,
});

/** A PyTorch parameter's reference variable name and how to re-lay it out. */
export interface ReferenceTarget {
  /** e.g. `InceptionResnetV1/Repeat/block35_1/Branch_0/Conv2d_1x1/weights`, or `Logits/weights`. */
  name: string;
  /** How the PyTorch tensor is laid out relative to the variable: `conv` OIHW (→ HWIO), `dense` `[out, in]` (→ `[in, out]`), `same`. */
  layout: 'conv' | 'dense' | 'same';
}

/** Stem modules. */
const STEM: Record<string, string> = {
  conv2d_1a: 'Conv2d_1a_3x3',
  conv2d_2a: 'Conv2d_2a_3x3',
  conv2d_2b: 'Conv2d_2b_3x3',
  conv2d_3b: 'Conv2d_3b_1x1',
  conv2d_4a: 'Conv2d_4a_3x3',
  conv2d_4b: 'Conv2d_4b_3x3',
};

/** Branch convolutions of each block kind: PyTorch path inside the block → reference scope. */
const BLOCK35: Record<string, string> = {
  branch0: 'Branch_0/Conv2d_1x1',
  'branch1.0': 'Branch_1/Conv2d_0a_1x1',
  'branch1.1': 'Branch_1/Conv2d_0b_3x3',
  'branch2.0': 'Branch_2/Conv2d_0a_1x1',
  'branch2.1': 'Branch_2/Conv2d_0b_3x3',
  'branch2.2': 'Branch_2/Conv2d_0c_3x3',
};
const BLOCK17: Record<string, string> = {
  branch0: 'Branch_0/Conv2d_1x1',
  'branch1.0': 'Branch_1/Conv2d_0a_1x1',
  'branch1.1': 'Branch_1/Conv2d_0b_1x7',
  'branch1.2': 'Branch_1/Conv2d_0c_7x1',
};
const BLOCK8: Record<string, string> = {
  branch0: 'Branch_0/Conv2d_1x1',
  'branch1.0': 'Branch_1/Conv2d_0a_1x1',
  'branch1.1': 'Branch_1/Conv2d_0b_1x3',
  'branch1.2': 'Branch_1/Conv2d_0c_3x1',
};
const MIXED_6A: Record<string, string> = {
  branch0: 'Branch_0/Conv2d_1a_3x3',
  'branch1.0': 'Branch_1/Conv2d_0a_1x1',
  'branch1.1': 'Branch_1/Conv2d_0b_3x3',
  'branch1.2': 'Branch_1/Conv2d_1a_3x3',
};
const MIXED_7A: Record<string, string> = {
  'branch0.0': 'Branch_0/Conv2d_0a_1x1',
  'branch0.1': 'Branch_0/Conv2d_1a_3x3',
  'branch1.0': 'Branch_1/Conv2d_0a_1x1',
  'branch1.1': 'Branch_1/Conv2d_1a_3x3',
  'branch2.0': 'Branch_2/Conv2d_0a_1x1',
  'branch2.1': 'Branch_2/Conv2d_0b_3x3',
  'branch2.2': 'Branch_2/Conv2d_1a_3x3',
};

/** PyTorch batch-norm parameter → slim variable. */
const BATCH_NORM: Record<string, string> = {
  weight: 'gamma',
  bias: 'beta',
  running_mean: 'moving_mean',
  running_var: 'moving_variance',
};

/** A `BasicConv2d` parameter (`conv.weight`, `bn.*`) under reference scope `scope`. */
function basicConv(scope: string, rest: string): ReferenceTarget | undefined {
  if (rest === 'conv.weight') return { name: `${REFERENCE_SCOPE}/${scope}/weights`, layout: 'conv' };
  const bn = /^bn\.(\w+)$/.exec(rest);
  if (bn && BATCH_NORM[bn[1]]) return { name: `${REFERENCE_SCOPE}/${scope}/BatchNorm/${BATCH_NORM[bn[1]]}`, layout: 'same' };
  return undefined;
}

/** A parameter inside a block or reduction module whose reference scope is `scope`. */
function blockParameter(scope: string, branches: Record<string, string>, rest: string, hasUpProjection: boolean): ReferenceTarget | undefined {
  if (hasUpProjection) {
    if (rest === 'conv2d.weight') return { name: `${REFERENCE_SCOPE}/${scope}/Conv2d_1x1/weights`, layout: 'conv' };
    if (rest === 'conv2d.bias') return { name: `${REFERENCE_SCOPE}/${scope}/Conv2d_1x1/biases`, layout: 'same' };
  }
  const m = /^(branch\d(?:\.\d)?)\.(.+)$/.exec(rest);
  if (!m || !branches[m[1]]) return undefined;
  return basicConv(`${scope}/${branches[m[1]]}`, m[2]);
}

/**
 * The reference variable a facenet-pytorch `InceptionResnetV1` state-dict entry becomes, or
 * undefined for a name that is not one of its parameters (`num_batches_tracked` included:
 * it only counts training steps).
 */
export function referenceTargetOfTorchName(torchName: string): ReferenceTarget | undefined {
  const name = torchName.startsWith('module.') ? torchName.slice('module.'.length) : torchName; // nn.DataParallel
  const dot = name.indexOf('.');
  if (dot < 0) return undefined;
  const head = name.slice(0, dot);
  const rest = name.slice(dot + 1);
  if (STEM[head]) return basicConv(STEM[head], rest);
  const repeat = /^(\d+)\.(.+)$/.exec(rest);
  if (head === 'repeat_1' && repeat) return blockParameter(`Repeat/block35_${Number(repeat[1]) + 1}`, BLOCK35, repeat[2], true);
  if (head === 'repeat_2' && repeat) return blockParameter(`Repeat_1/block17_${Number(repeat[1]) + 1}`, BLOCK17, repeat[2], true);
  if (head === 'repeat_3' && repeat) return blockParameter(`Repeat_2/block8_${Number(repeat[1]) + 1}`, BLOCK8, repeat[2], true);
  if (head === 'block8') return blockParameter('Block8', BLOCK8, rest, true);
  if (head === 'mixed_6a') return blockParameter('Mixed_6a', MIXED_6A, rest, false);
  if (head === 'mixed_7a') return blockParameter('Mixed_7a', MIXED_7A, rest, false);
  if (head === 'last_linear' && rest === 'weight') return { name: `${REFERENCE_SCOPE}/Bottleneck/weights`, layout: 'dense' };
  if (head === 'last_bn' && BATCH_NORM[rest]) return { name: `${REFERENCE_SCOPE}/Bottleneck/BatchNorm/${BATCH_NORM[rest]}`, layout: 'same' };
  if (head === 'logits' && rest === 'weight') return { name: 'Logits/weights', layout: 'dense' };
  if (head === 'logits' && rest === 'bias') return { name: 'Logits/biases', layout: 'same' };
  return undefined;
}

/** `[out, in, kh, kw]` → `[kh, kw, in, out]`. */
function oihwToHwio(a: NamedArray, name: string, source: string): NamedArray {
  if (a.shape.length !== 4) throw new WeightsFormatError(source, `${name} has shape [${a.shape}], a convolution kernel [out, in, kh, kw] was expected`);
  const [o, i, h, w] = a.shape;
  const src = a.data as Float32Array;
  const out = new Float32Array(src.length);
  for (let oo = 0; oo < o; oo++)
    for (let ii = 0; ii < i; ii++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((y * w + x) * i + ii) * o + oo] = src[((oo * i + ii) * h + y) * w + x];
  return { shape: [h, w, i, o], dtype: 'float32', data: out };
}

/** `[out, in]` → `[in, out]`. */
function transpose2d(a: NamedArray, name: string, source: string): NamedArray {
  if (a.shape.length !== 2) throw new WeightsFormatError(source, `${name} has shape [${a.shape}], a linear weight [out, in] was expected`);
  const [o, i] = a.shape;
  const src = a.data as Float32Array;
  const out = new Float32Array(src.length);
  for (let oo = 0; oo < o; oo++) for (let ii = 0; ii < i; ii++) out[ii * o + oo] = src[oo * i + ii];
  return { shape: [i, o], dtype: 'float32', data: out };
}

function asFloat32(a: NamedArray, name: string, source: string): NamedArray {
  if (a.dtype === 'float32') return a;
  if (a.dtype === 'float64') return { shape: a.shape, dtype: 'float32', data: Float32Array.from(a.data as Float64Array) };
  throw new WeightsFormatError(source, `${name} has dtype ${a.dtype}, a floating-point parameter was expected`);
}

/** What {@link torchStateDictToReferenceVariables} made of a state dict. */
export interface TorchToReference {
  /** Model variables under reference names (`InceptionResnetV1/…`), re-laid out for TensorFlow.js. */
  variables: NamedArrays;
  /** The classifier head `Logits/weights` `[embedding, classes]` and `Logits/biases`, when the state dict has one. */
  logits: NamedArrays;
  /** Which reference variable each PyTorch name became. */
  renamed: Map<string, string>;
  /** Entries with no counterpart that carry no model information (`num_batches_tracked`). */
  ignored: string[];
  /** Entries that are not parameters of facenet-pytorch's `InceptionResnetV1`. */
  unknown: string[];
}

/**
 * Rename and re-lay out a facenet-pytorch `InceptionResnetV1` state dict (tensors as read by
 * `readTorchFile`, or arrays already in PyTorch layout) into reference variables. Pure.
 *
 * @throws {@link WeightsFormatError} naming the entry when a kernel has the wrong rank or a
 *   parameter is not floating point, or two entries map to one variable.
 */
export function torchStateDictToReferenceVariables(
  stateDict: Map<string, TorchTensor | NamedArray>,
  source = 'state dict',
): TorchToReference {
  const out: TorchToReference = { variables: new Map(), logits: new Map(), renamed: new Map(), ignored: [], unknown: [] };
  for (const [torchName, value] of stateDict) {
    if (torchName.endsWith('num_batches_tracked')) {
      out.ignored.push(torchName);
      continue;
    }
    const target = referenceTargetOfTorchName(torchName);
    if (!target) {
      out.unknown.push(torchName);
      continue;
    }
    const array = asFloat32(isTorchTensor(value) ? torchTensorToArray(value, torchName, source) : value, torchName, source);
    const converted =
      target.layout === 'conv' ? oihwToHwio(array, torchName, source) : target.layout === 'dense' ? transpose2d(array, torchName, source) : array;
    const into = target.name.startsWith(`${REFERENCE_SCOPE}/`) ? out.variables : out.logits;
    if (into.has(target.name)) throw new WeightsFormatError(source, `${torchName} maps to ${target.name}, which another entry already filled`);
    into.set(target.name, converted);
    out.renamed.set(torchName, target.name);
  }
  return out;
}

/** What {@link modelFromTorchStateDict} did. */
export interface TorchImportReport extends CheckpointImportReport {
  /** PyTorch name → reference variable, for every entry loaded (and the logits, when kept). */
  renamed: Map<string, string>;
  /** Number of classes of the classifier head found in the file (0 when there is none). */
  logitsClasses: number;
}

/** Options of {@link modelFromTorchStateDict}. */
export interface TorchImportOptions {
  /** Builder overrides (e.g. `inputSize`); the sizes are inferred from the weights. */
  model?: InceptionResnetV1Options;
  /**
   * Ignore state-dict entries that are not parameters of facenet-pytorch's
   * `InceptionResnetV1`. Default false: they mean a different network, so throw.
   */
  allowUnknown?: boolean;
}

/**
 * Build an Inception-ResNet-v1 that computes what facenet-pytorch's `InceptionResnetV1`
 * (in `eval()` mode, `classify=False`) computes for the given state dict, and load it.
 * The classifier head `logits`, if present, is returned as `logits` (reference names and
 * layout) and not part of the model.
 *
 * @throws {@link WeightsFormatError} when the state dict is not an `InceptionResnetV1` one: unknown
 *   entries (unless `allowUnknown`), missing weights, wrong shapes.
 */
export function modelFromTorchStateDict(
  stateDict: Map<string, TorchTensor | NamedArray>,
  options: TorchImportOptions = {},
  source = 'state dict',
): { model: tfl.LayersModel; report: TorchImportReport; logits: NamedArrays } {
  const converted = torchStateDictToReferenceVariables(stateDict, source);
  if (converted.unknown.length > 0 && !options.allowUnknown) {
    throw new WeightsFormatError(
      source,
      `${converted.unknown.length} entr${converted.unknown.length === 1 ? 'y is' : 'ies are'} not facenet-pytorch InceptionResnetV1 parameters: ${converted.unknown.slice(0, 5).join(', ')}`,
    );
  }
  const inferred = inferOptionsFromCheckpoint(converted.variables, source);
  const model = buildInceptionResnetV1({ ...TORCH_FACENET_OPTIONS, ...inferred, ...options.model });
  try {
    const report = loadCheckpointVariables(model, converted.variables, { source });
    const logitsKernel = converted.logits.get('Logits/weights');
    return {
      model,
      report: {
        ...report,
        ignored: [...report.ignored, ...converted.ignored, ...converted.unknown],
        renamed: converted.renamed,
        logitsClasses: logitsKernel ? logitsKernel.shape[1] : 0,
      },
      logits: converted.logits,
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * Read a facenet-pytorch `.pt` file (Node) and build the model from it, as
 * {@link modelFromTorchStateDict}.
 */
export async function importFacenetTorchFile(
  path: string,
  options: TorchImportOptions = {},
): Promise<{ model: tfl.LayersModel; report: TorchImportReport; logits: NamedArrays }> {
  const { readTorchFile, torchStateDict } = await import('../io/torch-file.js');
  const stateDict = torchStateDict(await readTorchFile(path), path);
  return modelFromTorchStateDict(stateDict, options, path);
}
