/**
 * Full-size parity of the facenet-pytorch import with PyTorch's own forward pass.
 *
 *   npm run bench:torch-parity -- --model-source PATH/inception_resnet_v1.py [--out out/torch-parity]
 *                                 [--images 4] [--skip-generate]
 *
 * 1. `scripts/torch-parity.py full` (Debian's /usr/bin/python3 with python3-torch) builds
 *    facenet-pytorch's `InceptionResnetV1` from the given copy of its
 *    `models/inception_resnet_v1.py` (timesler/facenet-pytorch), gives it random weights
 *    (batch-norm scales and offsets random, moving statistics measured on random images),
 *    saves its state dict with `torch.save` and records its embeddings of random 160 px images.
 * 2. Here, the `.pt` file is imported (`importFacenetTorchFile`) and the same images are
 *    embedded; then the same weights go the TensorFlow-checkpoint way: renamed to the
 *    reference's variable names, written as a checkpoint by this project's writer, read back
 *    by `importFacenetCheckpoint`, and embedded again.
 *
 * Prints the largest absolute difference of any embedding component, and of the pre-logits,
 * from PyTorch's, for both ways. Nothing here asserts; the test suite checks the same at
 * reduced width (test/torch-import.test.ts).
 */
import { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../src/runtime/backend.js';
import { EMBEDDINGS_OUTPUT, PRELOGITS_OUTPUT } from '../src/facenet/inception-resnet-v1.js';
import { importFacenetCheckpoint } from '../src/facenet/checkpoint-import.js';
import { importFacenetTorchFile, torchStateDictToReferenceVariables } from '../src/facenet/torch-import.js';
import { readNpyFile, isNamedArray } from '../src/io/npy.js';
import { readTorchFile, torchStateDict } from '../src/io/torch-file.js';
import { writeTfCheckpoint } from '../src/io/tf-checkpoint.js';
import type { NamedArray } from '../src/io/types.js';

const program = new Command('bench:torch-parity')
  .requiredOption('--model-source <file>', "facenet-pytorch's models/inception_resnet_v1.py (for the generator)")
  .option('--out <dir>', 'where the generator writes the state dict and reference outputs', 'out/torch-parity')
  .option('--images <n>', 'number of 160 px test images', '4')
  .option('--skip-generate', 'reuse the files already in --out')
  .parse();
const opts = program.opts<{ modelSource: string; out: string; images: string; skipGenerate?: boolean }>();

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function compare(label: string, model: tfl.LayersModel, x: tf.Tensor4D, reference: Map<string, NamedArray>): Promise<void> {
  const t0 = performance.now();
  const outs = model.predict(x) as tf.Tensor[];
  const embeddings = await outs[EMBEDDINGS_OUTPUT].data();
  const prelogits = await outs[PRELOGITS_OUTPUT].data();
  const ms = performance.now() - t0;
  tf.dispose(outs);
  const de = maxAbsDiff(embeddings, reference.get('embeddings')!.data as Float32Array);
  const dp = maxAbsDiff(prelogits, reference.get('last_bn')!.data as Float32Array);
  console.log(`${label}: max |Δ embedding| ${de.toExponential(2)}, max |Δ pre-logits| ${dp.toExponential(2)} (forward pass ${ms.toFixed(0)} ms)`);
}

if (!opts.skipGenerate) {
  execFileSync('/usr/bin/python3', ['scripts/torch-parity.py', 'full', '--model-source', opts.modelSource, '--out', opts.out, '--images', opts.images], {
    stdio: 'inherit',
  });
}
const backend = await initBackend();
console.log(`backend ${backend.name}`);
const ptFile = join(opts.out, 'facenet-random.pt');
const raw = (await readNpyFile(join(opts.out, 'reference.npy'))) as Map<string, unknown>;
const reference = new Map([...raw].filter((e): e is [string, NamedArray] => isNamedArray(e[1])));
const images = reference.get('images')!;
const x = tf.tidy(() => tf.div(tf.sub(tf.tensor(Float32Array.from(images.data as Uint8Array), images.shape), 127.5), 128)) as tf.Tensor4D;
console.log(`${images.shape[0]} images of ${images.shape[1]} px; PyTorch embeddings: ${reference.get('embeddings')!.shape.join('×')}`);

const t0 = performance.now();
const fromTorch = await importFacenetTorchFile(ptFile);
console.log(`imported ${ptFile}: ${fromTorch.report.loaded.length} variables in ${(performance.now() - t0).toFixed(0)} ms`);
await compare('PyTorch file → tfjs', fromTorch.model, x, reference);
fromTorch.model.dispose();

const tmp = await mkdtemp(join(tmpdir(), 'torch-parity-'));
try {
  const { variables } = torchStateDictToReferenceVariables(torchStateDict(await readTorchFile(ptFile), ptFile), ptFile);
  await writeTfCheckpoint(join(tmp, 'model.ckpt-0'), variables);
  const fromCheckpoint = await importFacenetCheckpoint(tmp);
  await compare('same weights → TF checkpoint → tfjs', fromCheckpoint.model, x, reference);
  fromCheckpoint.model.dispose();
} finally {
  await rm(tmp, { recursive: true, force: true });
  x.dispose();
}
