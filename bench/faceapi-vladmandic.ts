/**
 * @vladmandic/face-api (1.7.15) as a whole-pipeline baseline: its face detector, its
 * 68-point landmark net and its face-recognition net (dlib's ResNet — the network our `dlib`
 * model was ported from), with the weights the package ships.
 *
 * Unlike face-api.js 0.22.2 (bench/faceapi-harness.ts, which bundles tfjs-core 1.7 and so must
 * live in a worker thread), this package's Node-wasm entry (`dist/face-api.node-wasm.js`)
 * bundles no TensorFlow.js: it `require`s `@tensorflow/tfjs` and `@tensorflow/tfjs-backend-wasm`,
 * which resolve to the project's single 4.22 copies — the very tfjs-core instance, engine and
 * wasm backend our code uses. So it runs in the calling thread, on whatever backend
 * `initBackend` set up, and the comparison is on the same backend by construction. Call
 * {@link loadVladFaceApi} after `initBackend`.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Box } from '../src/face/types.js';
import type { DescribedFace } from './pipeline-agreement.js';
import type { Rgb } from './bench-images.js';

type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm.js');

/** face-api's two face detectors. */
export type VladDetector = 'ssd' | 'tiny';

/** The loaded baseline. */
export interface VladFaceApi {
  version: string;
  /** The tfjs backend face-api runs on (ours). */
  backend: string;
  /** Every face of the image: detection, 68 landmarks and 128-d descriptor, from RGB bytes. */
  describeAll(image: Rgb, detector: VladDetector): Promise<DescribedFace[]>;
}

/** The weights folder @vladmandic/face-api ships (`model/` beside its package.json). */
export function vladFaceApiModelDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'model');
}

/** Load face-api with the detectors asked for, the landmark net and the recognition net from `modelDir`. */
export async function loadVladFaceApi(modelDir: string, detectors: readonly VladDetector[]): Promise<VladFaceApi> {
  const faceapi = createRequire(import.meta.url)('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  if ((faceapi.tf as unknown as { engine(): unknown }).engine() !== tf.engine()) {
    throw new Error('@vladmandic/face-api loaded a second tfjs-core: the comparison would not be on our backend');
  }
  if (detectors.includes('ssd')) await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  if (detectors.includes('tiny')) await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  // face-api's own defaults (score 0.5; SSD at most 100 faces; tiny at 416 px input).
  const options = {
    ssd: new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 100 }),
    tiny: new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.5 }),
  };
  return {
    version: faceapi.version,
    backend: tf.getBackend(),
    async describeAll(image, detector) {
      // A tensor input makes face-api cut the faces with tensor ops (no canvas needed in Node).
      const input = faceapi.tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
      try {
        const found = await faceapi.detectAllFaces(input, options[detector]).withFaceLandmarks().withFaceDescriptors();
        return found.map((f) => {
          const { x, y, width, height } = f.detection.box;
          return { box: [x, y, x + width, y + height] as Box, descriptor: f.descriptor };
        });
      } finally {
        input.dispose();
      }
    },
  };
}
