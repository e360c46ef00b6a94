/** Gradient kernels for training on the wasm and cpu backends. */
export { registerTrainingKernels, unregisterTrainingKernels, builtinKernel } from './register.js';
export type { InstalledKernel } from './register.js';
export { makeConv2DBackpropFilter } from './conv2d-backprop-filter.js';
export { makeConv2DBackpropInput } from './conv2d-backprop-input.js';
