/**
 * dlib's face-recognition ResNet from face-api.js's weight files
 * (`face_recognition_model-weights_manifest.json` + `face_recognition_model.bin`, shipped by
 * `@vladmandic/face-api` and face-api.js): a `tf.io` weights manifest whose tensors are
 * mostly 8-bit quantized, named `conv32_1/conv1/conv/filters`, `…/scale/weights`, `fc`….
 * Pure: takes the manifest and the bytes, so it works on fetched files in a browser too.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { WeightsFormatError } from '../errors.js';
import { buildDlibResnet, DLIB_INPUT_NORMALIZATION, DLIB_INPUT_SCALE, DLIB_MEAN_RGB } from './dlib-resnet.js';

/** The quantization of one stored tensor (as in a `tf.io` weights manifest). */
export type WeightQuantization = NonNullable<tf.io.WeightsManifestEntry['quantization']>;

/**
 * The name face-api gives the tensor behind one of our model's weights, or undefined for
 * weights face-api does not store (the input normalisation).
 */
export function faceApiWeightName(modelWeight: string): string | undefined {
  if (modelWeight.startsWith(`${DLIB_INPUT_NORMALIZATION}/`)) return undefined;
  if (modelWeight === 'fc/kernel') return 'fc';
  const renamed = modelWeight
    .replace(/\/conv\/kernel$/, '/conv/filters')
    .replace(/\/scale\/scale$/, '/scale/weights')
    .replace(/\/scale\/offset$/, '/scale/biases');
  return renamed;
}

/** A dlib ResNet with face-api's weights, and how face-api stored each weight. */
export interface DlibResnetWeights {
  model: tfl.LayersModel;
  /** Quantization of each of the model's weights as face-api stored it (by model weight name). */
  quantization: Map<string, WeightQuantization>;
}

/**
 * Build dlib's ResNet and load face-api's weights into it.
 * @param manifest the parsed `face_recognition_model-weights_manifest.json`.
 * @param data the bytes of its shard(s), concatenated in manifest order.
 * @param source names the files in errors.
 * @throws {WeightsFormatError} when a weight is missing, has the wrong shape, or is left over.
 */
export function dlibResnetFromFaceApi(manifest: tf.io.WeightsManifestConfig, data: ArrayBuffer, source = 'face_recognition_model'): DlibResnetWeights {
  if (!Array.isArray(manifest)) throw new WeightsFormatError(source, 'the manifest is not a list of weight groups');
  const specs = manifest.flatMap((g) => g.weights ?? []);
  const expectedBytes = specs.reduce((n, s) => {
    const bytes = s.quantization ? (s.quantization.dtype === 'uint8' ? 1 : 2) : 4;
    return n + bytes * s.shape.reduce((a, b) => a * b, 1);
  }, 0);
  if (data.byteLength !== expectedBytes) {
    throw new WeightsFormatError(source, `the weights file has ${data.byteLength} bytes, the manifest describes ${expectedBytes}`);
  }
  const stored = tf.io.decodeWeights(data, specs);
  const specByName = new Map(specs.map((s) => [s.name, s]));
  const model = buildDlibResnet();
  const quantization = new Map<string, WeightQuantization>();
  const used = new Set<string>();
  try {
    const values = model.weights.map((w) => {
      const name = faceApiWeightName(w.originalName);
      if (name === undefined) {
        // Input normalisation: (x − mean) / 255 as x · (1/255) + (−mean/255).
        return w.originalName.endsWith('/scale')
          ? tf.fill([3], 1 / DLIB_INPUT_SCALE)
          : tf.tensor1d(DLIB_MEAN_RGB.map((m) => -m / DLIB_INPUT_SCALE));
      }
      const t = stored[name];
      if (!t) throw new WeightsFormatError(source, `weight ${name} (for ${w.originalName}) is missing`);
      if (JSON.stringify(t.shape) !== JSON.stringify(w.shape)) {
        throw new WeightsFormatError(source, `weight ${name} has shape ${JSON.stringify(t.shape)}, the network needs ${JSON.stringify(w.shape)}`);
      }
      used.add(name);
      const q = specByName.get(name)?.quantization;
      if (q) quantization.set(w.originalName, q);
      return t;
    });
    const unused = Object.keys(stored).filter((k) => !used.has(k));
    if (unused.length) throw new WeightsFormatError(source, `weights not used by the network: ${unused.join(', ')}`);
    model.setWeights(values);
    tf.dispose(values.filter((v) => !Object.values(stored).includes(v)));
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    tf.dispose(Object.values(stored));
  }
  return { model, quantization };
}
