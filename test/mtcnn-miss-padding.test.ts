/**
 * `missPadding`: a face cut tight, which MTCNN misses, is found by a second search on the
 * image with a border copied from its edges — at the landmarks MTCNN gives on the whole photo.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { loadMtcnn, type Mtcnn } from '../src/mtcnn/detector.js';
import { decodeImageFile } from '../src/image/decode-node.js';
import { padEdge } from '../src/image/pixels.js';
import { shiftDetection } from '../src/face/types.js';
import { ConfigError } from '../src/errors.js';
import { setupBackend, sharedPath } from './helpers.js';

let mtcnn: Mtcnn;
beforeAll(async () => {
  await setupBackend();
  mtcnn = await loadMtcnn();
});

describe('missPadding', () => {
  it('padEdge copies the nearest edge pixel into the border (hand-worked)', () => {
    const p = padEdge({ data: Uint8Array.of(1, 2, 3, 4), width: 2, height: 2, channels: 1 }, 1);
    expect([p.width, p.height]).toEqual([4, 4]);
    expect(Array.from(p.data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    const rgb = padEdge({ data: Uint8Array.of(9, 8, 7), width: 1, height: 1, channels: 3 }, 1);
    expect(Array.from(rgb.data)).toEqual(Array.from({ length: 9 }, () => [9, 8, 7]).flat());
  });

  it('shiftDetection moves the box and every landmark', () => {
    const d = shiftDetection({ box: [1, 2, 3, 4], score: 0.9, landmarks: [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]] }, -1, 10);
    expect(d.box).toEqual([0, 12, 2, 14]);
    expect(d.landmarks[4]).toEqual([4, 15]);
    expect(d.score).toBe(0.9);
  });

  it('finds a face cut tight that a plain search misses, at the landmarks of the whole photo', async () => {
    const img = await decodeImageFile(sharedPath('data', 'samples', 'Anthony_Hopkins_0001.jpg'));
    const before = tf.memory().numTensors;
    const [whole] = await mtcnn.detect(img);
    // The face box less 10 % of its size on every side: forehead, chin and cheeks cut off.
    const [x1, y1, x2, y2] = whole!.box;
    const [L, T] = [Math.round(x1 + 0.1 * (x2 - x1)), Math.round(y1 + 0.1 * (y2 - y1))];
    const [w, h] = [Math.round(x2 - 0.1 * (x2 - x1)) - L, Math.round(y2 - 0.1 * (y2 - y1)) - T];
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) data.set(img.data.subarray(((T + y) * img.width + L) * 3, ((T + y) * img.width + L + w) * 3), y * w * 3);
    const crop = { data, width: w, height: h, channels: 3 as const };
    expect(await mtcnn.detect(crop)).toEqual([]); // the premise: MTCNN alone misses it
    const found = await mtcnn.detect(crop, { missPadding: 0.25 });
    expect(found).toHaveLength(1);
    found[0]!.landmarks.forEach(([x, y], i) => {
      const [wx, wy] = whole!.landmarks[i]!;
      expect(Math.hypot(x + L - wx, y + T - wy), `landmark ${i}`).toBeLessThan(3);
    });
    // Images that have a face are not searched twice: the same answer with and without.
    expect(await mtcnn.detect(img, { missPadding: 0.25 })).toEqual([whole]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a border outside [0, 1]', async () => {
    await expect(mtcnn.detect({ data: new Uint8Array(3 * 400), width: 20, height: 20, channels: 3 }, { missPadding: 2 })).rejects.toThrow(ConfigError);
    await expect(mtcnn.detect({ data: new Uint8Array(3 * 400), width: 20, height: 20, channels: 3 }, { missPadding: 2 })).rejects.toThrow(/missPadding/);
  });
});
