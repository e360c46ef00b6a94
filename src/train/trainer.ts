/**
 * The training loop: train a FaceNet (any tfjs-layers model mapping images to
 * pre-logits) on a folder-per-identity dataset, from scratch or resumed from a checkpoint.
 *
 * Per update: `accumulationSteps` micro-batches of `batchSize` images are run forward and
 * backward and their gradients averaged (effective batch = batchSize × accumulationSteps);
 * L2 weight decay is added; the optimizer applies the step at the scheduled learning
 * rate; the center-loss centers move (from all micro-batches at once, like one big batch);
 * the moving average of the weights follows. Batches are decoded while the previous one
 * trains. Every random choice is derived from (seed, step), so a run stopped and resumed
 * from its checkpoint produces the same losses as one that never stopped.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
// Namespace imports (not named ones) of Node built-ins: browser bundlers then only warn
// about this Node-only module instead of failing the build.
import * as nodePath from 'node:path';
import * as fsp from 'node:fs/promises';
import type { Preprocessing } from '../face/embedding.js';
import { ConfigError, FileNotFoundError, IncompatibleFileError } from '../errors.js';
import type { NamedArrays } from '../io/types.js';
import { CenterLoss } from '../losses/center-loss.js';
import { softmaxCrossEntropy } from '../losses/cross-entropy.js';
import { l2Normalize } from '../losses/margin-softmax.js';
import { l2WeightDecay } from '../losses/regularization.js';
import { startProgress, type Progress } from '../util/progress.js';
import { registerTrainingKernels } from '../kernels/register.js';
import { buildInceptionResnetV1, type InceptionResnetV1Options } from '../facenet/inception-resnet-v1.js';
import { BatchLoader, BatchSampler, type LoadedBatch, type WarningSink } from './batches.js';
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  checkpointDirName,
  latestTrainingCheckpoint,
  loadTrainingCheckpoint,
  pruneTrainingCheckpoints,
  saveTrainingCheckpoint,
  type TrainingCheckpointState,
} from './checkpoint.js';
import { resolveTrainConfig, type TrainConfig } from './config.js';
import { datasetFingerprint, readImageFolder, splitDataset, type LabeledImages } from './dataset.js';
import { MovingAverage } from './ema.js';
import { ClassHead } from './head.js';
import { JsonLinesLog } from './log.js';
import {
  applyForPrelogits,
  arraysToWeights,
  isDecayedWeight,
  modelWeights,
  prelogitsOutputIndex,
  randomLayers,
  weightsToArrays,
  withSeededMathRandom,
  type ModelWeight,
} from './model-state.js';
import { TrainOptimizer, type NamedVariable } from './optimizers.js';
import { Rng } from './rng.js';
import { learningRateAt, resolveSchedule } from './schedule.js';
import type { LossSettings, MicroMetrics } from './step.js';
import { inProcessEngine, type GradientEngine, type TrainingState } from './engine.js';

/** Metrics of one update. */
export interface StepMetrics {
  /** Updates done, including this one. */
  step: number;
  /** 1-based epoch of this update. */
  epoch: number;
  /** Total loss: data loss + weight decay. */
  loss: number;
  crossEntropy: number;
  centerLoss: number;
  /** Weight decay term (before the update). */
  regularization: number;
  prelogitsNorm: number;
  tripletLoss: number;
  /** Training accuracy of the head on this update's images (0 without a head). */
  accuracy: number;
  learningRate: number;
  imagesPerSecond: number;
  /**
   * Where the time of this update went, in seconds: `dataWait` (waiting for images that
   * were not decoded yet), `gradients` (forward + backward), `update` (weight decay,
   * optimizer, centers, moving average), plus engine details with workers
   * (`broadcast`, `workers`, `reduce`).
   */
  seconds: Record<string, number>;
}

/** Loss and accuracy on the validation images. */
export interface ValidationMetrics {
  loss: number;
  crossEntropy: number;
  centerLoss: number;
  accuracy: number;
  images: number;
}

