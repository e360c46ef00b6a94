/**
 * facenet-pytorch import (src/facenet/torch-import.ts) against PyTorch's own forward pass.
 *
 * test/fixtures/torch holds what scripts/torch-parity.py made with PyTorch 1.13 from
 * timesler/facenet-pytorch's `InceptionResnetV1` at 1/16 of the channels (all 21 blocks,
 * 64-d embeddings, a 10-class `logits` head), random weights and batch-norm statistics:
 * the state dict (`facenet-w16.pt`), two 112 px images and PyTorch's outputs of the stem,
 * of the first and last block of each kind, of both reductions, of the head and of the
 * classifier. Our model must reproduce each within 1e-4, by the `.pt` file and by a
 * TensorFlow checkpoint of the same weights; the CLI's `convert` and `embed --aligned`
 * must give the same embeddings, and the model folder must load everywhere a model does.
 * The full-size figure (160 px, 512-d) is in BENCHMARKS.md (npm run bench:torch-parity).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import { setupBackend, sharedPath } from './helpers.js';
import { runCli } from './cli-helpers.js';
import { referenceVariables } from './reference-variables.js';
import {
  buildInceptionResnetV1,
  checkpointVariableMap,
  importFacenetCheckpoint,
  loadCheckpointVariables,
  modelFromTorchStateDict,
  referenceTargetOfTorchName,
  torchStateDictToReferenceVariables,
  EMBEDDINGS_OUTPUT,
  PRELOGITS_OUTPUT,
} from '../src/facenet/index.js';
import { readTorchFile, torchStateDict, torchTensorToArray, type TorchTensor } from '../src/io/torch-file.js';
import { readNpyFile, isNamedArray } from '../src/io/npy.js';
import { readTfCheckpoint, writeTfCheckpoint } from '../src/io/tf-checkpoint.js';
import type { NamedArray, NamedArrays } from '../src/io/types.js';
import { loadFacenetEmbedder } from '../src/recognition/load.js';
import { loadFacenetEmbedderFromUrl } from '../src/recognition/load-url.js';
import { embedAlignedFace } from '../src/recognition/aligned.js';
import { Gallery } from '../src/gallery/gallery.js';
import { saveGallery, loadGallery } from '../src/gallery/file.js';
import { IncompatibleFileError, WeightsFormatError } from '../src/errors.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'torch');
const PT = join(FIXTURES, 'facenet-w16.pt');
const TOLERANCE = 1e-4;

/** PyTorch module whose output was recorded → our layer with the same output. */
const RECORDED_LAYERS: Record<string, string> = {
  conv2d_4b: 'Conv2d_4b_3x3/Relu',
  'repeat_1.0': 'Repeat/block35_1/Relu',
  repeat_1: 'Repeat/block35_5/Relu',
  mixed_6a: 'Mixed_6a/concat',
  'repeat_2.0': 'Repeat_1/block17_1/Relu',
  repeat_2: 'Repeat_1/block17_10/Relu',
  mixed_7a: 'Mixed_7a/concat',
  'repeat_3.0': 'Repeat_2/block8_1/Relu',
  repeat_3: 'Repeat_2/block8_5/Relu',
  block8: 'Block8/ScaledResidual',
  last_bn: 'Bottleneck/BatchNorm',
  embeddings: 'embeddings',
};

let stateDict: Map<string, TorchTensor>;
let reference: Map<string, NamedArray>;
let images: tf.Tensor4D; // standardized, NHWC
let tmp: string;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Our embeddings of the fixture images. */
function embeddingsOf(model: tfl.LayersModel): Float32Array {
  const outs = model.predict(images) as tf.Tensor[];
  const e = outs[EMBEDDINGS_OUTPUT].dataSync() as Float32Array;
  tf.dispose(outs);
  return e;
}

