/**
 * A data-parallel training worker (see `parallel.ts`): rebuilds the model from its JSON
 * topology, and for every step reads the parameters from shared memory, computes the
 * gradients of its shards, and writes them (and its updated batch-norm statistics) back.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { parentPort, workerData } from 'node:worker_threads';
import '../runtime/install-node.js';
import { initBackend, type BackendName } from '../runtime/backend.js';
import { registerTrainingKernels } from '../kernels/register.js';
import { L2Normalize, ScaledResidual, SlimBatchNorm } from '../facenet/layers.js';
import { CenterLoss } from '../losses/center-loss.js';
import { ClassHead } from './head.js';
import { modelWeights, randomLayers } from './model-state.js';
import { Rng } from './rng.js';
import { microBatchGradients } from './step.js';
import type { FromWorker, ToWorker, WorkerInit } from './parallel.js';

const port = parentPort!;
const init = workerData as WorkerInit;

function send(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

async function main(): Promise<void> {
  await initBackend({ backend: init.backend as BackendName });
  registerTrainingKernels();
  for (const m of init.modules) await import(m);
  // Importing the custom layers' module registers them. The classes are named here so
  // that bundlers keep the import (the package is marked free of side effects, so a bare
  // `import '../facenet/layers.js'` would be dropped).
  for (const c of [SlimBatchNorm, ScaledResidual, L2Normalize]) {
    if (!c.className) throw new Error('custom layer without a class name');
  }
  const model = await tfl.models.modelFromJSON({ modelTopology: init.modelTopology as tf.io.ModelJSON['modelTopology'] } as never);
  const weights = modelWeights(model);
  const head = init.head
    ? new ClassHead({ kind: init.head.kind, featureSize: init.head.featureSize, numClasses: init.head.numClasses, seed: 0, scale: init.head.scale, margin: init.head.margin })
    : null;
  const center = init.center ? new CenterLoss(init.center) : null;
  const byKey = new Map<string, tf.Variable>();
  for (const w of weights) byKey.set(w.key, w.variable);
  for (const v of head?.namedVariables() ?? []) byKey.set(v.name, v.variable);
  if (center) byKey.set('center_loss/centers', center.centers as tf.Variable);
  for (const s of [...init.params, ...init.grads]) {
    const v = byKey.get(s.key);
    if (!v || v.shape.join(',') !== s.shape.join(',')) {
      throw new Error(`worker model does not match: ${s.key} ${v ? `[${v.shape}]` : 'missing'} vs [${s.shape}]`);
    }
  }
  const params = new Float32Array(init.paramsBuffer);
  const grads = new Float32Array(init.gradsBuffer);
  const state = new Float32Array(init.stateBuffer);
  const variables = init.grads.map((s) => byKey.get(s.key)!);
  const random = randomLayers(model);

  send({ type: 'ready' });
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'close') {
      port.close();
      return;
    }
    const started = performance.now();
    try {
      for (const s of init.params) {
        const t = tf.tensor(params.subarray(s.offset, s.offset + s.length), s.shape, 'float32');
        byKey.get(s.key)!.assign(t);
        t.dispose();
      }
      let acc: tf.Tensor[] | null = null;
      const results: Extract<FromWorker, { type: 'done' }>['results'] = [];
      for (const task of msg.tasks) {
        const r = microBatchGradients({
          model,
          outputIndex: init.outputIndex,
          head,
          centerLoss: center,
          settings: init.settings,
          variables,
          images: task.images,
          shape: task.shape,
          labels: task.labels,
          targets: task.targets,
          randomLayers: random,
          dropoutRng: Rng.derive(init.seed, ...task.dropoutKey),
          lossScale: task.lossScale,
        });
        if (acc === null) acc = r.grads;
        else {
          const prev: tf.Tensor[] = acc;
          acc = prev.map((g, i) => tf.add(g, r.grads[i]));
          prev.forEach((g) => g.dispose());
          r.grads.forEach((g) => g.dispose());
        }
        const pre = Float32Array.from(r.prelogits.dataSync() as Float32Array);
        results.push({ micro: task.micro, prelogits: pre, featureSize: r.prelogits.shape[1], metrics: r.metrics });
        r.prelogits.dispose();
      }
      init.grads.forEach((s, i) => {
        if (acc) grads.set(acc[i].dataSync() as Float32Array, s.offset);
        else grads.fill(0, s.offset, s.offset + s.length);
      });
      acc?.forEach((g) => g.dispose());
      init.state.forEach((s) => state.set(byKey.get(s.key)!.dataSync() as Float32Array, s.offset));
      send({ type: 'done', results, seconds: (performance.now() - started) / 1000 }, results.map((r) => r.prelogits.buffer as ArrayBuffer));
    } catch (e) {
      send({ type: 'error', message: (e as Error).stack ?? String(e) });
    }
  });
}

main().catch((e) => send({ type: 'error', message: (e as Error).stack ?? String(e) }));
