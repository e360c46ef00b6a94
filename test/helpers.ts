/**
 * Test helpers. Tests that need `../shared` fail (they never skip) when it is missing:
 * `sharedPath` throws.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/runtime/backend.js';
export { sharedPath, sharedDir } from '../src/util/shared-data.js';

/** Initialize the backend the tests run on (wasm unless TFJS_FACENET_BACKEND says otherwise). */
export async function setupBackend(): Promise<string> {
  const info = await initBackend();
  return info.name;
}

/** Run `fn` and return how many tensors it leaked. */
export async function countLeaks(fn: () => Promise<unknown> | unknown): Promise<number> {
  const before = tf.memory().numTensors;
  await fn();
  return tf.memory().numTensors - before;
}

/** An RGB image moved by (dx, dy) pixels, uncovered parts black: a camera pan. */
export function panned(img: { data: Uint8Array; width: number; height: number }, dx: number, dy: number): { data: Uint8Array; width: number; height: number; channels: 3 } {
  const { width, height, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = Math.max(0, dy); y < Math.min(height, height + dy); y++) {
    const sy = y - dy;
    const x0 = Math.max(0, dx);
    const x1 = Math.min(width, width + dx);
    if (x1 > x0) out.set(data.subarray((sy * width + x0 - dx) * 3, (sy * width + x1 - dx) * 3), (y * width + x0) * 3);
  }
  return { data: out, width, height, channels: 3 };
}
