/**
 * Inception-ResNet-v1 as FaceNet uses it (davidsandberg/facenet
 * `src/models/inception_resnet_v1.py`), built with the tfjs-layers functional API.
 *
 * Layer names repeat the reference's variable scopes below `InceptionResnetV1/`
 * (`Conv2d_1a_3x3`, `Repeat/block35_1/Branch_1/Conv2d_0b_3x3`, `Mixed_6a/...`,
 * `Repeat_1/block17_3/...`, `Repeat_2/block8_5/...`, `Block8/...`, `Bottleneck`), with the
 * batch norm of a convolution at `<conv>/BatchNorm`, so that reference checkpoints map
 * onto the layers by name (see `checkpoint-import.ts`).
 *
 * Every convolution is bias-free, followed by batch norm (decay 0.995, ε 0.001, offset,
 * no scale unless `batchNormScale`) and ReLU, except each block's `Conv2d_1x1` up-projection, which has a bias and
 * neither batch norm nor activation. The blocks add `scale · up` to their input; the
 * final Block8 uses scale 1 and no ReLU. The head is: average pool over the remaining
 * spatial extent, flatten, dropout (keep probability), the bias-free `Bottleneck` dense
 * layer with batch norm (the "pre-logits"), and L2 normalization (the embeddings).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError } from '../errors.js';
import { L2Normalize, ScaledResidual, SlimBatchNorm } from './layers.js';

/** How many times each Inception-ResNet block is repeated. */
export interface BlockRepeats {
  /** Inception-ResNet-A (35×35 grid in the paper, 17×17 at 160 px). Default 5. */
  block35: number;
  /** Inception-ResNet-B. Default 10. */
  block17: number;
  /** Inception-ResNet-C, before the final unscaled, activation-free Block8. Default 5. */
  block8: number;
}

/** Options of {@link buildInceptionResnetV1}. */
export interface InceptionResnetV1Options {
  /** Side of the square input image in pixels. Default 160 (FaceNet's aligned crops). Minimum {@link MIN_INPUT_SIZE}. */
  inputSize?: number;
  /** Length of the embedding (bottleneck width). Default 512 (model 20180402-114759; older models use 128). */
  embeddingSize?: number;
  /** Block repetitions. Default `{block35: 5, block17: 10, block8: 5}`. */
  blockRepeats?: Partial<BlockRepeats>;
  /** Multiplies every channel count (rounded, at least 1). Default 1 (the reference). Small values make tiny test models. */
  widthMultiplier?: number;
  /** Dropout keep probability before the bottleneck, active only in training. Default 0.8. */
  keepProbability?: number;
  /**
   * L2 weight decay of every convolution kernel, as in TF-slim's `l2_regularizer(weightDecay)`,
   * i.e. a loss of `weightDecay · Σw²/2`. Default 5e-4 (train_softmax.py's recommended value).
   * 0 disables it.
   */
  weightDecay?: number;
  /** L2 weight decay of the bottleneck kernel. Default: the same as `weightDecay`. */
  bottleneckWeightDecay?: number;
  /** Batch-norm moving-average decay. Default 0.995. */
  batchNormDecay?: number;
  /** Batch-norm epsilon. Default 0.001. */
  batchNormEpsilon?: number;
  /**
   * Give every batch norm a learned scale `gamma` as well as its offset. Default false (the
   * reference's slim batch norm has no scale); PyTorch ports (facenet-pytorch) have one.
   */
  batchNormScale?: boolean;
  /**
   * Lower bound of `Σx²` in the final L2 normalization. Default 1e-10 (the reference's
   * `tf.nn.l2_normalize`); PyTorch's `F.normalize` bounds the norm by 1e-12, i.e. 1e-24 here.
   */
  normalizeEpsilon?: number;
  /** Seed of the weight initializers (each layer gets seed + its index). Default: random. */
  seed?: number;
}

/** {@link InceptionResnetV1Options} with every default filled in. */
export interface ResolvedInceptionResnetV1Options {
  inputSize: number;
  embeddingSize: number;
  blockRepeats: BlockRepeats;
  widthMultiplier: number;
  keepProbability: number;
  weightDecay: number;
  bottleneckWeightDecay: number;
  batchNormDecay: number;
  batchNormEpsilon: number;
  batchNormScale: boolean;
  normalizeEpsilon: number;
  seed: number | undefined;
}

/** Scale factors of the residual branches (the reference's `scale=` arguments). */
export const BLOCK_SCALES = { block35: 0.17, block17: 0.1, block8: 0.2 } as const;

