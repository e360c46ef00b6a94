/** FaceNet's Inception-ResNet-v1: builder, save/load, reference checkpoint import/export. */
export {
  buildInceptionResnetV1,
  resolveInceptionResnetV1Options,
  regularizationLoss,
  stageSizes,
  validOutputSize,
  MIN_INPUT_SIZE,
  BLOCK_SCALES,
  PRELOGITS_OUTPUT,
  EMBEDDINGS_OUTPUT,
} from './inception-resnet-v1.js';
export type { InceptionResnetV1Options, ResolvedInceptionResnetV1Options, BlockRepeats } from './inception-resnet-v1.js';
export { SlimBatchNorm, ScaledResidual, L2Normalize, ZeroPadChannels, ChannelAffine, batchNormTraining } from './layers.js';
export type { SlimBatchNormArgs, ScaledResidualArgs, L2NormalizeArgs, ZeroPadChannelsArgs, Kwargs } from './layers.js';
export { fileSystemHandler, saveModel, loadModel, registerFileSystemRouter, MODEL_JSON } from './model-io.js';
export {
  REFERENCE_SCOPE,
  checkpointVariableMap,
  isModelVariableName,
  exportCheckpointVariables,
  loadCheckpointVariables,
  inferOptionsFromCheckpoint,
  modelFromCheckpointVariables,
  importFacenetCheckpoint,
  exportFacenetCheckpoint,
} from './checkpoint-import.js';
export type { MappedVariable, CheckpointImportReport, LoadCheckpointOptions } from './checkpoint-import.js';
export {
  TORCH_FACENET_OPTIONS,
  referenceTargetOfTorchName,
  torchStateDictToReferenceVariables,
  modelFromTorchStateDict,
  importFacenetTorchFile,
} from './torch-import.js';
export type { ReferenceTarget, TorchToReference, TorchImportReport, TorchImportOptions } from './torch-import.js';