beforeAll(async () => {
  expect(await setupBackend()).toBe('wasm');
  stateDict = torchStateDict(await readTorchFile(PT), PT);
  const raw = (await readNpyFile(join(FIXTURES, 'reference.npy'))) as Map<string, unknown>;
  reference = new Map([...raw].filter((e): e is [string, NamedArray] => isNamedArray(e[1])));
  const img = reference.get('images')!;
  expect(img).toMatchObject({ dtype: 'uint8', shape: [2, 112, 112, 3] });
  // facenet-pytorch's fixed_image_standardization: (x − 127.5) / 128.
  images = tf.tidy(() => tf.div(tf.sub(tf.tensor4d(Float32Array.from(img.data as Uint8Array), img.shape as [number, number, number, number]), 127.5), 128));
  tmp = await mkdtemp(join(tmpdir(), 'tfjs-facenet-torch-'));
});

afterAll(async () => {
  images.dispose();
  await rm(tmp, { recursive: true, force: true });
});

describe('the name mapping', () => {
  it("maps every facenet-pytorch parameter onto exactly one of the reference's variables (plus gamma), with its shape", () => {
    const converted = torchStateDictToReferenceVariables(stateDict, PT);
    expect(converted.unknown).toEqual([]);
    expect(converted.ignored).toHaveLength(112); // one num_batches_tracked per batch norm
    // The reference's variables at 1/16 width with a 64-d bottleneck, and a gamma beside every beta.
    const expected = referenceVariables(64, undefined, 16);
    for (const [name, shape] of [...expected]) if (name.endsWith('/beta')) expected.set(name.replace(/beta$/, 'gamma'), shape);
    expect(new Set(converted.renamed.values()).size).toBe(converted.renamed.size); // no two entries on one variable
    expect([...converted.variables.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, shape] of expected) expect(converted.variables.get(name)!.shape, name).toEqual(shape);
    expect([...converted.logits.keys()].sort()).toEqual(['Logits/biases', 'Logits/weights']);
    expect(converted.logits.get('Logits/weights')!.shape).toEqual([64, 10]);
  });

  it('names the reference scopes as davidsandberg/facenet does', () => {
    expect(referenceTargetOfTorchName('repeat_2.9.branch1.2.bn.running_var')).toEqual({
      name: 'InceptionResnetV1/Repeat_1/block17_10/Branch_1/Conv2d_0c_7x1/BatchNorm/moving_variance',
      layout: 'same',
    });
    expect(referenceTargetOfTorchName('block8.conv2d.weight')).toEqual({ name: 'InceptionResnetV1/Block8/Conv2d_1x1/weights', layout: 'conv' });
    expect(referenceTargetOfTorchName('mixed_7a.branch2.2.conv.weight')!.name).toBe('InceptionResnetV1/Mixed_7a/Branch_2/Conv2d_1a_3x3/weights');
    expect(referenceTargetOfTorchName('module.last_linear.weight')).toEqual({ name: 'InceptionResnetV1/Bottleneck/weights', layout: 'dense' });
    expect(referenceTargetOfTorchName('repeat_1.0.branch3.conv.weight')).toBeUndefined();
    expect(referenceTargetOfTorchName('fc.weight')).toBeUndefined();
  });

  it('re-lays out kernels: OIHW → HWIO, linear [out, in] → [in, out]', () => {
    const converted = torchStateDictToReferenceVariables(stateDict, PT);
    const conv = torchTensorToArray(stateDict.get('repeat_2.0.branch1.1.conv.weight')!); // 1×7, [8, 8, 1, 7]
    const hwio = converted.variables.get('InceptionResnetV1/Repeat_1/block17_1/Branch_1/Conv2d_0b_1x7/weights')!;
    expect(conv.shape).toEqual([8, 8, 1, 7]);
    expect(hwio.shape).toEqual([1, 7, 8, 8]);
    const [o, i, x] = [5, 3, 6];
    expect(hwio.data[((0 * 7 + x) * 8 + i) * 8 + o]).toBe(conv.data[((o * 8 + i) * 1 + 0) * 7 + x]);
    const linear = torchTensorToArray(stateDict.get('last_linear.weight')!); // [64, 112]
    const dense = converted.variables.get('InceptionResnetV1/Bottleneck/weights')!;
    expect(dense.shape).toEqual([112, 64]);
    expect(dense.data[100 * 64 + 7]).toBe(linear.data[7 * 112 + 100]);
  });

  it("a checkpoint with davidsandberg's full variable list fills every model weight exactly once", () => {
    const model = buildInceptionResnetV1();
    const reference = referenceVariables(512);
    // Give each variable a value of its own so that a weight filled from the wrong variable shows.
    const valueOf = new Map<string, number>();
    const vars: NamedArrays = new Map();
    let k = 0;
    for (const [name, shape] of reference) {
      const v = ++k / 1024;
      valueOf.set(name, v);
      vars.set(name, { shape, dtype: 'float32', data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v) });
    }
    const report = loadCheckpointVariables(model, vars);
    expect(report.loaded).toHaveLength(490);
    expect(new Set(report.loaded).size).toBe(490);
    expect(report.missing).toEqual([]);
    const seen = new Set<number>();
    for (const { name, variable } of checkpointVariableMap(model)) {
      const data = variable.read().dataSync();
      expect([data[0], data[data.length - 1]], name).toEqual([valueOf.get(name), valueOf.get(name)]);
      seen.add(data[0]);
    }
    expect(seen.size).toBe(490);
    model.dispose();
  });
});