/** Index of the pre-logits (bottleneck output, before L2 normalization) in the model outputs. */
export const PRELOGITS_OUTPUT = 0;
/** Index of the L2-normalized embeddings in the model outputs. */
export const EMBEDDINGS_OUTPUT = 1;

/** Output size of a VALID (unpadded) window of size k and stride s over n values. */
export function validOutputSize(n: number, k: number, s: number): number {
  return n < k ? 0 : Math.floor((n - k) / s) + 1;
}

/**
 * Spatial sizes after each resolution-changing stage for an input of side `inputSize`
 * (SAME convolutions keep the size). Zero means the input is too small for that stage.
 */
export function stageSizes(inputSize: number): Record<string, number> {
  const conv1a = validOutputSize(inputSize, 3, 2);
  const conv2a = validOutputSize(conv1a, 3, 1);
  const pool3a = validOutputSize(conv2a, 3, 2);
  const conv4a = validOutputSize(pool3a, 3, 1);
  const conv4b = validOutputSize(conv4a, 3, 2);
  const mixed6a = validOutputSize(conv4b, 3, 2);
  const mixed7a = validOutputSize(mixed6a, 3, 2);
  return {
    Conv2d_1a_3x3: conv1a,
    Conv2d_2a_3x3: conv2a,
    MaxPool_3a_3x3: pool3a,
    Conv2d_4a_3x3: conv4a,
    Conv2d_4b_3x3: conv4b,
    Mixed_6a: mixed6a,
    Mixed_7a: mixed7a,
  };
}

/** Smallest input side for which every VALID stage has at least one output (75). */
export const MIN_INPUT_SIZE = (() => {
  let n = 1;
  while (stageSizes(n).Mixed_7a < 1) n++;
  return n;
})();

function positiveInt(option: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(option, `must be a positive integer, got ${v}`);
  return v;
}

function nonNegative(option: string, v: number): number {
  if (!(Number.isFinite(v) && v >= 0)) throw new ConfigError(option, `must be a finite number ≥ 0, got ${v}`);
  return v;
}

/** Fill in defaults and check ranges; throws {@link ConfigError} naming the bad option. */
export function resolveInceptionResnetV1Options(opts: InceptionResnetV1Options = {}): ResolvedInceptionResnetV1Options {
  const inputSize = positiveInt('inputSize', opts.inputSize ?? 160);
  if (inputSize < MIN_INPUT_SIZE) {
    throw new ConfigError('inputSize', `must be at least ${MIN_INPUT_SIZE} (the stride-2 stages need it), got ${inputSize}`);
  }
  const repeats = opts.blockRepeats ?? {};
  const blockRepeats: BlockRepeats = {
    block35: repeats.block35 ?? 5,
    block17: repeats.block17 ?? 10,
    block8: repeats.block8 ?? 5,
  };
  for (const [k, v] of Object.entries(blockRepeats)) {
    if (!Number.isInteger(v) || v < 0) throw new ConfigError(`blockRepeats.${k}`, `must be an integer ≥ 0, got ${v}`);
  }
  const widthMultiplier = opts.widthMultiplier ?? 1;
  if (!(Number.isFinite(widthMultiplier) && widthMultiplier > 0)) {
    throw new ConfigError('widthMultiplier', `must be > 0, got ${widthMultiplier}`);
  }
  const keepProbability = opts.keepProbability ?? 0.8;
  if (!(keepProbability > 0 && keepProbability <= 1)) {
    throw new ConfigError('keepProbability', `must be in (0, 1], got ${keepProbability}`);
  }
  const weightDecay = nonNegative('weightDecay', opts.weightDecay ?? 5e-4);
  const decay = opts.batchNormDecay ?? 0.995;
  if (!(decay >= 0 && decay < 1)) throw new ConfigError('batchNormDecay', `must be in [0, 1), got ${decay}`);
  const eps = opts.batchNormEpsilon ?? 0.001;
  if (!(eps > 0)) throw new ConfigError('batchNormEpsilon', `must be > 0, got ${eps}`);
  if (opts.seed !== undefined && !Number.isFinite(opts.seed)) throw new ConfigError('seed', `must be a number`);
  const normalizeEpsilon = opts.normalizeEpsilon ?? 1e-10;
  if (!(normalizeEpsilon > 0)) throw new ConfigError('normalizeEpsilon', `must be > 0, got ${normalizeEpsilon}`);
  return {
    inputSize,
    embeddingSize: positiveInt('embeddingSize', opts.embeddingSize ?? 512),
    blockRepeats,
    widthMultiplier,
    keepProbability,
    weightDecay,
    bottleneckWeightDecay: nonNegative('bottleneckWeightDecay', opts.bottleneckWeightDecay ?? weightDecay),
    batchNormDecay: decay,
    batchNormEpsilon: eps,
    batchNormScale: opts.batchNormScale ?? false,
    normalizeEpsilon,
    seed: opts.seed,
  };
}

