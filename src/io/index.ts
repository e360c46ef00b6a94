/**
 * tfjs-facenet/io: the file formats the weights and data sets come in — NumPy `.npy`
 * (including pickled object arrays), Python pickles, PyTorch `torch.save` files (zip and
 * legacy pickle formats), TensorFlow checkpoints (tensor bundles, their SSTable index, CRC32C). Parsers and serializers of bytes; the readers and writers of
 * files (`readNpyFile`, `readTfCheckpoint`, `writeTfCheckpoint`) need `tfjs-facenet/node`.
 * @packageDocumentation
 * @module tfjs-facenet/io
 */
// The errors these parsers throw, so that catching them needs no second import.
export { WeightsFormatError, ShapeError, FileNotFoundError } from '../errors.js';
export type { NamedArray, NamedArrays } from './types.js';
export { parseNpy, parseNpyHeader, readNpyFile, readMtcnnCaffeNpy, mtcnnDictToArrays, isNamedArray, fortranToC } from './npy.js';
export type { NpyValue, NpyObjectArray, NpyHeader } from './npy.js';
export { unpickle, unpickleAt, PickleGlobal, PickleObject } from './pickle.js';
export type { PickleValue, PickleClassHandler, UnpickleOptions, UnpickledValue } from './pickle.js';
export { parseTorchFile, readTorchFile, torchStateDict, torchTensorToArray, isTorchTensor } from './torch-file.js';
export type { TorchFile, TorchTensor, TorchStorage, TorchDtype, ParseTorchFileOptions } from './torch-file.js';
export { ZipArchive, crc32, looksLikeZip } from './zip.js';
export type { ZipEntry, InflateRaw } from './zip.js';
export {
  parseTfCheckpoint,
  parseTfCheckpointIndex,
  readTfCheckpoint,
  resolveCheckpointPrefix,
  serializeTfCheckpoint,
  writeTfCheckpoint,
  checkpointShardPath,
  TF_DTYPE,
} from './tf-checkpoint.js';
export type { ReadTfCheckpointOptions, WriteTfCheckpointOptions, BundleHeader, BundleEntry, CheckpointIndex } from './tf-checkpoint.js';
export { crc32c, crc32cExtend, maskCrc32c, unmaskCrc32c } from './crc32c.js';
