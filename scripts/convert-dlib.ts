/**
 * Convert dlib's face-recognition ResNet from face-api's files (devDependency
 * @vladmandic/face-api) into this project's model format: models/dlib/ (model.json +
 * 8-bit weights with face-api's exact quantization + preprocessing.json).
 *
 *   node --import tsx scripts/convert-dlib.ts [OUT_DIR]
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/runtime/backend.js';
import { saveModel, loadModel } from '../src/facenet/model-io.js';
import { dlibResnetFromFaceApi } from '../src/teachers/dlib-weights.js';
import { writeModelPreprocessing } from '../src/recognition/load.js';
import { DLIB_PREPROCESSING } from '../src/teachers/dlib-model.js';

const root = resolve(import.meta.dirname, '..');
const out = resolve(process.argv[2] ?? join(root, 'models/dlib'));
const src = join(root, 'node_modules/@vladmandic/face-api/model');

await initBackend();
const manifest = JSON.parse(await readFile(join(src, 'face_recognition_model-weights_manifest.json'), 'utf8'));
const bin = await readFile(join(src, 'face_recognition_model.bin'));
const { model, quantization } = dlibResnetFromFaceApi(manifest, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
// Store each tensor as face-api did: its 8-bit ones with the same scale and minimum (lossless).
await saveModel(model, out, {
  weightStorage: (name) => {
    const q = quantization.get(name);
    return q?.dtype === 'uint8' ? { dtype: 'uint8', scale: q.scale!, min: q.min! } : q?.dtype === 'float16' ? 'float16' : undefined;
  },
});
await writeModelPreprocessing(out, DLIB_PREPROCESSING);

// The stored model must compute what the converted one does.
const again = await loadModel(out);
const x = tf.randomUniform([2, 150, 150, 3], 0, 255, 'float32', 7);
const a = model.predict(x) as tf.Tensor;
const b = again.predict(x) as tf.Tensor;
const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
console.log(`wrote ${out}; max |Δ| after reload ${diff.toExponential(2)}`);
if (!(diff < 1e-6)) process.exit(1);
