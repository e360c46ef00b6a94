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
export { Mtcnn, loadMtcnn, MTCNN_DEFAULT_OPTIONS, resolveMtcnnOptions, loadMtcnnParams, readMtcnnParams, paramsFromCaffe, paramsFromFaceApi, paramsFromSeed, decodeFaceApiWeights, disposeMtcnnParams, pnetForward, rnetForward, onetForward } from './mtcnn/index.js';
export type { LoadMtcnnOptions, MtcnnOptions, NmsThresholds, MtcnnTimings, ResolvedMtcnnOptions, MtcnnParams, MtcnnVariant, MtcnnWeightsSource, PNetParams, RNetParams, ONetParams, ConvParams, FcParams, PNetOutput, RefineOutput } from './mtcnn/index.js';
export { nms, bbreg, bbregPnet, rerec, fixBox, pad, generateBoundingBox, pyramidLevels, seedPyramidLevels, powInt, resizeArea, resizeLinear, argsortNumpy } from './mtcnn/index.js';
export type { ScoredBox, Candidate, Regression, NmsMethod, PadResult, HeatMap, PyramidLevel, PixelBuffer } from './mtcnn/index.js';
export { WEIGHT_SETS, WEIGHT_SET_NAMES, DEFAULT_WEIGHTS_BASE_URL, weightSet, weightFileUrl } from './weights/catalog.js';
export type { WeightSetName, WeightSet, WeightFile, WeightFileSource } from './weights/catalog.js';
export { downloadWeights, resolveWeightsDir, verifyWeights, checkWeightFile, defaultCacheDir } from './weights/download.js';
export type { DownloadWeightsOptions, DownloadProgress, DownloadResult, DownloadedFile, FileCheck, ResolveWeightsOptions } from './weights/download.js';
export { marginBox, selectFaces, referenceFaceScore, resizeWeights, cropFace, cropFaces, resolveCropOptions, CROP_DEFAULTS } from './mtcnn/crop.js';
export type { FaceSelection, CropOptions } from './mtcnn/crop.js';
export { ARCFACE_TEMPLATE_112, ALIGN_DEFAULTS, templatePoints, estimateSimilarity, applySimilarity, invertSimilarity, alignmentTransform, alignFace, alignFaces } from './mtcnn/align.js';
export type { AlignOptions, Similarity } from './mtcnn/align.js';
export { annotateImage, annotationSvg } from './image/annotate.js';
export type { Annotation, AnnotateOptions } from './image/annotate.js';
export { alignDataset, listDataset, parseBoundingBoxes, formatBoundingBoxLine, IMAGE_EXTENSIONS, BOUNDING_BOXES_FILE } from './mtcnn/align-dataset.js';
export type { AlignDatasetOptions, AlignDatasetSummary, AlignProgress, AlignDetectorOptions, DatasetClass, BoundingBoxRecord } from './mtcnn/align-dataset.js';
export type { AlignMethod } from './mtcnn/align-task.js';
export * from './facenet/index.js';
export { registerTrainingKernels, unregisterTrainingKernels, builtinKernel, makeConv2DBackpropFilter, makeConv2DBackpropInput } from './kernels/index.js';
export type { InstalledKernel } from './kernels/index.js';
