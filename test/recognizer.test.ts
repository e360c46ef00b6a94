/**
 * FaceRecognizer and loadEmbedder on the shipped default model and the sample people:
 * enrol from photos, identify, verify, and free every tensor it loaded.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedPath } from './helpers.js';
import { initBackend } from '../src/runtime/backend.js';
import { FaceRecognizer } from '../src/recognition/recognizer.js';
import { loadEmbedder, RECOGNITION_MODELS } from '../src/recognition/models.js';
import { ConfigError, ModelNotFoundError, NoFaceError } from '../src/errors.js';

const person = (name: string, i: number): string => sharedPath('data', 'samples', 'people', name, `${name}${i}.png`);

let recognizer: FaceRecognizer;

beforeAll(async () => {
  await initBackend();
  recognizer = await FaceRecognizer.load();
  await recognizer.enroll('amy', [person('amy', 1), person('amy', 2)]);
  await recognizer.enroll('leonard', [person('leonard', 1), person('leonard', 2)]);
  await recognizer.enroll('penny', [person('penny', 1), person('penny', 2)]);
});

afterAll(() => recognizer?.dispose());

describe('FaceRecognizer on the default model', () => {
  it('enrols with the model it loaded: fingerprint, preprocessing and sources recorded', () => {
    expect(Object.keys(RECOGNITION_MODELS)).toContain('default');
    expect(recognizer.gallery.identities).toEqual(['amy', 'leonard', 'penny']);
    expect(recognizer.gallery.fingerprint).toBe(recognizer.embedder.fingerprint);
    expect(recognizer.gallery.sourcesOf('amy')).toEqual([person('amy', 1), person('amy', 2)]);
  });

  it('identifies photos it has not seen: the nearest identity is the right one', async () => {
    for (const name of ['amy', 'leonard', 'penny']) {
      const faces = await recognizer.identify(person(name, 3), { topK: 3 });
      expect(faces.length).toBe(1);
      const [face] = faces;
      expect(face.candidates.map((c) => c.name)[0]).toBe(name);
      // Named only under the gallery threshold (the model's own, from its calibration.json).
      expect(face.name).toBe(face.distance < recognizer.gallery.threshold ? name : null);
    }
  });

  it('verifies: the same person is closer than another, and decides by the gallery threshold', async () => {
    const same = await recognizer.verify(person('amy', 1), person('amy', 3));
    const other = await recognizer.verify(person('amy', 1), person('leonard', 1));
    expect(same.distance).toBeLessThan(other.distance);
    expect(same.threshold).toBe(recognizer.gallery.threshold);
    expect(same.same).toBe(same.distance < same.threshold);
    expect(other.same).toBe(other.distance < other.threshold);
    expect(same.same).toBe(true);
    expect(other.same).toBe(false);
  });

  it('names the image without a face and adds nothing', async () => {
    const blank = { data: new Uint8Array(90 * 90 * 3).fill(30), width: 90, height: 90 };
    await expect(recognizer.enroll('nobody', [person('raj', 1), blank])).rejects.toThrow(NoFaceError);
    expect(recognizer.gallery.has('nobody')).toBe(false);
  });

  it('dispose() frees every tensor the recognizer loaded (network and detector)', async () => {
    const before = tf.memory().numTensors;
    const other = await FaceRecognizer.load('default');
    expect(tf.memory().numTensors - before).toBeGreaterThan(100); // the recognition network + MTCNN weights
    other.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('loadEmbedder', () => {
  it('names the folder without a model, and wants a detector for a URL', async () => {
    await expect(loadEmbedder('/nonexistent/model-folder')).rejects.toThrow(ModelNotFoundError);
    await expect(loadEmbedder('https://example.invalid/models/default/')).rejects.toThrow(ConfigError);
  });
});
