/** Loss and accuracy of the model on the held-out images, in inference mode, batch by batch. */
import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from '../losses/cross-entropy.js';
import type { BatchLoader, LoadedBatch } from './batches.js';
import type { LabeledImages } from './dataset.js';
import type { ValidationMetrics } from './metrics.js';
import { applyForPrelogits } from './model-state.js';
import type { TrainingParts } from './parts.js';

/** Validation metrics, or undefined when there are no validation images. The next batch loads while one is computed. */
export async function validateModel(parts: TrainingParts, valSet: LabeledImages, valLoader: BatchLoader): Promise<ValidationMetrics | undefined> {
  const { head, centerLoss } = parts;
  const { model, outputIndex, config: cfg } = parts.state;
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
}