/** Metrics of one epoch. */
export interface EpochMetrics {
  /** 1-based epoch just finished. */
  epoch: number;
  step: number;
  /** Means over the epoch's updates (of this run; a resumed epoch counts from the resume). */
  loss: number;
  accuracy: number;
  validation?: ValidationMetrics;
  /** What the `evaluateEvery` callback returned. */
  evaluation?: Record<string, number>;
  seconds: number;
}

/** Passed to the `evaluateEvery` callback. */
export interface EvaluationContext {
  epoch: number;
  step: number;
  model: tfl.LayersModel;
  /** L2-normalized embeddings `[n, d]` of standardized images `[n, size, size, 3]` (inference mode; moving-average weights when enabled). */
  embed(images: tf.Tensor4D): tf.Tensor2D;
}

/** Options of {@link train} (the run itself is the {@link TrainConfig}). */
export interface TrainOptions {
  /**
   * The network: images `[n, s, s, 3]` → pre-logits `[n, d]` (or several outputs, see
   * `prelogitsOutput`). A function is called once, with Math.random seeded from the
   * config seed so that initialization is reproducible. Default: Inception-ResNet-v1 from
   * `src/facenet` with the config's embeddingSize, keepProbability and modelOptions.
   */
  model?: tfl.LayersModel | (() => tfl.LayersModel | Promise<tfl.LayersModel>);
  /** Which output is the pre-logits (index or name). Default: one named like "prelogits", else 0. */
  prelogitsOutput?: number | string;
  /** Continue from the newest checkpoint in `outDir/checkpoints` (true) or from this checkpoint directory. */
  resume?: boolean | string;
  onStep?: (m: StepMetrics) => void;
  onEpoch?: (m: EpochMetrics) => void;
  /** Problems that do not stop training (unreadable images, export failures). Default: logged only. */
  onWarning?: WarningSink;
  /** Abort: a checkpoint is saved at the next update boundary and train() returns. */
  signal?: AbortSignal;
  /** Run `fn` (e.g. an LFW evaluation) every `epochs` epochs; its numbers are logged. */
  evaluateEvery?: {
    epochs: number;
    fn: (ctx: EvaluationContext) => Promise<Record<string, number>> | Record<string, number>;
  };
  /** Stop (with a checkpoint) after this many updates in this call. Default: no limit. */
  maxSteps?: number;
  /** Show a progress bar on stderr. Default: when stderr is a terminal. */
  progress?: boolean;
  /**
   * Data-parallel gradient workers (worker_threads, Node); 0 = compute in this thread.
   * Each worker rebuilds the model from its JSON topology. Default 0.
   */
  workers?: number;
  /** Modules every worker imports before rebuilding the model (to register custom layers). Default none. */
  workerModules?: string[];
  /** Write the trained model to `outDir/model` when training ends (not when aborted). Default true. */
  exportModel?: boolean;
  /** Preprocessing recorded beside the exported model (margin, alignment of the training crops). Default: the reference's. */
  preprocessing?: Partial<Preprocessing>;
}

/** Why training stopped. */
export type StopReason = 'completed' | 'aborted' | 'max-steps' | 'schedule';

/** What {@link train} returns. */
export interface TrainResult {
  stopReason: StopReason;
  /** Updates done in total (including those before a resume). */
  step: number;
  /** Epochs completed. */
  epoch: number;
  /** The last checkpoint written. */
  checkpoint: string | null;
  /** `outDir/model` when the model was exported. */
  modelDir: string | null;
  lastStep?: StepMetrics;
  lastEpoch?: EpochMetrics;
  classNames: string[];
}

/** Options whose change makes a checkpoint unusable for resuming. */
const RESUME_CRITICAL: Array<keyof TrainConfig> = [
  'seed',
  'imageSize',
  'randomCrop',
  'randomFlip',
  'validationSplit',
  'minImagesPerClass',
  'sampler',
  'imagesPerClass',
  'batchSize',
  'accumulationSteps',
  'stepsPerEpoch',
  'embeddingSize',
  'keepProbability',
  'modelOptions',
  'head',
  'optimizer',
];

/** Checkpoint sub-directory of an output directory. */
export function checkpointsDir(outDir: string): string {
  return nodePath.join(outDir, 'checkpoints');
}

