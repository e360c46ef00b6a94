/**
 * Installs the gradient kernels that make training practical on the wasm and cpu
 * backends.
 *
 * | kernel                 | wasm                               | cpu                              |
 * |------------------------|------------------------------------|----------------------------------|
 * | `Conv2DBackpropFilter` | missing in tfjs 4.22 → added       | built-in is 30-75× slower → replaced |
 * | `Conv2DBackpropInput`  | built-in is 2-10× slower → replaced | built-in is faster → kept        |
 *
 * The replacements run on the backend's own forward convolution (see
 * {@link makeConv2DBackpropFilter} and {@link makeConv2DBackpropInput}).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
// Training needs the gradient functions of the core ops, which tfjs-layers registers
// (tfjs-core alone registers none in its Node build).
import '@tensorflow/tfjs-layers';
import { makeConv2DBackpropFilter } from './conv2d-backprop-filter.js';
import { makeConv2DBackpropInput } from './conv2d-backprop-input.js';

/** Which kernels are installed on which backend. */
const PLAN: { kernelName: string; backendName: string; make: (backendName: string) => KernelFunc }[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', make: makeConv2DBackpropFilter },
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', make: makeConv2DBackpropInput },
  { kernelName: 'Conv2DBackpropFilter', backendName: 'cpu', make: makeConv2DBackpropFilter },
];

/** One kernel installed by {@link registerTrainingKernels}. */
export interface InstalledKernel {
  kernelName: string;
  backendName: string;
  /** True when a built-in kernel of the same name was replaced (and is kept for restoring). */
  replacedBuiltin: boolean;
}

const ours = new Map<string, KernelFunc>();
const builtins = new Map<string, KernelConfig>();
const key = (kernelName: string, backendName: string): string => `${kernelName}@${backendName}`;

/**
 * Register the training kernels for every backend in the table above whose package has
 * been loaded (its backend factory is registered, e.g. after `initBackend()`).
 *
 * Idempotent: kernels already installed are left alone. Call it after the backend is
 * initialized and before computing gradients (the trainer does this). Calling it again
 * after loading another backend installs that backend's kernels too.
 *
 * @returns the kernels that are installed now (from this or earlier calls).
 */
export function registerTrainingKernels(): InstalledKernel[] {
  const installed: InstalledKernel[] = [];
  for (const { kernelName, backendName, make } of PLAN) {
    if (tf.findBackendFactory(backendName) == null) continue;
    const k = key(kernelName, backendName);
    const current = tf.getKernel(kernelName, backendName);
    const mine = ours.get(k);
    if (!(mine && current?.kernelFunc === mine)) {
      if (current) {
        builtins.set(k, current);
        tf.unregisterKernel(kernelName, backendName);
      }
      const kernelFunc = make(backendName);
      tf.registerKernel({ kernelName, backendName, kernelFunc });
      ours.set(k, kernelFunc);
    }
    installed.push({ kernelName, backendName, replacedBuiltin: builtins.has(k) });
  }
  return installed;
}

/**
 * Remove the kernels installed by {@link registerTrainingKernels} and put back the
 * built-in ones they replaced (for comparisons and benchmarks).
 */
export function unregisterTrainingKernels(): void {
  for (const [k, fn] of ours) {
    const [kernelName, backendName] = k.split('@');
    const current = tf.getKernel(kernelName, backendName);
    if (current?.kernelFunc === fn) {
      tf.unregisterKernel(kernelName, backendName);
      const builtin = builtins.get(k);
      if (builtin) tf.registerKernel(builtin);
    }
  }
  ours.clear();
}

/**
 * The backend's own kernel `kernelName`, even while {@link registerTrainingKernels} has
 * replaced it; undefined if the backend has none.
 */
export function builtinKernel(kernelName: string, backendName: string): KernelConfig | undefined {
  const k = key(kernelName, backendName);
  const current = tf.getKernel(kernelName, backendName);
  if (current && current.kernelFunc !== ours.get(k)) return current;
  return builtins.get(k);
}
