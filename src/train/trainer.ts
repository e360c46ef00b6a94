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
import * as nodePath from 'node:path';
import * as fsp from 'node:fs/promises';
import type { Preprocessing } from '../face/embedding.js';
import { ConfigError } from '../errors.js';
import { l2Normalize } from '../losses/margin-softmax.js';
import { startProgress, type Progress } from '../util/progress.js';
import { registerTrainingKernels } from '../kernels/register.js';
import { buildInceptionResnetV1, type InceptionResnetV1Options } from '../facenet/inception-resnet-v1.js';
import type { WarningSink } from './batches.js';
import { checkpointDirName, pruneTrainingCheckpoints, saveTrainingCheckpoint } from './checkpoint.js';
import { resolveTrainConfig, type TrainConfig } from './config.js';
import type { LabeledImages } from './dataset.js';
import { JsonLinesLog } from './log.js';
import { findResumePoint } from './resume.js';
import { initWeightsFromModel } from './init-weights.js';
import { validateModel } from './validate.js';
import { BatchPrefetcher } from './prefetch.js';
import { applyUpdate, buildTrainingParts, restoreTrainingParts, trainingCheckpointState, trainingPartsToArrays, type TrainingParts } from './parts.js';
import { prepareRunData } from './run-data.js';
import { applyForPrelogits, withSeededMathRandom } from './model-state.js';
import { Rng } from './rng.js';
import { learningRateAt } from './schedule.js';
import { inProcessEngine, type GradientEngine } from './engine.js';
import { EpochTally, stepMetrics, type StepMetrics, type EpochMetrics } from './metrics.js';
export type { StepMetrics, ValidationMetrics, EpochMetrics } from './metrics.js';
export { describeRun } from './resume.js';

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

/** @throws {ConfigError} for out-of-range loop options. */
function checkTrainOptions(options: TrainOptions): void {
  if (options.maxSteps !== undefined && !(Number.isInteger(options.maxSteps) && options.maxSteps >= 0)) {
    throw new ConfigError('maxSteps', `must be an integer ≥ 0, got ${options.maxSteps}`);
  }
  if (options.evaluateEvery && !(Number.isInteger(options.evaluateEvery.epochs) && options.evaluateEvery.epochs >= 1)) {
    throw new ConfigError('evaluateEvery.epochs', `must be an integer ≥ 1, got ${options.evaluateEvery.epochs}`);
  }
}

/**
 * One update: the gradients of its micro-batches (waiting for prefetched images as needed),
 * then the optimizer step; returns its metrics, timed.
 */
async function runUpdate(
  engine: GradientEngine,
  prefetcher: BatchPrefetcher,
  parts: TrainingParts,
  cfg: TrainConfig,
  at: { step: number; epochIndex: number; lr: number; lastUpdateEnd: number },
): Promise<StepMetrics> {
  let dataWait = 0;
  const tCompute = performance.now();
  const acc = await engine.computeStep(
    at.step,
    async (m) => {
      const p = prefetcher.take(at.step, m);
      const t = performance.now();
      const b = await p;
      dataWait += performance.now() - t;
      return b;
    },
    cfg.accumulationSteps,
  );
  const tUpdate = performance.now();
  const regularization = applyUpdate(parts, acc, at.lr, cfg);
  parts.ema?.update(at.step + 1);
  const tDone = performance.now();
  return stepMetrics(acc, {
    step: at.step + 1,
    epoch: at.epochIndex + 1,
    regularization,
    learningRate: at.lr,
    elapsedMs: Date.now() - at.lastUpdateEnd,
    dataWaitMs: dataWait,
    gradientsMs: tUpdate - tCompute - dataWait,
    updateMs: tDone - tUpdate,
  });
}

/** The caller's evaluation at the end of an epoch, when it is due (with the moving-average weights when kept). */
async function evaluateAtEpoch(
  ev: TrainOptions['evaluateEvery'],
  parts: TrainingParts,
  model: tfl.LayersModel,
  epochNumber: number,
  step: number,
): Promise<Record<string, number> | undefined> {
  if (!ev || epochNumber % ev.epochs !== 0) return undefined;
  const { outputIndex } = parts.state;
  const ctx: EvaluationContext = {
    epoch: epochNumber,
    step,
    model,
    embed: (images) => tf.tidy(() => l2Normalize(applyForPrelogits(model, images, outputIndex, false), 1) as tf.Tensor2D),
  };
  return parts.ema ? parts.ema.withAverages(() => ev.fn(ctx)) : ev.fn(ctx);
}