/** The training log of an output directory. */
export function trainLogPath(outDir: string): string {
  return nodePath.join(outDir, 'train-log.jsonl');
}

/**
 * Save a trained model for inference: `dir/model.json` + weights (TensorFlow.js layers
 * format, loadable with `loadModel` / `loadFacenetEmbedder`) and `dir/preprocessing.json`
 * (fixed standardization, the training input size; the other fields default to the
 * reference's crop alignment unless `preprocessing` says otherwise).
 */
export async function exportTrainedModel(
  model: tfl.LayersModel,
  dir: string,
  config: Pick<TrainConfig, 'imageSize'>,
  preprocessing: Partial<Preprocessing> = {},
): Promise<void> {
  const { saveModel } = await import('../facenet/model-io.js');
  const { writeModelPreprocessing } = await import('../recognition/load.js');
  const { DEFAULT_PREPROCESSING } = await import('../face/embedding.js');
  await fsp.mkdir(dir, { recursive: true });
  await saveModel(model, dir);
  await writeModelPreprocessing(dir, {
    ...DEFAULT_PREPROCESSING,
    ...preprocessing,
    imageSize: config.imageSize,
    standardization: 'fixed',
  });
}

/**
 * The default network: Inception-ResNet-v1 with the config's input size, embedding size,
 * keep probability and `modelOptions` (e.g. blockRepeats, widthMultiplier). Weight decay
 * is left to the trainer (config.weightDecay on every kernel), so the model gets none.
 */
export function buildDefaultModel(config: TrainConfig): tfl.LayersModel {
  return buildInceptionResnetV1({
    inputSize: config.imageSize,
    embeddingSize: config.embeddingSize,
    keepProbability: config.keepProbability,
    seed: Rng.derive(config.seed, 'init').nextUint32() % 0x7fffffff,
    ...(config.modelOptions as InceptionResnetV1Options),
    weightDecay: 0,
    bottleneckWeightDecay: 0,
  });
}

function weightedMean(values: number[], weights: number[]): number {
  let s = 0;
  let w = 0;
  values.forEach((v, i) => {
    s += v * weights[i];
    w += weights[i];
  });
  return w > 0 ? s / w : 0;
}

function pickConfig(c: TrainConfig, keys: Array<keyof TrainConfig>): string {
  return keys.map((k) => `${k}=${JSON.stringify(c[k])}`).join(', ');
}

/**
 * Train. Returns when the configured epochs are done, the schedule says stop,
 * `maxSteps` is reached or `signal` aborts — in every case after saving a checkpoint.
 * Node only; initialize the backend first (`await initBackend()`); the gradient kernels
 * training needs are registered here.
 *
 * Output directory: `checkpoints/ckpt-<step>/` (newest `keepCheckpoints`),
 * `train-log.jsonl` (one JSON object per step, epoch, checkpoint, warning, start and
 * stop; appended across resumes) and, at the end, `model/` (the network for inference,
 * with moving-average weights when enabled, plus `preprocessing.json`).
 *
 * @throws {ConfigError} for bad options; {FileNotFoundError} for a missing dataset or
 *   checkpoint; {IncompatibleFileError} when resuming from a checkpoint of another
 *   configuration, dataset or model.
 */
