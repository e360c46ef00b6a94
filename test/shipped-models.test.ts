/**
 * Every recognition model of the registry loads by name with its preprocessing and
 * calibration, gives unit embeddings, and on the sample people puts a person's other
 * portrait nearer than anyone else's — then frees every tensor it loaded.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedPath } from './helpers.js';
import { initBackend } from '../src/runtime/backend.js';
import { loadEmbedder, modelFolder, RECOGNITION_MODELS } from '../src/recognition/models.js';
import { readModelCalibration } from '../src/recognition/load.js';

const person = (name: string, i: number): string => sharedPath('data', 'samples', 'people', name, `${name}${i}.png`);
const PEOPLE = ['amy', 'leonard', 'penny', 'sheldon'];
/**
 * Of the four second portraits, how many each model must place nearest the same person's
 * first (facenet-celeba, LFW 0.81, gets two of them wrong, e.g. Leonard for Sheldon). A model added to the registry
 * needs a line here.
 */
const MIN_RIGHT: Record<string, number> = { dlib: 4, 'facenet-distilled': 4, 'facenet-celeba': 2 };

beforeAll(async () => {
  await initBackend();
});

const dist = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);

describe.each(Object.keys(RECOGNITION_MODELS).filter((n) => n !== 'default'))('shipped model %s', (name) => {
  it('loads by name with its calibration, gives unit embeddings, and ranks sample portraits', async () => {
    const before = tf.memory().numTensors;
    const calibration = await readModelCalibration(await modelFolder(name));
    const embedder = await loadEmbedder(name);
    try {
      const enrolled = await embedder.embed(PEOPLE.map((p) => person(p, 1)));
      const queries = await embedder.embed(PEOPLE.map((p) => person(p, 2)));
      for (const e of [...enrolled, ...queries]) expect(Math.hypot(...e)).toBeCloseTo(1, 4);
      const right = queries.filter((q, i) => {
        const d = enrolled.map((e) => dist(q, e));
        return d.indexOf(Math.min(...d)) === i;
      }).length;
      expect(MIN_RIGHT[name], `no MIN_RIGHT entry for ${name}`).toBeDefined();
      expect(right).toBeGreaterThanOrEqual(MIN_RIGHT[name]);
      if (calibration) {
        expect(calibration.falseAcceptRate).toBe(0.001);
        expect(calibration.threshold).toBeGreaterThan(0);
        expect(calibration.threshold).toBeLessThan(4);
      }
    } finally {
      embedder.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the CLI names every shipped model', () => {
  it("--model's help lists each registry name once, and what 'default' is", async () => {
    const { modelOptionHelp } = await import('../src/cli/options.js');
    const help = modelOptionHelp();
    const listed = /\(([^)]*)\)/.exec(help)![1].split(', ');
    expect(listed[0]).toBe('default = dlib');
    expect(['default', ...listed.slice(1), 'dlib'].sort()).toEqual(Object.keys(RECOGNITION_MODELS).sort());
    expect(modelOptionHelp("the gallery's own")).toMatch(/a model folder \(default: the gallery's own\)$/);
  });
});
