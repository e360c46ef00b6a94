/**
 * tfjs-facenet: FaceNet face recognition for TensorFlow.js.
 * @packageDocumentation
 */
export * from './errors.js';
export { initBackend, backendName } from './runtime/backend.js';
export type { BackendName, BackendOptions, BackendInfo } from './runtime/backend.js';
export { loadImage, rawToTensor } from './image/load.js';
export type { ImageInput, RawImage, BrowserImage } from './image/types.js';
export type { NamedArray, NamedArrays } from './io/types.js';
export type { Box, Point, FaceDetection } from './mtcnn/types.js';