export async function train(
  config: Partial<TrainConfig> & Pick<TrainConfig, 'dataDir' | 'outDir'>,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const cfg = resolveTrainConfig(config as Partial<TrainConfig> & Record<string, unknown>);
  // wasm lacks the convolution filter gradient; cpu's is very slow.
  registerTrainingKernels();
  const ckptRoot = checkpointsDir(cfg.outDir);
  const log = new JsonLinesLog(trainLogPath(cfg.outDir));
  const warn: WarningSink = (message, detail) => {
    void log.write({ type: 'warning', message, ...detail });
    options.onWarning?.(message, detail);
  };
  if (options.maxSteps !== undefined && !(Number.isInteger(options.maxSteps) && options.maxSteps >= 0)) {
    throw new ConfigError('maxSteps', `must be an integer ≥ 0, got ${options.maxSteps}`);
  }
  if (options.evaluateEvery && !(Number.isInteger(options.evaluateEvery.epochs) && options.evaluateEvery.epochs >= 1)) {
    throw new ConfigError('evaluateEvery.epochs', `must be an integer ≥ 1, got ${options.evaluateEvery.epochs}`);
  }

  // ---- checkpoint to resume from ----
  let resumeFrom: string | null = null;
  if (options.resume) {
    resumeFrom = typeof options.resume === 'string' ? options.resume : await latestTrainingCheckpoint(ckptRoot);
    if (!resumeFrom) throw new FileNotFoundError(ckptRoot, 'checkpoint to resume from');
  }
  const restored = resumeFrom ? await loadTrainingCheckpoint(resumeFrom) : null;
  if (restored) {
    for (const k of RESUME_CRITICAL) {
      if (JSON.stringify(restored.state.config[k]) !== JSON.stringify(cfg[k])) {
        throw new IncompatibleFileError(
          resumeFrom!,
          `was trained with ${k}=${JSON.stringify(restored.state.config[k])}, the configuration now says ${JSON.stringify(cfg[k])}`,
        );
      }
    }
  }

  // ---- data ----
  const folder = await readImageFolder(cfg.dataDir);
  const split = splitDataset(folder, { validationSplit: cfg.validationSplit, minImagesPerClass: cfg.minImagesPerClass, seed: cfg.seed });
  for (const d of split.dropped) warn(`class ${d.name} not used: ${d.reason}`, { class: d.name });
  const trainSet = split.train;
  const valSet = split.validation;
  const numClasses = trainSet.classNames.length;
  const trainFp = datasetFingerprint(trainSet, cfg.dataDir);
  const valFp = datasetFingerprint(valSet, cfg.dataDir);
  if (restored && restored.state.dataset.trainFingerprint !== trainFp) {
    throw new IncompatibleFileError(
      resumeFrom!,
      `was trained on a different dataset or split (${restored.state.dataset.trainImages} images in ${restored.state.dataset.classNames.length} classes; now ${trainSet.paths.length} in ${numClasses})`,
    );
  }
  if (cfg.head !== 'none' && numClasses < 2) throw new ConfigError('dataDir', `needs at least 2 identities, found ${numClasses}`);
  const sampler = new BatchSampler(trainSet, {
    seed: cfg.seed,
    batchSize: cfg.batchSize,
    accumulationSteps: cfg.accumulationSteps,
    kind: cfg.sampler,
    imagesPerClass: cfg.imagesPerClass,
    randomCrop: cfg.randomCrop,
    randomFlip: cfg.randomFlip,
  });
  const loader = new BatchLoader(trainSet, (l) => sampler.classMembers(l), { imageSize: cfg.imageSize, onWarning: warn });
  const valLoader = new BatchLoader(valSet, () => [], { imageSize: cfg.imageSize, onWarning: warn });
  const stepsPerEpoch = cfg.stepsPerEpoch ?? sampler.stepsPerPass;
  const totalSteps = cfg.epochs * stepsPerEpoch;
  const schedule = await resolveSchedule(cfg.schedule);

  // ---- model and training state ----
  const ownsModel = !(options.model && typeof options.model !== 'function');
  const model =
    typeof options.model === 'function'
      ? await withSeededMathRandom(Rng.derive(cfg.seed, 'init').nextUint32(), options.model)
      : options.model ?? (await withSeededMathRandom(Rng.derive(cfg.seed, 'init').nextUint32(), () => buildDefaultModel(cfg)));
  const toDispose: Array<{ dispose(): unknown }> = [];
  let engine: GradientEngine | null = null;
  const progressEnabled = options.progress ?? !!process.stderr.isTTY;
  let bar: Progress | null = null;
  const pending = new Map<string, Promise<LoadedBatch>>();
  try {
    const outputIndex = prelogitsOutputIndex(model, options.prelogitsOutput);
    const featureSize = model.outputs[outputIndex].shape[1];
    if (typeof featureSize !== 'number') throw new ConfigError('model', 'the pre-logits output must have a fixed feature size');
    const inShape = model.inputs[0].shape;
    if (inShape.length !== 4 || (inShape[1] !== null && inShape[1] !== cfg.imageSize) || (inShape[2] !== null && inShape[2] !== cfg.imageSize)) {
      throw new ConfigError('imageSize', `is ${cfg.imageSize} but the model takes input ${JSON.stringify(inShape)}`);
    }
    const head =
      cfg.head === 'none'
        ? null
        : new ClassHead({
            kind: cfg.head,
            featureSize,
            numClasses,
            seed: Rng.derive(cfg.seed, 'head').nextUint32(),
            scale: cfg.marginScale,
            margin: cfg.margin,
          });
    if (head) toDispose.push(head);
    const centerLoss =
      cfg.centerLossFactor > 0 ? new CenterLoss({ numClasses, featureSize, alpha: cfg.centerLossAlpha }) : null;
    if (centerLoss) toDispose.push(centerLoss);
    const weights = modelWeights(model);
    const trainable: NamedVariable[] = [
      ...weights.filter((w) => w.trainable).map((w) => ({ name: w.key, variable: w.variable })),
      ...(head?.namedVariables() ?? []),
    ];
    const decayed = [
      ...weights.filter((w) => w.trainable && isDecayedWeight(w.name)).map((w) => w.variable),
      ...(head ? [head.kernel] : []),
    ];
    const decayedSet = new Set(decayed);
    if (model.losses.length > 0 && cfg.weightDecay > 0) {
      warn('the model has its own weight regularizers; they are added on top of weightDecay (build it without them or set weightDecay 0)');
    }
    const optimizer = new TrainOptimizer(cfg.optimizer, trainable);
    toDispose.push(optimizer);
    const ema = cfg.movingAverageDecay > 0 ? new MovingAverage(trainable, cfg.movingAverageDecay) : null;
    if (ema) toDispose.push(ema);
    const state: TrainingState = {
      config: cfg,
      model,
      outputIndex,
      head,
      centerLoss,
      settings: {
        centerLossFactor: cfg.centerLossFactor,
        prelogitsNormFactor: cfg.prelogitsNormFactor,
        prelogitsNormP: cfg.prelogitsNormP,
        tripletLossFactor: cfg.tripletLossFactor,
        tripletMargin: cfg.tripletMargin,
        tripletMining: cfg.tripletMining,
      },
      weights,
      trainable,
      randomLayers: randomLayers(model),
    };

    let step = 0;
    if (restored) {
      const src = resumeFrom!;
      const names = restored.state.modelWeights;
      if (names.length !== weights.length) {
        throw new IncompatibleFileError(src, `holds ${names.length} model weights, the model has ${weights.length}`);
      }
      arraysToWeights(restored.tensors, weights.map((w) => ({ key: w.key, variable: w.variable })), src);
      if (head) arraysToWeights(restored.tensors, head.namedVariables().map((v) => ({ key: v.name, variable: v.variable })), src);
      if (centerLoss) {
        const c = restored.tensors.get('center_loss/centers');
        if (c) centerLoss.setCenters(c.data as Float32Array);
        else warn('checkpoint has no center-loss centers; they start at zero');
      }
      const slots: NamedArrays = new Map();
      for (const [k, v] of restored.tensors) if (k.startsWith('optimizer/')) slots.set(k.slice('optimizer/'.length), v);
      optimizer.setState({ iterations: restored.state.optimizer.iterations, slots }, src);
      if (ema) {
        if (restored.state.movingAverage) ema.setState(restored.tensors, src);
        else warn('checkpoint has no moving averages; they restart from the current weights');
      }
      step = restored.state.step;
    }
    restored?.tensors.clear();

    const checkpointTensors = (): NamedArrays => {
      const out = weightsToArrays(weights.map((w) => ({ key: w.key, variable: w.variable })));
      if (head) weightsToArrays(head.namedVariables().map((v) => ({ key: v.name, variable: v.variable })), out);
      if (centerLoss) out.set('center_loss/centers', { shape: [numClasses, featureSize], dtype: 'float32', data: centerLoss.getCenters() });
      for (const [k, v] of optimizer.getState().slots) out.set(`optimizer/${k}`, v);
      if (ema) ema.getState(out);
      return out;
    };
    let lastCheckpoint: string | null = resumeFrom;
    let lastStepMetrics: StepMetrics | undefined;
    let lastEpochMetrics: EpochMetrics | undefined;
    const save = async () => {
      const st: TrainingCheckpointState = {
        format: CHECKPOINT_FORMAT,
        version: CHECKPOINT_VERSION,
        step,
        epoch: Math.floor(step / stepsPerEpoch),
        config: cfg,
        dataset: {
          trainFingerprint: trainFp,
          validationFingerprint: valFp,
          classNames: trainSet.classNames,
          trainImages: trainSet.paths.length,
          validationImages: valSet.paths.length,
        },
        modelWeights: weights.map((w) => ({ name: w.name, shape: w.variable.shape.slice(), trainable: w.trainable })),
        optimizer: { kind: cfg.optimizer, iterations: optimizer.iterations },
        rng: { seed: cfg.seed, scheme: 'derive(seed,purpose,step,micro)' },
        movingAverage: !!ema,
        metrics: lastStepMetrics ? { ...lastStepMetrics } : undefined,
        savedAt: new Date().toISOString(),
      };
      lastCheckpoint = await saveTrainingCheckpoint(ckptRoot, st, checkpointTensors());
      await pruneTrainingCheckpoints(ckptRoot, cfg.keepCheckpoints);
      await log.write({ type: 'checkpoint', step, path: lastCheckpoint });
    };

    engine = options.workers && options.workers > 0
      ? await (await import('./parallel.js')).createParallelEngine(state, options.workers, options.workerModules)
      : inProcessEngine(state);

    // Batches are planned and loaded in order; the next ones load while this one trains.
    const batchKey = (s: number, m: number) => `${s}:${m}`;
    const prefetchDepth = Math.max(2, cfg.accumulationSteps);
    const request = (s: number, m: number) => {
      const k = batchKey(s, m);
      let p = pending.get(k);
      if (!p) {
        p = loader.load(sampler.plan(s, m));
        p.catch(() => {}); // surfaced when awaited
        pending.set(k, p);
      }
      return p;
    };
    const prefetchAfter = (s: number, m: number) => {
      let ss = s;
      let mm = m;
      for (let i = 0; i < prefetchDepth; i++) {
        mm++;
        if (mm >= cfg.accumulationSteps) {
          mm = 0;
          ss++;
        }
        if (ss >= totalSteps) break;
        request(ss, mm);
      }
    };

    const validate = async (): Promise<ValidationMetrics | undefined> => {
      if (valSet.paths.length === 0) return undefined;
      const sums = { ce: 0, center: 0, correct: 0, n: 0 };
      const bs = cfg.batchSize;
      let next: Promise<LoadedBatch> | null = valLoader.loadRange(0, Math.min(bs, valSet.paths.length));
      for (let start = 0; start < valSet.paths.length; start += bs) {
        const batch: LoadedBatch = await next!;
        const nextStart = start + bs;
        next = nextStart < valSet.paths.length ? valLoader.loadRange(nextStart, Math.min(nextStart + bs, valSet.paths.length)) : null;
        const n = batch.labels.length;
        const [ce, center, correct] = tf.tidy(() => {
          const x = tf.tensor4d(batch.images, batch.shape);
          const pre = applyForPrelogits(model, x, outputIndex, false);
          let ceV = 0;
          let correctV = 0;
          if (head) {
            ceV = softmaxCrossEntropy(head.trainingLogits(pre, batch.labels), batch.labels).dataSync()[0];
            const pred = tf.argMax(head.predictLogits(pre), 1).dataSync();
            for (let i = 0; i < n; i++) if (pred[i] === batch.labels[i]) correctV++;
          }
          const centerV = centerLoss ? centerLoss.compute(pre, batch.labels).dataSync()[0] : 0;
          return [ceV, centerV, correctV];
        });
        sums.ce += ce * n;
        sums.center += center * n;
        sums.correct += correct;
        sums.n += n;
      }
      const crossEntropy = sums.ce / sums.n;
      const centerLossV = sums.center / sums.n;
      return {
        loss: crossEntropy + cfg.centerLossFactor * centerLossV,
        crossEntropy,
        centerLoss: centerLossV,
        accuracy: head ? sums.correct / sums.n : 0,
        images: sums.n,
      };
    };

    const evaluate = async (epochNumber: number): Promise<Record<string, number> | undefined> => {
      const ev = options.evaluateEvery;
      if (!ev || epochNumber % ev.epochs !== 0) return undefined;
      const ctx: EvaluationContext = {
        epoch: epochNumber,
        step,
        model,
        embed: (images) =>
          tf.tidy(() => l2Normalize(applyForPrelogits(model, images, outputIndex, false), 1) as tf.Tensor2D),
      };
      return ema ? ema.withAverages(() => ev.fn(ctx)) : ev.fn(ctx);
    };

    await log.write({
      type: 'start',
      resumedFrom: resumeFrom,
      step,
      config: cfg,
      classes: numClasses,
      trainImages: trainSet.paths.length,
      validationImages: valSet.paths.length,
      stepsPerEpoch,
      workers: options.workers ?? 0,
      backend: tf.getBackend(),
    });

    let stopReason: StopReason = 'completed';
    let stepsThisCall = 0;
    let epochLoss: number[] = [];
    let epochAcc: number[] = [];
    let epochStart = Date.now();
    let lastTime = Date.now();
    if (step < totalSteps) request(step, 0);
    while (step < totalSteps) {
      if (options.signal?.aborted) {
        stopReason = 'aborted';
        break;
      }
      if (options.maxSteps !== undefined && stepsThisCall >= options.maxSteps) {
        stopReason = 'max-steps';
        break;
      }
      const epochIndex = Math.floor(step / stepsPerEpoch);
      const lr = learningRateAt(schedule, cfg.learningRate, { step, epoch: epochIndex, stepsPerEpoch });
      if (lr === null) {
        stopReason = 'schedule';
        break;
      }
      if (progressEnabled && !bar) {
        bar = startProgress(`epoch ${epochIndex + 1}/${cfg.epochs}`, stepsPerEpoch, { force: true });
        bar.tick(step % stepsPerEpoch);
      }
      const s = step;
      let dataWait = 0;
      const tCompute = performance.now();
      const acc = await engine!.computeStep(
        s,
        async (m) => {
          const p = request(s, m);
          pending.delete(batchKey(s, m));
          prefetchAfter(s, m);
          const t = performance.now();
          const b = await p;
          dataWait += performance.now() - t;
          return b;
        },
        cfg.accumulationSteps,
      );
      const tUpdate = performance.now();
      let regularization = 0;
      try {
        const grads = acc.grads!;
        if (cfg.weightDecay > 0) {
          const reg = l2WeightDecay(decayed, cfg.weightDecay);
          regularization = reg.dataSync()[0];
          reg.dispose();
          trainable.forEach((v, i) => {
            if (!decayedSet.has(v.variable)) return;
            const g = grads[i];
            grads[i] = tf.tidy(() => tf.add(g, tf.mul(v.variable, cfg.weightDecay)));
            g.dispose();
          });
        }
        optimizer.apply(grads, lr);
        if (centerLoss) {
          const all = acc.prelogits.length === 1 ? acc.prelogits[0] : tf.concat(acc.prelogits, 0);
          const labels = new Int32Array(acc.labels.reduce((n, l) => n + l.length, 0));
          let o = 0;
          for (const l of acc.labels) {
            labels.set(l, o);
            o += l.length;
          }
          centerLoss.update(all, labels);
          if (all !== acc.prelogits[0]) all.dispose();
        }
      } finally {
        acc.grads?.forEach((g) => g.dispose());
        acc.prelogits.forEach((p) => p.dispose());
      }
      step++;
      stepsThisCall++;
      ema?.update(step);
      const tDone = performance.now();

      const now = Date.now();
      const images = acc.sizes.reduce((a, b) => a + b, 0);
      const mean = (k: keyof MicroMetrics) => weightedMean(acc.metrics.map((m) => m[k]), acc.sizes);
      const metrics: StepMetrics = {
        step,
        epoch: epochIndex + 1,
        loss: mean('loss') + regularization + mean('modelRegularization'),
        crossEntropy: mean('crossEntropy'),
        centerLoss: mean('centerLoss'),
        regularization: regularization + mean('modelRegularization'),
        prelogitsNorm: mean('prelogitsNorm'),
        tripletLoss: mean('tripletLoss'),
        accuracy: mean('accuracy'),
        learningRate: lr,
        imagesPerSecond: images / Math.max(1e-3, (now - lastTime) / 1000),
        seconds: {
          dataWait: dataWait / 1000,
          gradients: (tUpdate - tCompute - dataWait) / 1000,
          update: (tDone - tUpdate) / 1000,
          ...acc.timings,
        },
      };
      lastTime = now;
      lastStepMetrics = metrics;
      epochLoss.push(metrics.loss);
      epochAcc.push(metrics.accuracy);
      void log.write({ type: 'step', ...metrics });
      options.onStep?.(metrics);
      bar?.tick(1, { loss: metrics.loss, acc: metrics.accuracy, lr });

      if (!Number.isFinite(metrics.loss)) {
        await save();
        throw new ConfigError(
          'learningRate',
          `training diverged at step ${step} (loss ${metrics.loss}); lower the learning rate (checkpoint: ${lastCheckpoint})`,
        );
      }

      const epochDone = step % stepsPerEpoch === 0;
      if (epochDone) {
        bar?.stop();
        bar = null;
        const epochNumber = step / stepsPerEpoch;
        const isLast = step === totalSteps;
        const validation =
          cfg.validateEveryEpochs > 0 && (epochNumber % cfg.validateEveryEpochs === 0 || isLast) ? await validate() : undefined;
        const evaluation = await evaluate(epochNumber);
        const em: EpochMetrics = {
          epoch: epochNumber,
          step,
          loss: epochLoss.reduce((a, b) => a + b, 0) / Math.max(1, epochLoss.length),
          accuracy: epochAcc.reduce((a, b) => a + b, 0) / Math.max(1, epochAcc.length),
          validation,
          evaluation,
          seconds: (Date.now() - epochStart) / 1000,
        };
        lastEpochMetrics = em;
        await log.write({ type: 'epoch', ...em });
        options.onEpoch?.(em);
        epochLoss = [];
        epochAcc = [];
        epochStart = Date.now();
        lastTime = Date.now();
        if (epochNumber % cfg.checkpointEveryEpochs === 0 || isLast) await save();
      } else if (cfg.checkpointEverySteps > 0 && step % cfg.checkpointEverySteps === 0) {
        await save();
      }
    }
    bar?.stop();
    bar = null;
    if (lastCheckpoint === null || !lastCheckpoint.endsWith(checkpointDirName(step))) await save();

    let modelDir: string | null = null;
    if (stopReason !== 'aborted' && stopReason !== 'max-steps' && options.exportModel !== false) {
      const dir = nodePath.join(cfg.outDir, 'model');
      try {
        await (ema ? ema.withAverages(() => exportTrainedModel(model, dir, cfg, options.preprocessing)) : exportTrainedModel(model, dir, cfg, options.preprocessing));
        modelDir = dir;
      } catch (e) {
        warn(`could not export the model to ${dir}: ${(e as Error).message}`);
      }
    }
    await log.write({ type: 'stop', reason: stopReason, step, checkpoint: lastCheckpoint, modelDir });
    await log.flush();
    return {
      stopReason,
      step,
      epoch: Math.floor(step / stepsPerEpoch),
      checkpoint: lastCheckpoint,
      modelDir,
      lastStep: lastStepMetrics,
      lastEpoch: lastEpochMetrics,
      classNames: trainSet.classNames,
    };
  } finally {
    bar?.stop();
    // Let in-flight image loads settle so nothing rejects after we return.
    await Promise.allSettled(pending.values());
    pending.clear();
    await engine?.dispose();
    for (const d of toDispose.reverse()) d.dispose();
    if (ownsModel) model.dispose();
    await log.flush().catch(() => {});
  }
}

/** Describe the resume-critical part of a configuration (for messages). */
export function describeRun(c: TrainConfig): string {
  return pickConfig(c, RESUME_CRITICAL);
}

export type { LabeledImages };
