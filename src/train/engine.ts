/**
 * The gradient engine seam of the training loop: what the loop hands an engine
 * ({@link TrainingState}), what an engine returns per update ({@link StepAccumulator}), and
 * the engine that computes in this thread. The data-parallel engine (`parallel.ts`) is the
 * other implementation; both depend on this module, the loop depends on both.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { CenterLoss } from '../losses/center-loss.js';
import type { LoadedBatch } from './batches.js';
import type { TrainConfig } from './config.js';
import type { ClassHead } from './head.js';
import type { ModelWeight } from './model-state.js';
import type { NamedVariable } from './optimizers.js';
import { Rng } from './rng.js';
import { microBatchGradients, type LossSettings, type MicroMetrics } from './step.js';

export interface StepAccumulator {
  grads: tf.Tensor[] | null;
  prelogits: tf.Tensor2D[];
  labels: Int32Array[];
  metrics: MicroMetrics[];
  sizes: number[];
  /** Engine-specific time breakdown in seconds. */
  timings?: Record<string, number>;
}

/** Engines compute the averaged gradients of one update (in this thread or in workers). */
export interface GradientEngine {
  /** Gradients of the step's micro-batches (aligned with the trainable list), their pre-logits and metrics. */
  computeStep(
    step: number,
    getBatch: (micro: number) => Promise<LoadedBatch>,
    accumulationSteps: number,
  ): Promise<StepAccumulator>;
  dispose(): Promise<void> | void;
}

/** Everything the loop and the engines share. */
export interface TrainingState {
  config: TrainConfig;
  model: tfl.LayersModel;
  outputIndex: number;
  head: ClassHead | null;
  centerLoss: CenterLoss | null;
  settings: LossSettings;
  weights: ModelWeight[];
  /** Trainable variables: model's then head's, the order of gradients and optimizer slots. */
  trainable: NamedVariable[];
  randomLayers: tfl.layers.Layer[];
}

export function inProcessEngine(state: TrainingState): GradientEngine {
  const variables = state.trainable.map((v) => v.variable);
  return {
    async computeStep(step, getBatch, accumulationSteps) {
      const acc: StepAccumulator = { grads: null, prelogits: [], labels: [], metrics: [], sizes: [] };
      try {
        for (let m = 0; m < accumulationSteps; m++) {
          const batch = await getBatch(m);
          const r = microBatchGradients({
            model: state.model,
            outputIndex: state.outputIndex,
            head: state.head,
            centerLoss: state.centerLoss,
            settings: state.settings,
            variables,
            images: batch.images,
            shape: batch.shape,
            labels: batch.labels,
            targets: batch.targets,
            randomLayers: state.randomLayers,
            dropoutRng: Rng.derive(state.config.seed, 'dropout', step, m),
            lossScale: 1 / accumulationSteps,
          });
          if (acc.grads === null) acc.grads = r.grads;
          else {
            const prev = acc.grads;
            acc.grads = prev.map((g, i) => tf.add(g, r.grads[i]));
            prev.forEach((g) => g.dispose());
            r.grads.forEach((g) => g.dispose());
          }
          acc.prelogits.push(r.prelogits);
          acc.labels.push(batch.labels);
          acc.metrics.push(r.metrics);
          acc.sizes.push(batch.labels.length);
        }
        return acc;
      } catch (e) {
        acc.grads?.forEach((g) => g.dispose());
        acc.prelogits.forEach((p) => p.dispose());
        throw e;
      }
    },
    dispose() {},
  };
}
