/**
 * tfjs-facenet: FaceNet face recognition for TensorFlow.js — the browser-safe entry.
 *
 * Detect (MTCNN) → align (crop or landmarks) → embed (FaceNet) → identify (gallery), the
 * training building blocks and the evaluation. Nothing here imports Node: file paths,
 * folders, sharp decoding, downloads and worker pools are in `tfjs-facenet/node`, which
 * re-exports all of this too. The MTCNN stages and box math are in `tfjs-facenet/mtcnn`,
 * the file-format parsers in `tfjs-facenet/io`.
 * @packageDocumentation
 * @module tfjs-facenet
 */
export * from './errors.js';
export { initBackend, backendName } from './runtime/backend.js';
export type { BackendName, BackendOptions, BackendInfo } from './runtime/backend.js';

// Images and faces.
export { loadImage, loadImageScaled, rawToTensor } from './image/load.js';
export type { ScaledImage } from './image/load.js';
export type { ImageInput, RawImage, BrowserImage } from './image/types.js';
export type { Box, Point, FaceDetection } from './face/types.js';
export { selectFaces, cropFace, cropFaces } from './face/crop.js';
export type { FaceSelection, CropOptions } from './face/crop.js';
export { alignFace, alignFaces } from './face/align.js';
export type { AlignOptions } from './face/align.js';

// Detection.
export { Mtcnn, loadMtcnn } from './mtcnn/detector.js';
export type { LoadMtcnnOptions } from './mtcnn/detector.js';
export type { MtcnnOptions } from './mtcnn/pipeline-types.js';
export { loadMtcnnFromUrl } from './mtcnn/load-url.js';
export type { LoadMtcnnFromUrlOptions } from './mtcnn/load-url.js';

// Recognition in one object, and the loader of any model.
export { FaceRecognizer } from './recognition/recognizer.js';
export type { FaceRecognizerOptions, Verification, DisposableEmbedder } from './recognition/recognizer.js';
export { loadEmbedder, modelFolder, RECOGNITION_MODELS } from './recognition/models.js';
export type { ShippedModel, LoadEmbedderByNameOptions } from './recognition/models.js';

// Embedding and identifying, piece by piece.
export { buildInceptionResnetV1 } from './facenet/inception-resnet-v1.js';
export type { InceptionResnetV1Options } from './facenet/inception-resnet-v1.js';
export { saveModel, loadModel } from './facenet/model-io.js';
export type { SaveModelOptions } from './facenet/model-io.js';
export type { WeightStorage } from './facenet/quantize.js';
export { DEFAULT_PREPROCESSING } from './face/embedding.js';
export type { Embedder, Preprocessing, FaceEmbedding, ModelCalibration } from './face/embedding.js';
export { FacenetEmbedder, modelFingerprint } from './recognition/embedder.js';
export type { FacenetEmbedderOptions, FaceDetector, EmbeddingFunction, FaceCrops } from './recognition/embedder.js';
export { standardizeFaces, fixedStandardization } from './recognition/standardize.js';
export { loadFacenetEmbedder } from './recognition/load.js';
export type { LoadEmbedderOptions } from './recognition/load.js';
export { loadFacenetEmbedderFromUrl } from './recognition/load-url.js';
export type { LoadEmbedderFromUrlOptions } from './recognition/load-url.js';
export { identifyFaces, nameFaces, assertGalleryMatchesEmbedder } from './recognition/identify.js';
export type { IdentifiedFace, IdentifyOptions } from './recognition/identify.js';
export { FaceFollower } from './recognition/face-follower.js';
export type { FaceFollowerOptions, FollowedFrame } from './recognition/face-follower.js';
export { Gallery } from './gallery/gallery.js';
export type { Aggregation, GalleryModelInfo, GalleryOptions, MatchOptions, MatchCandidate, MatchResult } from './gallery/gallery.js';
export { defaultThreshold, embeddingDistance } from './gallery/metric.js';
export type { GalleryMetric } from './gallery/metric.js';
export { encodeGallery, decodeGallery } from './gallery/format.js';
export type {
  GalleryStore,
  GalleryStoreInfo,
  GalleryUpdate,
  GalleryUpdateResult,
  SourcedEmbedding,
  EnrollEntry,
  StoredIdentity,
  StoreMatchOptions,
  StoreIndexOptions,
} from './gallery/store.js';
export { SqlGalleryStore } from './gallery/sql-store.js';
export type { SqlGalleryStoreOptions } from './gallery/sql-store.js';
export type { SqlClient, SqlQueryable } from './gallery/sql-client.js';
export { pgliteClient } from './gallery/sql-pglite.js';
export type { PgliteDatabase, PgliteQueryable } from './gallery/sql-pglite.js';
export { GALLERY_SCHEMA_VERSION, migrateGallerySchema } from './gallery/sql-schema.js';
export { calibrateThreshold, calibrateGallery } from './recognition/threshold.js';
export type { Calibration } from './recognition/threshold.js';

// Evaluation.
export { evaluateVerification, calculateRoc, calculateVal } from './eval/verification.js';
export type { VerificationMetric, VerificationOptions, VerificationReport, RocResult, ValResult } from './eval/verification.js';
export { rocCurveSvg, formatVerificationReport } from './eval/roc-plot.js';
export type { RocCurve, RocPlotOptions } from './eval/roc-plot.js';

// Losses and the training building blocks (the loop over folders, `train`, is in `tfjs-facenet/node`).
export {
  softmaxCrossEntropy,
  classificationAccuracy,
  CenterLoss,
  tripletLoss,
  minedTripletLoss,
  mineTriplets,
  pairwiseSquaredDistances,
  arcFaceLogits,
  cosFaceLogits,
  cosineLogits,
  l2Normalize,
  l2WeightDecay,
  prelogitsNorm,
  embeddingDistillationLoss,
  relationalDistillationLoss,
} from './losses/index.js';
export type { CenterLossOptions, TripletMining, Triplets, MinedTripletOptions, MarginOptions, Labels, DistillationMetric } from './losses/index.js';
export { registerTrainingKernels, unregisterTrainingKernels } from './kernels/register.js';
export { resolveTrainConfig, DEFAULT_TRAIN_CONFIG, TRAIN_PRESETS } from './train/config.js';
export type { TrainConfig, OptimizerName, HeadKind, SamplerKind, LearningRateSchedule } from './train/config.js';
export { microBatchGradients } from './train/step.js';
export type { LossSettings, MicroMetrics, MicroBatchInput, MicroBatchResult } from './train/step.js';
export { ClassHead } from './train/head.js';
export type { ClassHeadOptions } from './train/head.js';
export { TrainOptimizer } from './train/optimizers.js';
export type { NamedVariable, OptimizerHyper } from './train/optimizers.js';
export { MovingAverage } from './train/ema.js';
export { resolveSchedule, learningRateAt } from './train/schedule.js';
export { Rng } from './train/rng.js';