describe('parity with PyTorch (1/16 width, 112 px)', () => {
  it('the imported model reproduces every recorded output within 1e-4, and the classifier head', () => {
    const before = tf.memory().numTensors;
    const { model, report, logits } = modelFromTorchStateDict(stateDict, { model: { inputSize: 112 } }, PT);
    expect(report.loaded).toHaveLength(602);
    expect(report.missing).toEqual([]);
    expect(report.logitsClasses).toBe(10);
    const names = Object.keys(RECORDED_LAYERS);
    const probe = tfl.model({ inputs: model.inputs, outputs: names.map((n) => model.getLayer(RECORDED_LAYERS[n]).output as tfl.SymbolicTensor) });
    const outs = probe.predict(images) as tf.Tensor[];
    names.forEach((name, i) => {
      const ref = reference.get(name)!;
      expect(outs[i].shape, name).toEqual(ref.shape);
      expect(maxAbsDiff(outs[i].dataSync(), ref.data as Float32Array), name).toBeLessThan(TOLERANCE);
    });
    // facenet-pytorch's classify=True: logits(last_bn(...)), no normalization.
    const head = tf.tidy(() =>
      tf.add(tf.matMul(outs[names.indexOf('last_bn')], tf.tensor(logits.get('Logits/weights')!.data as Float32Array, [64, 10])), tf.tensor(logits.get('Logits/biases')!.data as Float32Array)),
    );
    expect(maxAbsDiff(head.dataSync(), reference.get('logits')!.data as Float32Array)).toBeLessThan(TOLERANCE);
    tf.dispose([...outs, head]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is not vacuous: one batch-norm scale negated moves the embeddings by far more than the tolerance', () => {
    const altered = new Map<string, TorchTensor | NamedArray>(stateDict);
    const name = 'repeat_2.3.branch1.1.bn.weight';
    const gamma = torchTensorToArray(stateDict.get(name)!);
    altered.set(name, { ...gamma, data: (gamma.data as Float32Array).map((v) => -v) });
    const { model } = modelFromTorchStateDict(altered, { model: { inputSize: 112 } });
    expect(maxAbsDiff(embeddingsOf(model), reference.get('embeddings')!.data as Float32Array)).toBeGreaterThan(100 * TOLERANCE);
    model.dispose();
  });

  it('the same weights written as a TensorFlow checkpoint by our writer import to the same embeddings', async () => {
    const { variables } = torchStateDictToReferenceVariables(stateDict, PT);
    const dir = join(tmp, 'ckpt');
    await writeTfCheckpoint(join(dir, 'model-w16.ckpt-0'), variables);
    const { model, report } = await importFacenetCheckpoint(dir, { inputSize: 112 });
    expect(report.loaded).toHaveLength(602);
    const outs = model.predict(images) as tf.Tensor[];
    expect(maxAbsDiff(outs[EMBEDDINGS_OUTPUT].dataSync(), reference.get('embeddings')!.data as Float32Array)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(outs[PRELOGITS_OUTPUT].dataSync(), reference.get('last_bn')!.data as Float32Array)).toBeLessThan(TOLERANCE);
    tf.dispose(outs);
    model.dispose();
  });

  it('refuses state dicts of other networks, naming the entries', () => {
    const other = new Map<string, TorchTensor | NamedArray>(stateDict);
    other.set('fc.weight', { shape: [2, 2], dtype: 'float32', data: new Float32Array(4) });
    expect(() => modelFromTorchStateDict(other, { model: { inputSize: 112 } }, 'other.pt')).toThrow(/other\.pt.*1 entry is not facenet-pytorch InceptionResnetV1 parameters: fc\.weight/);
    const { model, report } = modelFromTorchStateDict(other, { model: { inputSize: 112 }, allowUnknown: true });
    expect(report.ignored).toContain('fc.weight');
    model.dispose();
    const missing = new Map<string, TorchTensor | NamedArray>(stateDict);
    missing.delete('repeat_3.4.conv2d.bias');
    expect(() => modelFromTorchStateDict(missing, { model: { inputSize: 112 } }, 'missing.pt')).toThrow(WeightsFormatError);
    expect(() => modelFromTorchStateDict(missing, { model: { inputSize: 112 } }, 'missing.pt')).toThrow(/Repeat_2\/block8_5\/Conv2d_1x1\/biases/);
  });
});

describe('convert and embed', () => {
  let pngs: string[];
  const modelDir = () => join(tmp, 'converted');

  beforeAll(async () => {
    const img = reference.get('images')!;
    const bytes = img.data as Uint8Array;
    const size = 112 * 112 * 3;
    pngs = [];
    for (let i = 0; i < 2; i++) {
      const file = join(tmp, `face${i}.png`);
      await sharp(Buffer.from(bytes.subarray(i * size, (i + 1) * size)), { raw: { width: 112, height: 112, channels: 3 } }).png().toFile(file);
      pngs.push(file);
    }
  });

  it('convert writes a model directory; embed --aligned --json reproduces PyTorch', async () => {
    const conv = await runCli(['convert', PT, modelDir(), '--image-size', '112', '--keep-logits']);
    expect(conv.stderr).toBe('');
    expect(conv.code).toBe(0);
    const record = JSON.parse(await readFile(join(modelDir(), 'conversion.json'), 'utf8'));
    expect(record).toMatchObject({ format: 'pytorch', embeddingSize: 64, imageSize: 112, variables: 602, logitsClasses: 10, logitsKept: true });
    expect(conv.stdout).toContain(`fingerprint ${record.fingerprint}`);
    expect(JSON.parse(await readFile(join(modelDir(), 'preprocessing.json'), 'utf8'))).toEqual({
      imageSize: 112,
      margin: 32,
      alignment: 'crop',
      standardization: 'fixed',
      flip: false,
    });
    const head = await readTfCheckpoint(join(modelDir(), 'logits'));
    expect(head.get('Logits/weights')!.shape).toEqual([64, 10]);

    const run = await runCli(['embed', '--aligned', '--json', '--model', modelDir(), ...pngs]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; embedding: number[] });
    expect(lines.map((l) => l.file)).toEqual(pngs);
    const ref = reference.get('embeddings')!.data as Float32Array;
    lines.forEach((l, i) => expect(maxAbsDiff(l.embedding, ref.subarray(i * 64, (i + 1) * 64))).toBeLessThan(TOLERANCE));
  });

  it('convert takes the TensorFlow checkpoint of the same weights to the same embeddings', async () => {
    const out = join(tmp, 'converted-tf');
    const conv = await runCli(['convert', join(tmp, 'ckpt'), out, '--image-size', '112', '--json']);
    expect(conv.code).toBe(0);
    expect(JSON.parse(conv.stdout)).toMatchObject({ format: 'tensorflow-checkpoint', variables: 602, embeddingSize: 64 });
    const a = await runCli(['embed', '--aligned', '--json', '--model', out, pngs[0]]);
    const e = (JSON.parse(a.stdout) as { embedding: number[] }).embedding;
    expect(maxAbsDiff(e, (reference.get('embeddings')!.data as Float32Array).subarray(0, 64))).toBeLessThan(TOLERANCE);
  });

  it('the model directory loads as an embedder (Node and URL) and its gallery checks its fingerprint', async () => {
    const record = JSON.parse(await readFile(join(modelDir(), 'conversion.json'), 'utf8'));
    const noDetector = { detect: async () => [] };
    const embedder = await loadFacenetEmbedder({ modelDir: modelDir(), detector: noDetector });
    expect(embedder.fingerprint).toBe(record.fingerprint);
    expect(embedder.dimension).toBe(64);
    const e0 = await embedAlignedFace(embedder, pngs[0]);
    expect(maxAbsDiff(e0, (reference.get('embeddings')!.data as Float32Array).subarray(0, 64))).toBeLessThan(TOLERANCE);

    // The browser loader, over HTTP.
    const server: Server = createServer(async (req, res) => {
      try {
        const body = await readFile(join(modelDir(), decodeURIComponent(new URL(req.url!, 'http://x').pathname)));
        res.writeHead(200, { 'content-type': extname(req.url!) === '.json' ? 'application/json' : 'application/octet-stream' });
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const port = (server.address() as { port: number }).port;
      const fromUrl = await loadFacenetEmbedderFromUrl({ modelUrl: `http://127.0.0.1:${port}/`, detector: noDetector });
      expect(fromUrl.fingerprint).toBe(record.fingerprint);
      expect(fromUrl.preprocessing).toEqual(embedder.preprocessing);
      expect(maxAbsDiff(await embedAlignedFace(fromUrl, pngs[0]), e0)).toBeLessThan(1e-6);
    } finally {
      await new Promise((done) => server.close(done));
    }

    const gallery = Gallery.create({ dimension: 64, fingerprint: embedder.fingerprint, preprocessing: { ...embedder.preprocessing }, modelLocation: modelDir() });
    gallery.add('face0', e0, [pngs[0]]);
    gallery.add('face1', await embedAlignedFace(embedder, pngs[1]), [pngs[1]]);
    const file = join(tmp, 'gallery.fng');
    await saveGallery(gallery, file);
    const loaded = await loadGallery(file, { expect: embedder });
    expect(loaded.match(e0).name).toBe('face0');
    await expect(loadGallery(file, { expect: { ...embedder, fingerprint: 'f'.repeat(32), preprocessing: embedder.preprocessing, dimension: 64 } })).rejects.toThrow(IncompatibleFileError);
  });

  it('embed without --aligned embeds the main face MTCNN finds, and reports images without one', async () => {
    const portrait = sharedPath('data/samples/people/amy/amy1.png');
    const run = await runCli(['embed', '--json', '--model', modelDir(), portrait, pngs[0]]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${pngs[0]}: no face found`);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; embedding: number[] });
    expect(lines.map((l) => l.file)).toEqual([portrait]);
    expect(lines[0].embedding).toHaveLength(64);
    expect(Math.hypot(...lines[0].embedding)).toBeCloseTo(1, 5);
  });

  it('embed reports unreadable images, goes on, exits 1; convert refuses a non-model file (exit 3)', async () => {
    const bad = join(tmp, 'bad.png');
    await writeFile(bad, 'not an image');
    const run = await runCli(['embed', '--aligned', '--json', '--model', modelDir(), bad, pngs[1]]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(bad);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    const conv = await runCli(['convert', bad, join(tmp, 'never')]);
    expect(conv.code).toBe(3); // nothing could be done with the input
    expect(conv.stderr).toMatch(/bad\.png: not a torch\.save file/);
  });
});
