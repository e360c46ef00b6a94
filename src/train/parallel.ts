/**
 * Data-parallel training across worker_threads (Node).
 *
 * Each worker holds its own copy of the model (rebuilt from the model's JSON topology)
 * on its own TensorFlow.js backend. Every update, the main thread writes all parameters
 * (model weights including batch-norm statistics, head, centers) into one
 * SharedArrayBuffer and hands out the update's images:
 *
 * - when `accumulationSteps` is a multiple of the worker count, whole micro-batches, round
 *   robin — every forward pass sees the same batch as in-thread training (same batch-norm
 *   batches, same dropout masks), and per-image cost stays that of the full micro-batch;
 * - otherwise a shard of every micro-batch to every worker; each shard then normalizes
 *   with its own batch statistics (as multi-GPU training without synchronized batch norm
 *   does) and triplets are mined within shards.
 *
 * Workers compute the gradients of their part (scaled so that the parts add up to the
 * gradient of the update's mean loss) into their own shared gradient buffers; the main
 * thread sums them, applies the optimizer and the center update exactly as in-thread
 * training does, and sets each batch-norm statistic to the mean of the workers' updated
 * values (in-thread training applies the micro-batches' updates one after another, so
 * that statistic differs slightly).
 *
 * With one worker the result is identical to in-thread training.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type * as workerThreads from 'node:worker_threads';
import * as nodeUrl from 'node:url';
import { ConfigError, FacenetError } from '../errors.js';
import { startWorker } from '../runtime/workers.js';
import type { LoadedBatch } from './batches.js';
import type { LossSettings, MicroMetrics } from './step.js';
import type { GradientEngine, TrainingState } from './engine.js';

/** Where one array lives in a shared buffer (float32 offsets). */
export interface SlotLayout {
  key: string;
  shape: number[];
  offset: number;
  length: number;
}

/** Everything a worker needs to start (sent as workerData). */
export interface WorkerInit {
  modelTopology: unknown;
  /** Extra modules to import first (custom layer registration). */
  modules: string[];
  backend: string;
  outputIndex: number;
  head: { kind: 'softmax' | 'arcface' | 'cosface'; featureSize: number; numClasses: number; scale: number; margin: number } | null;
  center: { numClasses: number; featureSize: number; alpha: number } | null;
  settings: LossSettings;
  seed: number;
  workers: number;
  /** Model weights (in model.weights order), then head variables, then centers. */
  params: SlotLayout[];
  /** Keys of the trainable variables, in gradient order, with their slots in the gradient buffer. */
  grads: SlotLayout[];
  /** Keys of the non-trainable model weights, with their slots in the state buffer. */
  state: SlotLayout[];
  paramsBuffer: SharedArrayBuffer;
  gradsBuffer: SharedArrayBuffer;
  stateBuffer: SharedArrayBuffer;
}

/** One micro-batch, or one shard of it, for one worker. */
export interface ShardTask {
  micro: number;
  /** Key of the dropout generator: (seed, 'dropout', step, micro[, shard]). */
  dropoutKey: Array<number | string>;
  images: Float32Array;
  shape: [number, number, number, number];
  labels: Int32Array;
  /** The teacher's embeddings of these images, for distillation. */
  targets?: Float32Array;
  lossScale: number;
}

/** Main → worker. */
export type ToWorker = { type: 'step'; step: number; tasks: ShardTask[] } | { type: 'close' };

/** Worker → main. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'done'; results: { micro: number; prelogits: Float32Array; featureSize: number; metrics: MicroMetrics }[]; seconds: number }
  | { type: 'error'; message: string; stack?: string };

function layout(entries: { key: string; shape: number[] }[]): { slots: SlotLayout[]; total: number } {
  let offset = 0;
  const slots = entries.map((e) => {
    const length = e.shape.reduce((a, b) => a * b, 1);
    const s = { key: e.key, shape: e.shape, offset, length };
    offset += length;
    return s;
  });
  return { slots, total: offset };
}

/** Start one worker: the bundled `train-worker.js` next to this module, or the TypeScript source via tsx. */
function startTrainingWorker(init: WorkerInit): workerThreads.Worker {
  const worker = startWorker(import.meta.url, { bundled: './train-worker.js', source: './parallel-worker.ts' }, init);
  if (!worker) throw new FacenetError('WORKER_MISSING', `training worker not found next to ${nodeUrl.fileURLToPath(import.meta.url)}`);
  return worker;
}