/** Builds layers with the shared settings (initializer, regularizer, batch norm). */
class Builder {
  private layerIndex = 0;
  constructor(readonly o: ResolvedInceptionResnetV1Options) {}

  /** Channel count after the width multiplier. */
  ch(c: number): number {
    return Math.max(1, Math.round(c * this.o.widthMultiplier));
  }

  private initializer(): ReturnType<typeof tfl.initializers.glorotUniform> {
    // The reference's current `inference()` (and its Bottleneck layer) use
    // slim.initializers.xavier_initializer(), i.e. Glorot uniform. An older revision used a
    // truncated normal with stddev 0.1, which starts far larger than Glorot for wide layers
    // and makes the weight-decay term dominate the loss for the first epochs.
    const seed = this.o.seed === undefined ? undefined : this.o.seed + this.layerIndex++;
    return tfl.initializers.glorotUniform({ seed });
  }

  private regularizer(decay: number): ReturnType<typeof tfl.regularizers.l2> | undefined {
    // slim.l2_regularizer(s)(w) = s · Σw²/2; tfjs's l2({l2}) is l2 · Σw².
    return decay > 0 ? tfl.regularizers.l2({ l2: decay / 2 }) : undefined;
  }

  private batchNorm(name: string): SlimBatchNorm {
    return new SlimBatchNorm({ name, decay: this.o.batchNormDecay, epsilon: this.o.batchNormEpsilon, scale: this.o.batchNormScale });
  }

  /** slim.conv2d with the reference's arg_scope: conv (no bias) → batch norm → ReLU. */
  conv(x: tfl.SymbolicTensor, name: string, filters: number, kernel: number | [number, number], stride = 1,
    padding: 'same' | 'valid' = 'same'): tfl.SymbolicTensor {
    const conv = tfl.layers.conv2d({
      name,
      filters,
      kernelSize: kernel,
      strides: stride,
      padding,
      useBias: false,
      kernelInitializer: this.initializer(),
      kernelRegularizer: this.regularizer(this.o.weightDecay),
    });
    const bn = this.batchNorm(`${name}/BatchNorm`);
    const relu = tfl.layers.reLU({ name: `${name}/Relu` });
    return relu.apply(bn.apply(conv.apply(x))) as tfl.SymbolicTensor;
  }

  /** The blocks' `Conv2d_1x1` up-projection: 1×1 conv with bias, no batch norm, no activation. */
  upProjection(x: tfl.SymbolicTensor, name: string, filters: number): tfl.SymbolicTensor {
    return tfl.layers
      .conv2d({
        name,
        filters,
        kernelSize: 1,
        padding: 'same',
        useBias: true,
        kernelInitializer: this.initializer(),
        biasInitializer: 'zeros',
        kernelRegularizer: this.regularizer(this.o.weightDecay),
      })
      .apply(x) as tfl.SymbolicTensor;
  }

  maxPool(x: tfl.SymbolicTensor, name: string): tfl.SymbolicTensor {
    return tfl.layers.maxPooling2d({ name, poolSize: 3, strides: 2, padding: 'valid' }).apply(x) as tfl.SymbolicTensor;
  }

  concat(xs: tfl.SymbolicTensor[], name: string): tfl.SymbolicTensor {
    return tfl.layers.concatenate({ name, axis: -1 }).apply(xs) as tfl.SymbolicTensor;
  }

  /** `net + scale · up`, then ReLU unless `activate` is false. */
  residual(net: tfl.SymbolicTensor, up: tfl.SymbolicTensor, scope: string, scale: number, activate: boolean): tfl.SymbolicTensor {
    const sum = new ScaledResidual({ name: `${scope}/ScaledResidual`, scale }).apply([net, up]) as tfl.SymbolicTensor;
    return activate ? (tfl.layers.reLU({ name: `${scope}/Relu` }).apply(sum) as tfl.SymbolicTensor) : sum;
  }

  bottleneck(x: tfl.SymbolicTensor): tfl.SymbolicTensor {
    const dense = tfl.layers.dense({
      name: 'Bottleneck',
      units: this.o.embeddingSize,
      useBias: false,
      kernelInitializer: this.initializer(),
      kernelRegularizer: this.regularizer(this.o.bottleneckWeightDecay),
    });
    return this.batchNorm('Bottleneck/BatchNorm').apply(dense.apply(x)) as tfl.SymbolicTensor;
  }
}