/** Export the trained model (with the moving averages when kept) to `outDir/model`; null when that fails (reported). */
async function exportAtEnd(
  model: tfl.LayersModel,
  ema: TrainingParts['ema'],
  cfg: TrainConfig,
  preprocessing: Partial<Preprocessing> | undefined,
  warn: WarningSink,
): Promise<string | null> {
  const dir = nodePath.join(cfg.outDir, 'model');
  try {
    await (ema ? ema.withAverages(() => exportTrainedModel(model, dir, cfg, preprocessing)) : exportTrainedModel(model, dir, cfg, preprocessing));
    return dir;
  } catch (e) {
    warn(`could not export the model to ${dir}: ${(e as Error).message}`);
    return null;
  }
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
  checkTrainOptions(options);

  const { resumeFrom, restored, damaged } = await findResumePoint(options.resume, ckptRoot, cfg);
  // Steps after the checkpoint are trained again: their old log records go (before any new line).
  if (restored) void log.truncateAfterStep(restored.state.step);
  for (const d of damaged) warn(`checkpoint ${d.path} is damaged; resuming from ${resumeFrom}`, { checkpoint: d.path, reason: d.reason });

  const data = await prepareRunData(cfg, restored, resumeFrom, warn);
  const { trainSet, valSet, numClasses, sampler, loader, valLoader, stepsPerEpoch, totalSteps, schedule } = data;

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
  // Batches are planned and loaded in order; the next ones load while this one trains.
  const prefetcher = new BatchPrefetcher(loader, sampler, cfg.accumulationSteps, totalSteps);
  try {
    // Before the parts: the optimizer and moving averages start from these weights.
    const init = !restored && cfg.initialModel ? await initWeightsFromModel(model, cfg.initialModel) : null;
    if (restored && cfg.initialModel) warn(`resuming from ${resumeFrom}: its weights are used, not those of ${cfg.initialModel}`);
    const parts = buildTrainingParts(model, cfg, numClasses, options.prelogitsOutput, warn, toDispose);
    const { state } = parts;
    let step = restored ? restoreTrainingParts(parts, restored, resumeFrom!, warn) : 0;

    let lastCheckpoint: string | null = resumeFrom;
    let lastStepMetrics: StepMetrics | undefined;
    let lastEpochMetrics: EpochMetrics | undefined;
    const save = async () => {
      const st = trainingCheckpointState(parts, data, step, lastStepMetrics);
      lastCheckpoint = await saveTrainingCheckpoint(ckptRoot, st, trainingPartsToArrays(parts));
      await pruneTrainingCheckpoints(ckptRoot, cfg.keepCheckpoints);
      await log.write({ type: 'checkpoint', step, path: lastCheckpoint });
    };

    engine = options.workers && options.workers > 0
      ? await (await import('./parallel.js')).createParallelEngine(state, options.workers, options.workerModules)
      : inProcessEngine(state);

    const validate = () => validateModel(parts, valSet, valLoader);

    const evaluate = (epochNumber: number) => evaluateAtEpoch(options.evaluateEvery, parts, model, epochNumber, step);

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
      ...(init ? { initialModel: { copied: init.copied, zeroed: init.zeroed, fresh: init.fresh.length, unused: init.unused.length } } : {}),
    });
    if (init && init.unused.length > 0) {
      warn(`${init.unused.length} weight(s) of ${cfg.initialModel} have no place in this model (e.g. ${init.unused[0]})`, { unused: init.unused });
    }

    let stopReason: StopReason = 'completed';
    let stepsThisCall = 0;
    const epoch = new EpochTally();
    if (step < totalSteps) prefetcher.request(step, 0);
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
      const metrics = await runUpdate(engine!, prefetcher, parts, cfg, { step, epochIndex, lr, lastUpdateEnd: epoch.lastUpdateEnd });
      step++;
      stepsThisCall++;
      lastStepMetrics = metrics;
      epoch.add(metrics, Date.now());
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
        const validation = cfg.validateEveryEpochs > 0 && (epochNumber % cfg.validateEveryEpochs === 0 || isLast) ? await validate() : undefined;
        lastEpochMetrics = epoch.finish(epochNumber, step, validation, await evaluate(epochNumber));
        await log.write({ type: 'epoch', ...lastEpochMetrics });
        options.onEpoch?.(lastEpochMetrics);
        if (epochNumber % cfg.checkpointEveryEpochs === 0 || isLast) await save();
      } else if (cfg.checkpointEverySteps > 0 && step % cfg.checkpointEverySteps === 0) {
        await save();
      }
    }
    bar?.stop();
    bar = null;
    if (lastCheckpoint === null || !lastCheckpoint.endsWith(checkpointDirName(step))) await save();

    const finished = stopReason !== 'aborted' && stopReason !== 'max-steps' && options.exportModel !== false;
    const modelDir = finished ? await exportAtEnd(model, parts.ema, cfg, options.preprocessing, warn) : null;
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
    await prefetcher.settle();
    await engine?.dispose();
    for (const d of toDispose.reverse()) d.dispose();
    if (ownsModel) model.dispose();
    await log.flush().catch(() => {});
  }
}


export type { LabeledImages };