class WorkerHandle {
  private pending: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(readonly worker: workerThreads.Worker) {
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'error') this.fail(new FacenetError('WORKER', `training worker failed: ${m.message}`));
      else if (this.pending) {
        const p = this.pending;
        this.pending = null;
        p.resolve(m);
      }
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => {
      if (code !== 0) this.fail(new FacenetError('WORKER', `training worker exited with code ${code}`));
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    if (this.pending) {
      const p = this.pending;
      this.pending = null;
      p.reject(e);
    }
  }

  /** Wait for the next message. */
  next(): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
    });
  }

  post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(m, transfer);
  }
}

/** Split `n` items into `k` contiguous shards as equal as possible (first ones larger). */
export function shardSizes(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

/**
 * Start `count` workers for `state` and return the engine the trainer uses instead of
 * in-thread gradients.
 * @param modules modules each worker imports before rebuilding the model (custom layers).
 */
export async function createParallelEngine(
  state: TrainingState,
  count: number,
  modules: string[] = [],
): Promise<GradientEngine> {
  if (!Number.isInteger(count) || count < 1) throw new ConfigError('workers', `must be an integer ≥ 1, got ${count}`);
  const { model, head, centerLoss, config } = state;
  if (count > config.batchSize) {
    throw new ConfigError('workers', `${count} workers need batchSize ≥ ${count} (it is ${config.batchSize})`);
  }
  let topology: unknown;
  try {
    topology = model.toJSON(null, false);
  } catch (e) {
    throw new ConfigError('workers', `the model cannot be serialized for the workers: ${(e as Error).message}`);
  }
  const paramEntries = [
    ...state.weights.map((w) => ({ key: w.key, shape: w.variable.shape.slice(), variable: w.variable })),
    ...(head ? head.namedVariables().map((v) => ({ key: v.name, shape: v.variable.shape.slice(), variable: v.variable })) : []),
    ...(centerLoss ? [{ key: 'center_loss/centers', shape: centerLoss.centers.shape.slice(), variable: centerLoss.centers as tf.Variable }] : []),
  ];
  const params = layout(paramEntries);
  const grads = layout(state.trainable.map((v) => ({ key: v.name, shape: v.variable.shape.slice() })));
  const nonTrainable = state.weights.filter((w) => !w.trainable);
  const stateLayout = layout(nonTrainable.map((w) => ({ key: w.key, shape: w.variable.shape.slice() })));
  const paramsBuffer = new SharedArrayBuffer(params.total * 4);
  const paramsView = new Float32Array(paramsBuffer);
  const handles: WorkerHandle[] = [];
  const gradViews: Float32Array[] = [];
  const stateViews: Float32Array[] = [];
  const settingsModules = [...modules];
  try {
    for (let i = 0; i < count; i++) {
      const gradsBuffer = new SharedArrayBuffer(Math.max(4, grads.total * 4));
      const stateBuffer = new SharedArrayBuffer(Math.max(4, stateLayout.total * 4));
      gradViews.push(new Float32Array(gradsBuffer));
      stateViews.push(new Float32Array(stateBuffer));
      const init: WorkerInit = {
        modelTopology: topology,
        modules: settingsModules,
        backend: tf.getBackend(),
        outputIndex: state.outputIndex,
        head: head
          ? {
              kind: head.kind,
              featureSize: head.kernel.shape[0],
              numClasses: head.kernel.shape[1],
              scale: config.marginScale,
              margin: config.margin,
            }
          : null,
        center: centerLoss ? { numClasses: centerLoss.numClasses, featureSize: centerLoss.featureSize, alpha: centerLoss.alpha } : null,
        settings: state.settings,
        seed: config.seed,
        workers: count,
        params: params.slots,
        grads: grads.slots,
        state: stateLayout.slots,
        paramsBuffer,
        gradsBuffer,
        stateBuffer,
      };
      handles.push(new WorkerHandle(startTrainingWorker(init)));
    }
    const ready = await Promise.all(handles.map((h) => h.next()));
    for (const r of ready) if (r.type !== 'ready') throw new FacenetError('WORKER', 'training worker did not start');
  } catch (e) {
    await Promise.all(handles.map((h) => h.worker.terminate()));
    throw e;
  }

  return {
    async computeStep(step, getBatch, accumulationSteps) {
      const batches: LoadedBatch[] = [];
      for (let m = 0; m < accumulationSteps; m++) batches.push(await getBatch(m));
      const t0 = performance.now();
      // Broadcast the parameters.
      for (const [i, e] of paramEntries.entries()) {
        const slot = params.slots[i];
        paramsView.set(e.variable.dataSync() as Float32Array, slot.offset);
      }
      // Whole micro-batches round robin when they divide evenly, else shards of each.
      const tasks: ShardTask[][] = handles.map(() => []);
      const wholeBatches = count === 1 || accumulationSteps % count === 0;
      batches.forEach((b, m) => {
        const n = b.labels.length;
        if (wholeBatches) {
          tasks[m % count].push({
            micro: m,
            dropoutKey: ['dropout', step, m],
            images: b.images.slice(),
            shape: b.shape,
            labels: b.labels.slice(),
            targets: b.targets?.slice(),
            lossScale: 1 / accumulationSteps,
          });
          return;
        }
        const per = b.shape[1] * b.shape[2] * b.shape[3];
        let start = 0;
        shardSizes(n, count).forEach((size, w) => {
          if (size === 0) return;
          tasks[w].push({
            micro: m,
            dropoutKey: ['dropout', step, m, w],
            images: b.images.slice(start * per, (start + size) * per),
            shape: [size, b.shape[1], b.shape[2], b.shape[3]],
            labels: b.labels.slice(start, start + size),
            targets: b.targets?.slice((start * b.targets.length) / n, ((start + size) * b.targets.length) / n),
            lossScale: size / n / accumulationSteps,
          });
          start += size;
        });
      });
      const t1 = performance.now();
      const replies = handles.map((h) => h.next());
      handles.forEach((h, w) => h.post({ type: 'step', step, tasks: tasks[w] }, tasks[w].map((t) => t.images.buffer as ArrayBuffer)));
      const results = await Promise.all(replies);
      const t2 = performance.now();
      const done = results.map((r) => {
        if (r.type !== 'done') throw new FacenetError('WORKER', 'unexpected reply from a training worker');
        return r;
      });
      // Sum gradients over workers.
      const gradTensors = grads.slots.map((slot) => {
        if (count === 1) return tf.tensor(gradViews[0].subarray(slot.offset, slot.offset + slot.length), slot.shape, 'float32');
        const sum = new Float32Array(slot.length);
        for (const v of gradViews) {
          const part = v.subarray(slot.offset, slot.offset + slot.length);
          for (let j = 0; j < slot.length; j++) sum[j] += part[j];
        }
        return tf.tensor(sum, slot.shape, 'float32');
      });
      // Batch-norm statistics: the mean of the workers' updated values.
      nonTrainable.forEach((w, i) => {
        const slot = stateLayout.slots[i];
        const mean = new Float32Array(slot.length);
        for (const v of stateViews) {
          const part = v.subarray(slot.offset, slot.offset + slot.length);
          for (let j = 0; j < slot.length; j++) mean[j] += part[j] / count;
        }
        const t = tf.tensor(mean, slot.shape, 'float32');
        w.variable.assign(t);
        t.dispose();
      });
      // Re-assemble per-micro-batch pre-logits and metrics in shard order.
      const prelogits: tf.Tensor2D[] = [];
      const metrics: MicroMetrics[] = [];
      batches.forEach((b, m) => {
        const parts = done.flatMap((d) => d.results.filter((r) => r.micro === m));
        const sizes = parts.map((p) => p.prelogits.length / p.featureSize);
        const d = parts[0].featureSize;
        const all = new Float32Array(b.labels.length * d);
        let o = 0;
        for (const p of parts) {
          all.set(p.prelogits, o);
          o += p.prelogits.length;
        }
        prelogits.push(tf.tensor2d(all, [b.labels.length, d]));
        const keys = Object.keys(parts[0].metrics) as (keyof MicroMetrics)[];
        const combined = Object.fromEntries(
          keys.map((k) => [k, parts.reduce((s, p, i) => s + p.metrics[k] * sizes[i], 0) / b.labels.length]),
        ) as unknown as MicroMetrics;
        metrics.push(combined);
      });
      const t3 = performance.now();
      return {
        grads: gradTensors,
        prelogits,
        labels: batches.map((b) => b.labels),
        metrics,
        sizes: batches.map((b) => b.labels.length),
        timings: {
          broadcast: (t1 - t0) / 1000,
          workers: (t2 - t1) / 1000,
          workerCompute: Math.max(...done.map((d) => d.seconds)),
          reduce: (t3 - t2) / 1000,
        },
      };
    },
    async dispose() {
      for (const h of handles) h.post({ type: 'close' });
      await Promise.all(handles.map((h) => h.worker.terminate()));
    },
  };
}

export type { tfl };
