/**
 * dlib's face-recognition ResNet: our network with face-api's weights against face-api's
 * own forward pass (test/fixtures/dlib-reference.json, made by scripts/make-dlib-fixture.cjs
 * with @vladmandic/face-api on the cpu backend).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { WeightsFormatError } from '../src/errors.js';
import { buildDlibResnet, DLIB_RESNET_DIMENSION } from '../src/teachers/dlib-resnet.js';
import { dlibResnetFromFaceApi, faceApiWeightName } from '../src/teachers/dlib-weights.js';
import { countLeaks, setupBackend } from './helpers.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const FACE_API_MODEL = join(import.meta.dirname, '../node_modules/@vladmandic/face-api/model');

interface ReferenceCase { name: string; descriptor: number[] }
const reference = JSON.parse(readFileSync(join(FIXTURES, 'dlib-reference.json'), 'utf8')) as { cases: ReferenceCase[] };

function faceApiFiles(): { manifest: tf.io.WeightsManifestConfig; data: ArrayBuffer } {
  const manifest = JSON.parse(readFileSync(join(FACE_API_MODEL, 'face_recognition_model-weights_manifest.json'), 'utf8'));
  const bin = readFileSync(join(FACE_API_MODEL, 'face_recognition_model.bin'));
  return { manifest, data: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) };
}

/** The same seeded noise as the fixture generator (xorshift32). */
function noiseImage(seed: number): Int32Array {
  const px = new Int32Array(150 * 150 * 3);
  let s = seed >>> 0;
  for (let i = 0; i < px.length; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    px[i] = s % 256;
  }
  return px;
}

async function casePixels(name: string): Promise<Int32Array> {
  if (name.startsWith('noise:')) return noiseImage(Number(name.slice(6)));
  const { data } = await sharp(join(FIXTURES, 'dlib-chips', name)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return Int32Array.from(data);
}

describe('dlib ResNet', () => {
  beforeAll(async () => {
    await setupBackend();
  });

  it('has the structure of face-api’s FaceRecognitionNet: 29 convolutions, one per face-api weight group', () => {
    const model = buildDlibResnet();
    try {
      expect(model.outputs[0].shape).toEqual([null, DLIB_RESNET_DIMENSION]);
      const { manifest } = faceApiFiles();
      const stored = new Set(manifest.flatMap((g) => g.weights.map((w) => w.name)));
      const mapped = model.weights.map((w) => faceApiWeightName(w.originalName)).filter((n): n is string => n !== undefined);
      expect(new Set(mapped)).toEqual(stored);
      expect(mapped.length).toBe(stored.size);
      expect(model.layers.filter((l) => l.getClassName() === 'Conv2D').length).toBe(29);
    } finally {
      model.dispose();
    }
  });

  it('equals face-api’s forward pass within 1e-4 on real face chips and noise', async () => {
    const { manifest, data } = faceApiFiles();
    const { model, quantization } = dlibResnetFromFaceApi(manifest, data);
    try {
      expect(quantization.size).toBe(109); // the 8-bit tensors of face-api's file
      const pixels = await Promise.all(reference.cases.map((c) => casePixels(c.name)));
      const before = tf.memory().numTensors;
      const out = tf.tidy(() => {
        const x = tf.tensor4d(pixels.flatMap((p) => Array.from(p)), [pixels.length, 150, 150, 3], 'float32');
        return model.predict(x) as tf.Tensor2D;
      });
      const got = (await out.array()) as number[][];
      out.dispose();
      expect(tf.memory().numTensors).toBe(before);
      let worst = 0;
      reference.cases.forEach((c, i) => {
        for (let k = 0; k < DLIB_RESNET_DIMENSION; k++) worst = Math.max(worst, Math.abs(got[i][k] - c.descriptor[k]));
      });
      expect(worst).toBeLessThan(1e-4);
      // The real chips are faces of different people: far apart, unlike a constant output.
      const dist = Math.hypot(...got[0].map((v, k) => v - got[1][k]));
      expect(dist).toBeGreaterThan(0.4);
    } finally {
      model.dispose();
    }
  });

  it('refuses damaged weight files naming the problem, and leaks nothing', async () => {
    const { manifest, data } = faceApiFiles();
    expect(() => dlibResnetFromFaceApi(manifest, data.slice(0, data.byteLength - 10), 'frm.bin')).toThrow(/frm\.bin.*bytes/);
    const renamed = JSON.parse(JSON.stringify(manifest)) as tf.io.WeightsManifestConfig;
    renamed[0].weights[5].name = 'conv32_1/conv1/conv/bogus';
    const leaked = await countLeaks(() => {
      expect(() => dlibResnetFromFaceApi(renamed, data)).toThrow(WeightsFormatError);
    });
    expect(leaked).toBe(0);
  });
});
