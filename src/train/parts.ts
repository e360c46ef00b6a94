/**
 * The parts a run trains and keeps: the network's weights, the classifier head, the
 * center-loss centers, the optimizer and the moving averages — built for a model, restored
 * from a checkpoint, written back to named arrays, and updated with one step's gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, IncompatibleFileError } from '../errors.js';
import type { NamedArrays } from '../io/types.js';
import { CenterLoss } from '../losses/center-loss.js';
import { l2WeightDecay } from '../losses/regularization.js';
import type { WarningSink } from './batches.js';
import type { TrainConfig } from './config.js';
import { MovingAverage } from './ema.js';
import type { StepAccumulator, TrainingState } from './engine.js';
import { ClassHead } from './head.js';
import { arraysToWeights, isDecayedWeight, modelWeights, prelogitsOutputIndex, randomLayers, weightsToArrays } from './model-state.js';
import { TrainOptimizer, type NamedVariable } from './optimizers.js';
import type { ResumePoint } from './resume.js';
import type { RunData } from './run-data.js';
import type { StepMetrics } from './metrics.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type TrainingCheckpointState } from './checkpoint.js';
import { Rng } from './rng.js';

/** Everything a run trains, and what the gradient engines see of it ({@link TrainingState}). */
export interface TrainingParts {
  state: TrainingState;
  head: ClassHead | null;
  centerLoss: CenterLoss | null;
  optimizer: TrainOptimizer;
  ema: MovingAverage | null;
  /** Variables that get weight decay, and the same as a set. */
  decayed: tf.Variable[];
  decayedSet: Set<tf.Variable>;
  numClasses: number;
  featureSize: number;
}

/**
 * Build the parts for `model`. What is created is also pushed to `toDispose` as it is made,
 * so that a failure half-way leaves nothing behind.
 * @throws {ConfigError} when the model's pre-logits or input do not fit the configuration.
 */
export function buildTrainingParts(
  model: tfl.LayersModel,
  cfg: TrainConfig,
  numClasses: number,
  prelogitsOutput: number | string | undefined,
  warn: WarningSink,
  toDispose: Array<{ dispose(): unknown }>,
): TrainingParts {
  const outputIndex = prelogitsOutputIndex(model, prelogitsOutput);
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
      distillationFactor: cfg.teacherCache ? cfg.distillationFactor : 0,
      distillationMetric: cfg.distillationMetric,
      relationalDistillationFactor: cfg.teacherCache ? cfg.relationalDistillationFactor : 0,
    },
    weights,
    trainable,
    randomLayers: randomLayers(model),
  };
  return { state, head, centerLoss, optimizer, ema, decayed, decayedSet, numClasses, featureSize };
}

/**
 * Load a checkpoint into the parts.
 * @returns the step the checkpoint was saved at.
 * @throws {IncompatibleFileError} when it holds other weights than the model has.
 */
export function restoreTrainingParts(parts: TrainingParts, restored: NonNullable<ResumePoint['restored']>, src: string, warn: WarningSink): number {
  const { head, centerLoss, optimizer, ema } = parts;
  const { weights } = parts.state;
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
  const step = restored.state.step;
  restored.tensors.clear();
  return step;
}

/** The parts as named arrays, for a checkpoint. */
export function trainingPartsToArrays(parts: TrainingParts): NamedArrays {
  const { head, centerLoss, optimizer, ema, numClasses, featureSize } = parts;
  const { weights } = parts.state;
  const out = weightsToArrays(weights.map((w) => ({ key: w.key, variable: w.variable })));
  if (head) weightsToArrays(head.namedVariables().map((v) => ({ key: v.name, variable: v.variable })), out);
  if (centerLoss) out.set('center_loss/centers', { shape: [numClasses, featureSize], dtype: 'float32', data: centerLoss.getCenters() });
  for (const [k, v] of optimizer.getState().slots) out.set(`optimizer/${k}`, v);
  if (ema) ema.getState(out);
  return out;
}

/**
 * Apply one update: weight decay added to the gradients, the optimizer step at `lr`, the
 * centers moved by all micro-batches at once. Disposes the step's gradients and pre-logits.
 * @returns the weight-decay term (before the update).
 */
export function applyUpdate(parts: TrainingParts, acc: StepAccumulator, lr: number, cfg: TrainConfig): number {
  const { optimizer, centerLoss, decayed, decayedSet } = parts;
  const { trainable } = parts.state;
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
  return regularization;
}

/** The state record of a checkpoint at `step` (the tensors are {@link trainingPartsToArrays}). */
export function trainingCheckpointState(parts: TrainingParts, data: RunData, step: number, lastStep: StepMetrics | undefined): TrainingCheckpointState {
  const cfg = parts.state.config;
  const { trainSet, valSet, trainFp, valFp, stepsPerEpoch } = data;
  return {
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
    modelWeights: parts.state.weights.map((w) => ({ name: w.name, shape: w.variable.shape.slice(), trainable: w.trainable })),
    optimizer: { kind: cfg.optimizer, iterations: parts.optimizer.iterations },
    rng: { seed: cfg.seed, scheme: 'derive(seed,purpose,step,micro)' },
    movingAverage: !!parts.ema,
    metrics: lastStep ? { ...lastStep } : undefined,
    savedAt: new Date().toISOString(),
  };
}
