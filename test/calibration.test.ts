/**
 * A model folder's calibration.json (threshold, detection-score floor) reaches the embedder,
 * the recognizer's gallery and identification: on a real group photo the one non-face
 * MTCNN finds (a hand, score 0.956) is named when there is no floor and a threshold that
 * accepts anything, and never named with the floor.
 */
import { cp, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import '../src/runtime/install-node.js';
import { ConfigError } from '../src/errors.js';
import { FaceRecognizer } from '../src/recognition/recognizer.js';
import { loadEmbedder } from '../src/recognition/models.js';
import { setupBackend, sharedPath } from './helpers.js';

let modelDir: string;

beforeAll(async () => {
  await setupBackend();
  modelDir = await mkdtemp(join(tmpdir(), 'calibrated-'));
  await cp(join(import.meta.dirname, '../models/dlib'), modelDir, { recursive: true });
  await writeFile(
    join(modelDir, 'calibration.json'),
    JSON.stringify({ threshold: 4, falseAcceptRate: 0.5, calibratedOn: 'a test: accept any pair', minDetectionScore: 0.97 }),
  );
});

describe('model calibration', () => {
  it('sets the gallery threshold and keeps low-scoring detections unnamed', async () => {
    const before = tf.memory().numTensors;
    const rec = await FaceRecognizer.load(modelDir, { detectorOptions: { weights: 'caffe', weightsDir: sharedPath('weights') } });
    expect(rec.embedder.calibration).toEqual({ threshold: 4, falseAcceptRate: 0.5, calibratedOn: 'a test: accept any pair', minDetectionScore: 0.97 });
    expect(rec.gallery.threshold).toBe(4);
    const raj = sharedPath('data', 'samples', 'people', 'raj');
    await rec.enroll('raj', (await readdir(raj)).sort().map((f) => join(raj, f)));
    const group = sharedPath('data', 'samples', 'groups', 'bbt5.jpg');
    const floored = await rec.identify(group);
    const hand = floored.find((f) => f.box[2] - f.box[0] < 40)!;
    expect(hand.score).toBeLessThan(0.97);
    expect(hand.name).toBeNull();
    // Every real face is "raj" at a threshold that accepts anything.
    expect(floored.filter((f) => f !== hand).every((f) => f.name === 'raj')).toBe(true);
    const unfloored = await rec.identify(group, { minDetectionScore: 0 });
    expect(unfloored.find((f) => f.box[2] - f.box[0] < 40)!.name).toBe('raj');
    rec.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('refuses an out-of-range calibration naming the field', async () => {
    await writeFile(join(modelDir, 'calibration.json'), JSON.stringify({ threshold: -1, falseAcceptRate: 0.001, calibratedOn: 'x', minDetectionScore: 0.9 }));
    await expect(loadEmbedder(modelDir, { detector: { detect: async () => [] } })).rejects.toThrow(ConfigError);
    await expect(loadEmbedder(modelDir, { detector: { detect: async () => [] } })).rejects.toThrow(/calibration\.threshold/);
  });
});
