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
export { parseNpy, parseNpyHeader, readNpyFile, readMtcnnCaffeNpy, mtcnnDictToArrays, isNamedArray, fortranToC } from './io/npy.js';
export type { NpyValue, NpyObjectArray, NpyHeader } from './io/npy.js';
export { unpickle, PickleGlobal, PickleObject } from './io/pickle.js';
export type { PickleValue, PickleClassHandler, UnpickleOptions } from './io/pickle.js';
export { parseTfCheckpoint, parseTfCheckpointIndex, readTfCheckpoint, resolveCheckpointPrefix, serializeTfCheckpoint, writeTfCheckpoint, checkpointShardPath, TF_DTYPE } from './io/tf-checkpoint.js';
export type { ReadTfCheckpointOptions, WriteTfCheckpointOptions, BundleHeader, BundleEntry, CheckpointIndex } from './io/tf-checkpoint.js';
export { crc32c, crc32cExtend, maskCrc32c, unmaskCrc32c } from './io/crc32c.js';
export type { Box, Point, FaceDetection } from './mtcnn/types.js';
export { WEIGHT_SETS, WEIGHT_SET_NAMES, DEFAULT_WEIGHTS_BASE_URL, weightSet, weightFileUrl } from './weights/catalog.js';
export type { WeightSetName, WeightSet, WeightFile, WeightFileSource } from './weights/catalog.js';
export { downloadWeights, resolveWeightsDir, verifyWeights, checkWeightFile, defaultCacheDir } from './weights/download.js';
export type { DownloadWeightsOptions, DownloadProgress, DownloadResult, DownloadedFile, FileCheck, ResolveWeightsOptions } from './weights/download.js';
