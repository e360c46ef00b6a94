/**
 * Raw 8-bit frames reach MTCNN without a tensor round trip: an RGB frame, the same frame as
 * RGBA, and the file it came from give exactly the same detections; bad frames are refused
 * with the same errors as `loadImage` gives.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { loadMtcnn, type Mtcnn } from '../src/mtcnn/detector.js';
import { decodeImageFile } from '../src/image/decode-node.js';
import { rawToRgbBytes } from '../src/image/load.js';
import { ShapeError } from '../src/errors.js';
import { setupBackend, sharedPath } from './helpers.js';

let mtcnn: Mtcnn;
beforeAll(async () => {
  await setupBackend();
  mtcnn = await loadMtcnn();
});

describe('MTCNN on raw frames', () => {
  it('RGB, RGBA and the file give identical detections, with no tensor left behind', async () => {
    const file = sharedPath('data', 'samples', 'groups', 'bbt3.jpg');
    const rgb = await decodeImageFile(file);
    const rgba = new Uint8ClampedArray(rgb.width * rgb.height * 4);
    for (let i = 0; i < rgb.width * rgb.height; i++) {
      rgba.set(rgb.data.subarray(3 * i, 3 * i + 3), 4 * i);
      rgba[4 * i + 3] = 255;
    }
    const before = tf.memory().numTensors;
    const fromFile = await mtcnn.detect(file);
    expect(fromFile.length).toBeGreaterThan(3);
    expect(await mtcnn.detect({ data: rgb.data, width: rgb.width, height: rgb.height, channels: 3 })).toEqual(fromFile);
    expect(await mtcnn.detect({ data: rgba, width: rgb.width, height: rgb.height, channels: 4 })).toEqual(fromFile);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rawToRgbBytes drops alpha (hand-worked) and names a frame of the wrong size', async () => {
    expect(Array.from(rawToRgbBytes({ data: Uint8Array.of(1, 2, 3, 255, 4, 5, 6, 0), width: 2, height: 1, channels: 4 }))).toEqual([1, 2, 3, 4, 5, 6]);
    await expect(mtcnn.detect({ data: new Uint8Array(10), width: 2, height: 2 })).rejects.toThrow(ShapeError);
    await expect(mtcnn.detect({ data: new Uint8Array(10), width: 2, height: 2 })).rejects.toThrow(/raw image.*12 bytes/);
  });
});
