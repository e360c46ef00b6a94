/**
 * MTCNN weights in the three formats (real files from ../shared), their mapping onto the
 * networks, the networks' output shapes and arithmetic, and typed errors for broken weights.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, WeightsFormatError } from '../src/errors.js';
import type { NamedArrays } from '../src/io/types.js';
import { faceProbability, onetForward, onetMarginRows, pnetForward, pnetMarginMap, rnetForward, rnetMarginRows } from '../src/mtcnn/networks.js';
import {
  decodeFaceApiWeights,
  disposeParams,
  loadMtcnnParams,
  paramsFromFaceApi,
  paramTensors,
  type MtcnnParams,
} from '../src/mtcnn/weights.js';
import { setupBackend, sharedPath } from './helpers.js';
import { readPixels } from '../src/mtcnn/stages.js';
import { resizeArea } from '../src/image/resize-area.js';
import { FACENET_LAYOUT, writeNetInput } from '../src/mtcnn/patches.js';

beforeAll(async () => {
  await setupBackend();
});

const tmp = mkdtempSync(join(tmpdir(), 'facenet-mtcnn-weights-'));

async function withParams<T>(source: string, fn: (p: MtcnnParams) => Promise<T> | T): Promise<T> {
  const p = await loadMtcnnParams(source);
  try {
    return await fn(p);
  } finally {
    disposeParams(p);
  }
}

describe('formats', () => {
  it('face-api.js and Caffe weights are the same numbers, tensor for tensor', async () => {
    const caffe = await loadMtcnnParams('caffe');
    const faceapi = await loadMtcnnParams('faceapi');
    try {
      expect(caffe.format).toBe('caffe');
      expect(faceapi.format).toBe('faceapi');
      const a = paramTensors(caffe);
      const b = paramTensors(faceapi);
      // 50 loaded tensors, the 6 of the three folded heads derived from them and, on wasm,
      // P-Net's 16 per-level copies of 11 tensors each.
      const expected = 56 + (tf.getBackend() === 'wasm' ? 16 * 11 : 0);
      expect(a).toHaveLength(expected);
      expect(b).toHaveLength(expected);
      for (let i = 0; i < a.length; i++) {
        expect(b[i].shape).toEqual(a[i].shape);
        expect(Buffer.from((b[i].dataSync() as Float32Array).buffer).equals(Buffer.from((a[i].dataSync() as Float32Array).buffer))).toBe(true);
      }
      // Both are the Caffe model: PReLU on the hidden fully-connected layers.
      expect(caffe.rnet.prelu4?.shape).toEqual([128]);
      expect(caffe.onet.prelu5?.shape).toEqual([256]);
    } finally {
      disposeParams(caffe);
      disposeParams(faceapi);
    }
  });

  it("reads the seed's checkpoints: same layer shapes, ReLU hidden layers, seed pipeline", async () => {
    await withParams('seed', (p) => {
      expect(p.variant).toBe('seed');
      expect(p.pnet.conv1.filter.shape).toEqual([3, 3, 3, 10]);
      expect(p.rnet.fc1.weights.shape).toEqual([576, 128]);
      expect(p.onet.fc2_3.weights.shape).toEqual([256, 10]);
      expect(p.rnet.prelu4).toBeUndefined();
      expect(p.onet.prelu5).toBeUndefined();
      // The seed's nets were trained separately: different numbers from the Caffe model.
      const alpha = p.pnet.prelu1.dataSync();
      expect(alpha.every((v) => Number.isFinite(v))).toBe(true);
    });
  });

  it('finds the format of a folder from its files', async () => {
    const dir = join(tmp, 'faceapi-copy');
    mkdirSync(dir);
    for (const f of ['mtcnn_model-weights_manifest.json', 'mtcnn_model-shard1']) {
      copyFileSync(sharedPath('weights/mtcnn-faceapi', f), join(dir, f));
    }
    await withParams(dir, (p) => expect(p.format).toBe('faceapi'));
    await withParams(sharedPath('weights/mtcnn-caffe'), (p) => expect(p.format).toBe('caffe'));
  });
});

describe('broken weights', () => {
  async function faceApiArrays(): Promise<NamedArrays> {
    const { readFileSync } = await import('node:fs');
    const manifest = JSON.parse(readFileSync(sharedPath('weights/mtcnn-faceapi/mtcnn_model-weights_manifest.json'), 'utf8'));
    return decodeFaceApiWeights(manifest, [new Uint8Array(readFileSync(sharedPath('weights/mtcnn-faceapi/mtcnn_model-shard1')))]);
  }

  it('names a missing or misshapen tensor, and leaves no tensors behind', async () => {
    const arrays = await faceApiArrays();
    const before = tf.memory().numTensors;
    const missing = new Map(arrays);
    missing.delete('onet/fc2_3/bias');
    expect(() => paramsFromFaceApi(missing)).toThrow(/onet\/fc2_3\/bias/);
    expect(() => paramsFromFaceApi(missing)).toThrow(WeightsFormatError);
    const wrong = new Map(arrays);
    wrong.set('rnet/fc1/weights', { shape: [128, 576], dtype: 'float32', data: new Float32Array(576 * 128) });
    expect(() => paramsFromFaceApi(wrong)).toThrow(/rnet\/fc1\/weights has shape \[128,576\], expected \[576,128\]/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a truncated shard and a manifest that is not JSON', async () => {
    const { readFileSync } = await import('node:fs');
    const manifest = JSON.parse(readFileSync(sharedPath('weights/mtcnn-faceapi/mtcnn_model-weights_manifest.json'), 'utf8'));
    const shard = new Uint8Array(readFileSync(sharedPath('weights/mtcnn-faceapi/mtcnn_model-shard1')));
    expect(() => decodeFaceApiWeights(manifest, [shard.subarray(0, 1000)])).toThrow(WeightsFormatError);

    const dir = join(tmp, 'bad-manifest');
    mkdirSync(dir);
    writeFileSync(join(dir, 'mtcnn_model-weights_manifest.json'), '{ not json');
    await expect(loadMtcnnParams(dir)).rejects.toThrow(WeightsFormatError);
  });

  it('rejects a folder with an incomplete Caffe set', async () => {
    const dir = join(tmp, 'only-det1');
    mkdirSync(dir);
    copyFileSync(sharedPath('weights/mtcnn-caffe/det1.npy'), join(dir, 'det1.npy'));
    await expect(loadMtcnnParams(dir)).rejects.toThrow(ConfigError);
  });
});

describe('networks', () => {
  it('output shapes follow the layer arithmetic', async () => {
    await withParams('caffe', (p) => {
      tf.tidy(() => {
        // 30×20 → conv 28×18 → pool (SAME) 14×9 → conv 12×7 → conv 10×5.
        const out = pnetForward(p.pnet, tf.zeros([2, 30, 20, 3]));
        expect(out.prob.shape).toEqual([2, 10, 5, 1]);
        expect(out.reg.shape).toEqual([2, 10, 5, 4]);
        const r = rnetForward(p.rnet, tf.zeros([3, 24, 24, 3]));
        expect(r.prob.shape).toEqual([3]);
        expect(r.reg.shape).toEqual([3, 4]);
        const o = onetForward(p.onet, tf.zeros([3, 48, 48, 3]));
        expect(o.prob.shape).toEqual([3]);
        expect(o.landmarks!.shape).toEqual([3, 10]);
        const probs = o.prob.dataSync();
        expect(probs.every((v) => v >= 0 && v <= 1)).toBe(true);
      });
    });
  });

  it('P-Net on one 12×12 window equals a plain loop implementation of the reference layers', async () => {
    await withParams('caffe', async (p) => {
      // Deterministic input in [-1, 1].
      const x = Float32Array.from({ length: 12 * 12 * 3 }, (_, i) => Math.sin(i * 0.37) * 0.9);
      const get = async (t: tf.Tensor) => Array.from(await t.data());
      const [w1, b1, a1, w2, b2, a2, w3, b3, a3, w41, b41, w42, b42] = await Promise.all(
        [
          p.pnet.conv1.filter, p.pnet.conv1.bias, p.pnet.prelu1,
          p.pnet.conv2.filter, p.pnet.conv2.bias, p.pnet.prelu2,
          p.pnet.conv3.filter, p.pnet.conv3.bias, p.pnet.prelu3,
          p.pnet.conv4_1.filter, p.pnet.conv4_1.bias, p.pnet.conv4_2.filter, p.pnet.conv4_2.bias,
        ].map(get),
      );
      // VALID convolution, HWIO kernel, + bias.
      const conv = (inp: number[], h: number, w: number, ci: number, k: number[], bias: number[], kk: number, co: number) => {
        const oh = h - kk + 1;
        const ow = w - kk + 1;
        const out = new Array(oh * ow * co).fill(0);
        for (let y = 0; y < oh; y++)
          for (let xx = 0; xx < ow; xx++)
            for (let o = 0; o < co; o++) {
              let s = bias[o];
              for (let dy = 0; dy < kk; dy++)
                for (let dx = 0; dx < kk; dx++)
                  for (let c = 0; c < ci; c++) s += inp[((y + dy) * w + xx + dx) * ci + c] * k[((dy * kk + dx) * ci + c) * co + o];
              out[(y * ow + xx) * co + o] = s;
            }
        return out;
      };
      const prelu = (v: number[], a: number[]) => v.map((z, i) => (z > 0 ? z : z * a[i % a.length]));
      let h = prelu(conv(Array.from(x), 12, 12, 3, w1, b1, 3, 10), a1); // 10×10×10
      const pooled: number[] = []; // 2×2 stride 2 → 5×5×10
      for (let y = 0; y < 5; y++)
        for (let xx = 0; xx < 5; xx++)
          for (let c = 0; c < 10; c++) {
            let m = -Infinity;
            for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) m = Math.max(m, h[((2 * y + dy) * 10 + 2 * xx + dx) * 10 + c]);
            pooled.push(m);
          }
      h = prelu(conv(pooled, 5, 5, 10, w2, b2, 3, 16), a2); // 3×3×16
      h = prelu(conv(h, 3, 3, 16, w3, b3, 3, 32), a3); // 1×1×32
      const logits = conv(h, 1, 1, 32, w41, b41, 1, 2);
      const reg = conv(h, 1, 1, 32, w42, b42, 1, 4);
      const pFace = 1 / (1 + Math.exp(logits[0] - logits[1]));

      const input = tf.tensor4d(x, [1, 12, 12, 3]);
      const out = pnetForward(p.pnet, input);
      const [gotProb] = await get(out.prob);
      const gotReg = await get(out.reg);
      tf.dispose([input, out.prob, out.reg]);
      expect(gotProb).toBeCloseTo(pFace, 5);
      gotReg.forEach((v, i) => expect(v).toBeCloseTo(reg[i], 4));
    });
  });

  it("the detector's folded head gives pnetForward's probabilities and offsets", async () => {
    await withParams('caffe', async (p) => {
      const before = tf.memory().numTensors;
      // A real photo (250 × 250 LFW image) resampled to 60 × 60 and normalized: a 25 × 25 map.
      const img = await readPixels(sharedPath('data/samples/Anthony_Hopkins_0001.jpg'));
      const small = resizeArea(img, 60, 60);
      const input = new Float32Array(60 * 60 * 3);
      writeNetInput(small, FACENET_LAYOUT, input, 0);
      const x = tf.tensor4d(input, [1, 60, 60, 3]);
      const ref = pnetForward(p.pnet, x);
      const packed = pnetMarginMap(p.pnet, x);
      expect(packed.shape).toEqual([1, 25, 25, 5]);
      const [prob, reg, got] = await Promise.all([ref.prob.data(), ref.reg.data(), packed.data()]);
      tf.dispose([x, ref.prob, ref.reg, packed]);
      expect(tf.memory().numTensors).toBe(before);
      let spread = 0;
      for (let i = 0; i < prob.length; i++) {
        expect(Math.abs(faceProbability(got[i * 5]) - prob[i])).toBeLessThan(1e-6);
        for (let k = 0; k < 4; k++) expect(Math.abs(got[i * 5 + 1 + k] - reg[i * 4 + k])).toBeLessThan(1e-5);
        spread = Math.max(spread, Math.abs(prob[i] - prob[0]));
      }
      // The face is found somewhere and not everywhere: the comparison covers both ends.
      expect(spread).toBeGreaterThan(0.5);
    });
  });

  it('faceProbability is a float32 two-class softmax: exact halves, saturation where float32 saturates', () => {
    expect(faceProbability(0)).toBe(0.5);
    // 1 + e^-17 = 1 + 4.14e-8 is 1 in float32 (half its spacing above 1 is 5.96e-8), so a
    // float32 softmax gives exactly 1; the double-precision logistic would not (0.99999996).
    expect(1 / (1 + Math.exp(-17))).toBeLessThan(1);
    expect(faceProbability(17)).toBe(1);
    // e^-16 = 1.125e-7 is kept: 1 / 1.0000001 in float32.
    expect(faceProbability(16)).toBe(Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(-16)))));
    expect(faceProbability(16)).toBeLessThan(1);
    for (const d of [-30, -5, -0.3, 0.7, 4, 12]) {
      const p = faceProbability(d);
      expect(p).toBe(Math.fround(p));
      expect(Math.abs(p - 1 / (1 + Math.exp(-d)))).toBeLessThan(1e-7);
    }
  });

  it("R-Net's and O-Net's folded heads give their probabilities, offsets and landmarks", async () => {
    await withParams('caffe', async (p) => {
      const before = tf.memory().numTensors;
      // Crops of a real photo: the face, and two corners that hold no face.
      const img = await readPixels(sharedPath('data/samples/Anthony_Hopkins_0001.jpg'));
      const crops = (size: number) => {
        const plane = size * size * 3;
        const input = new Float32Array(3 * plane);
        // Rows/columns [y0, y0 + n) × [x0, x0 + n) of the 250 × 250 photo.
        const square = (y0: number, x0: number, n: number) => {
          const data = new Uint8Array(n * n * 3);
          for (let y = 0; y < n; y++) data.set(img.data.subarray(((y0 + y) * 250 + x0) * 3, ((y0 + y) * 250 + x0 + n) * 3), y * n * 3);
          return { data, height: n, width: n, channels: 3 };
        };
        const views = [square(65, 65, 120), square(0, 0, 60), square(190, 0, 60)];
        views.forEach((v, i) => writeNetInput(resizeArea(v, size, size), FACENET_LAYOUT, input, i * plane));
        return tf.tensor4d(input, [3, size, size, 3]);
      };
      for (const net of ['rnet', 'onet'] as const) {
        const x = crops(net === 'rnet' ? 24 : 48);
        const ref = net === 'rnet' ? rnetForward(p.rnet, x) : onetForward(p.onet, x);
        const rows = net === 'rnet' ? rnetMarginRows(p.rnet, x) : onetMarginRows(p.onet, x);
        const width = net === 'rnet' ? 5 : 15;
        expect(rows.shape).toEqual([3, width]);
        const [prob, reg, got] = await Promise.all([ref.prob.data(), ref.reg.data(), rows.data()]);
        const marks = ref.landmarks ? await ref.landmarks.data() : new Float32Array(0);
        tf.dispose([x, ref.prob, ref.reg, rows, ...(ref.landmarks ? [ref.landmarks] : [])]);
        for (let i = 0; i < 3; i++) {
          expect(Math.abs(faceProbability(got[i * width]) - prob[i]), `${net} crop ${i}`).toBeLessThan(1e-6);
          for (let k = 0; k < 4; k++) expect(Math.abs(got[i * width + 1 + k] - reg[i * 4 + k])).toBeLessThan(1e-5);
          for (let k = 0; k < marks.length / 3; k++) expect(Math.abs(got[i * width + 5 + k] - marks[i * 10 + k])).toBeLessThan(1e-5);
        }
        // The face is a face; the corners of the photo are not.
        expect(prob[0], net).toBeGreaterThan(0.9);
        expect(Math.max(prob[1], prob[2]), net).toBeLessThan(0.5);
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  });
});
