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