const channels = (x: tfl.SymbolicTensor): number => x.shape[x.shape.length - 1] as number;

/** Inception-ResNet-A (the reference's `block35`). */
function block35(b: Builder, net: tfl.SymbolicTensor, scope: string, scale: number, activate = true): tfl.SymbolicTensor {
  const t0 = b.conv(net, `${scope}/Branch_0/Conv2d_1x1`, b.ch(32), 1);
  let t1 = b.conv(net, `${scope}/Branch_1/Conv2d_0a_1x1`, b.ch(32), 1);
  t1 = b.conv(t1, `${scope}/Branch_1/Conv2d_0b_3x3`, b.ch(32), 3);
  let t2 = b.conv(net, `${scope}/Branch_2/Conv2d_0a_1x1`, b.ch(32), 1);
  t2 = b.conv(t2, `${scope}/Branch_2/Conv2d_0b_3x3`, b.ch(32), 3);
  t2 = b.conv(t2, `${scope}/Branch_2/Conv2d_0c_3x3`, b.ch(32), 3);
  const mixed = b.concat([t0, t1, t2], `${scope}/concat`);
  const up = b.upProjection(mixed, `${scope}/Conv2d_1x1`, channels(net));
  return b.residual(net, up, scope, scale, activate);
}

/** Inception-ResNet-B (the reference's `block17`). */
function block17(b: Builder, net: tfl.SymbolicTensor, scope: string, scale: number, activate = true): tfl.SymbolicTensor {
  const t0 = b.conv(net, `${scope}/Branch_0/Conv2d_1x1`, b.ch(128), 1);
  let t1 = b.conv(net, `${scope}/Branch_1/Conv2d_0a_1x1`, b.ch(128), 1);
  t1 = b.conv(t1, `${scope}/Branch_1/Conv2d_0b_1x7`, b.ch(128), [1, 7]);
  t1 = b.conv(t1, `${scope}/Branch_1/Conv2d_0c_7x1`, b.ch(128), [7, 1]);
  const mixed = b.concat([t0, t1], `${scope}/concat`);
  const up = b.upProjection(mixed, `${scope}/Conv2d_1x1`, channels(net));
  return b.residual(net, up, scope, scale, activate);
}

/** Inception-ResNet-C (the reference's `block8`). */
function block8(b: Builder, net: tfl.SymbolicTensor, scope: string, scale: number, activate = true): tfl.SymbolicTensor {
  const t0 = b.conv(net, `${scope}/Branch_0/Conv2d_1x1`, b.ch(192), 1);
  let t1 = b.conv(net, `${scope}/Branch_1/Conv2d_0a_1x1`, b.ch(192), 1);
  t1 = b.conv(t1, `${scope}/Branch_1/Conv2d_0b_1x3`, b.ch(192), [1, 3]);
  t1 = b.conv(t1, `${scope}/Branch_1/Conv2d_0c_3x1`, b.ch(192), [3, 1]);
  const mixed = b.concat([t0, t1], `${scope}/concat`);
  const up = b.upProjection(mixed, `${scope}/Conv2d_1x1`, channels(net));
  return b.residual(net, up, scope, scale, activate);
}

/** Reduction-A (`Mixed_6a`, the reference's `reduction_a(net, k=192, l=192, m=256, n=384)`). */
function reductionA(b: Builder, net: tfl.SymbolicTensor): tfl.SymbolicTensor {
  const s = 'Mixed_6a';
  const t0 = b.conv(net, `${s}/Branch_0/Conv2d_1a_3x3`, b.ch(384), 3, 2, 'valid');
  let t1 = b.conv(net, `${s}/Branch_1/Conv2d_0a_1x1`, b.ch(192), 1);
  t1 = b.conv(t1, `${s}/Branch_1/Conv2d_0b_3x3`, b.ch(192), 3);
  t1 = b.conv(t1, `${s}/Branch_1/Conv2d_1a_3x3`, b.ch(256), 3, 2, 'valid');
  const t2 = b.maxPool(net, `${s}/Branch_2/MaxPool_1a_3x3`);
  return b.concat([t0, t1, t2], `${s}/concat`);
}

/** Reduction-B (`Mixed_7a`, the reference's `reduction_b`). */
function reductionB(b: Builder, net: tfl.SymbolicTensor): tfl.SymbolicTensor {
  const s = 'Mixed_7a';
  let t0 = b.conv(net, `${s}/Branch_0/Conv2d_0a_1x1`, b.ch(256), 1);
  t0 = b.conv(t0, `${s}/Branch_0/Conv2d_1a_3x3`, b.ch(384), 3, 2, 'valid');
  let t1 = b.conv(net, `${s}/Branch_1/Conv2d_0a_1x1`, b.ch(256), 1);
  t1 = b.conv(t1, `${s}/Branch_1/Conv2d_1a_3x3`, b.ch(256), 3, 2, 'valid');
  let t2 = b.conv(net, `${s}/Branch_2/Conv2d_0a_1x1`, b.ch(256), 1);
  t2 = b.conv(t2, `${s}/Branch_2/Conv2d_0b_3x3`, b.ch(256), 3);
  t2 = b.conv(t2, `${s}/Branch_2/Conv2d_1a_3x3`, b.ch(256), 3, 2, 'valid');
  const t3 = b.maxPool(net, `${s}/Branch_3/MaxPool_1a_3x3`);
  return b.concat([t0, t1, t2, t3], `${s}/concat`);
}

/**
 * Build Inception-ResNet-v1. The model takes `[batch, inputSize, inputSize, 3]` images
 * (already standardized, e.g. `(x - 127.5) / 128` for the 2018 FaceNet models) and has
 * two outputs: index {@link PRELOGITS_OUTPUT} the bottleneck output `[batch, embeddingSize]`
 * (for softmax / center loss) and index {@link EMBEDDINGS_OUTPUT} its L2-normalized
 * embeddings. Dropout and batch-norm statistics follow `training` of `model.apply(x, {training})`
 * (inference mode by default).
 */
export function buildInceptionResnetV1(options: InceptionResnetV1Options = {}): tfl.LayersModel {
  const o = resolveInceptionResnetV1Options(options);
  const b = new Builder(o);
  const images = tfl.input({ name: 'images', shape: [o.inputSize, o.inputSize, 3] });
  let net = b.conv(images, 'Conv2d_1a_3x3', b.ch(32), 3, 2, 'valid');
  net = b.conv(net, 'Conv2d_2a_3x3', b.ch(32), 3, 1, 'valid');
  net = b.conv(net, 'Conv2d_2b_3x3', b.ch(64), 3);
  net = b.maxPool(net, 'MaxPool_3a_3x3');
  net = b.conv(net, 'Conv2d_3b_1x1', b.ch(80), 1, 1, 'valid');
  net = b.conv(net, 'Conv2d_4a_3x3', b.ch(192), 3, 1, 'valid');
  net = b.conv(net, 'Conv2d_4b_3x3', b.ch(256), 3, 2, 'valid');
  // slim.repeat opens the variable scopes Repeat, Repeat_1, Repeat_2 and names the
  // blocks after the function: block35_1, block35_2, ...
  for (let i = 1; i <= o.blockRepeats.block35; i++) net = block35(b, net, `Repeat/block35_${i}`, BLOCK_SCALES.block35);
  net = reductionA(b, net);
  for (let i = 1; i <= o.blockRepeats.block17; i++) net = block17(b, net, `Repeat_1/block17_${i}`, BLOCK_SCALES.block17);
  net = reductionB(b, net);
  for (let i = 1; i <= o.blockRepeats.block8; i++) net = block8(b, net, `Repeat_2/block8_${i}`, BLOCK_SCALES.block8);
  // The last Block8 is called with the default scale 1.0 and activation_fn=None.
  net = block8(b, net, 'Block8', 1, false);
  const [h, w] = net.shape.slice(1, 3) as number[];
  net = tfl.layers.averagePooling2d({ name: 'Logits/AvgPool_1a_8x8', poolSize: [h, w], padding: 'valid' }).apply(net) as tfl.SymbolicTensor;
  net = tfl.layers.flatten({ name: 'Logits/Flatten' }).apply(net) as tfl.SymbolicTensor;
  net = tfl.layers.dropout({ name: 'Logits/Dropout', rate: 1 - o.keepProbability }).apply(net) as tfl.SymbolicTensor;
  const prelogits = b.bottleneck(net);
  const embeddings = new L2Normalize({ name: 'embeddings', epsilon: o.normalizeEpsilon }).apply(prelogits) as tfl.SymbolicTensor;
  return tfl.model({ name: 'InceptionResnetV1', inputs: images, outputs: [prelogits, embeddings] });
}

/**
 * The sum of the model's weight-decay losses (the L2 regularizers of its kernels), as a
 * scalar — add it to the training loss inside the function whose gradients are taken.
 * Zero when weight decay is off.
 */
export function regularizationLoss(model: tfl.LayersModel): tf.Scalar {
  return tf.tidy(() => {
    const losses = model.calculateLosses() as tf.Scalar[];
    return losses.length === 0 ? tf.scalar(0) : (tf.addN(losses) as tf.Scalar);
  });
}
