/**
 * tfjs-facenet/node: everything of the main entry, plus what needs Node — files and
 * folders (image decoding with sharp, dataset listing and alignment, file galleries,
 * weights on disk and their download, model folders, LFW files), worker pools and the
 * training loop over a folder of identities. Importing this entry installs Node's
 * built-ins for the library (so that `loadImage('photo.jpg')`, `loadMtcnn()` and friends
 * read files).
 * @packageDocumentation
 * @module tfjs-facenet/node
 */
import '../runtime/install-node.js';

export * from '../index.js';
export { installNodeBuiltins, hasNodeBuiltins } from '../runtime/node-platform.js';
export type { NodeBuiltins } from '../runtime/node-platform.js';
export { readNpyFile, readMtcnnCaffeNpy } from '../io/npy.js';
export { readTfCheckpoint, writeTfCheckpoint, resolveCheckpointPrefix } from '../io/tf-checkpoint.js';
export type { ReadTfCheckpointOptions, WriteTfCheckpointOptions } from '../io/tf-checkpoint.js';
export { loadMtcnnParams, readMtcnnParams, SHIPPED_MTCNN_DIR } from '../mtcnn/weights.js';
export { withFileLock } from '../util/file-lock.js';
export type { MtcnnWeightsSource } from '../mtcnn/weights.js';
export { WEIGHT_SETS, WEIGHT_SET_NAMES, DEFAULT_WEIGHTS_BASE_URL, weightSet, weightFileUrl } from '../weights/catalog.js';
export type { WeightSetName, WeightSet, WeightFile, WeightFileSource } from '../weights/catalog.js';
export { downloadWeights, resolveWeightsDir, verifyWeights, checkWeightFile, defaultCacheDir } from '../weights/download.js';
export type { DownloadWeightsOptions, DownloadProgress, DownloadResult, DownloadedFile, FileCheck, ResolveWeightsOptions } from '../weights/download.js';
export { marginBox, referenceFaceScore, resizeWeights, resizePixels, resolveCropOptions, CROP_DEFAULTS } from '../face/crop.js';
export { ARCFACE_TEMPLATE_112, ALIGN_DEFAULTS, templatePoints, estimateSimilarity, applySimilarity, invertSimilarity, alignmentTransform } from '../face/align.js';
export type { Similarity } from '../face/align.js';
export { annotateImage, annotationSvg } from '../face/annotate.js';
export type { Annotation, AnnotateOptions } from '../face/annotate.js';
export { alignDataset, listDataset, parseBoundingBoxes, formatBoundingBoxLine, BOUNDING_BOXES_FILE } from '../datasets/align.js';
export { IMAGE_EXTENSIONS, isImageFile } from '../datasets/images.js';
export { listIdentityFolders } from '../datasets/folders.js';
export type { IdentityFolder, IdentityFolders } from '../datasets/folders.js';
export type { AlignDatasetOptions, AlignDatasetSummary, AlignProgress, AlignDetectorOptions, DatasetClass, BoundingBoxRecord } from '../datasets/align.js';
export type { AlignMethod } from '../datasets/align-task.js';
export * from '../facenet/index.js';
export { builtinKernel, makeConv2DBackpropFilter, makeConv2DBackpropInput } from '../kernels/index.js';
export type { InstalledKernel } from '../kernels/index.js';
export { parseLfwPairs, lfwImageRelativePath } from '../eval/lfw-pairs.js';
export type { LfwPair, LfwPairs, LfwImageRef } from '../eval/lfw-pairs.js';
export { readLfwPairs, resolveLfwPairs } from '../eval/lfw-files.js';
export type { ResolvedLfwPair, ResolvedLfwPairs } from '../eval/lfw-files.js';
export { accuracyAtThreshold, valFarAtThreshold, thresholdAtFar, areaUnderCurve, equalErrorRate, pairDistances, embeddingMean, kFoldSplits, thresholdGrid, splitInterleaved, concatFlipped, mean, populationStd, REFERENCE_DISTANCE_METRIC } from '../eval/verification.js';
export type { FoldOptions, FoldSplit, ValFold, AccuracyAtThreshold, ValFar, EmbeddingList } from '../eval/verification.js';
export { svgToPng, reportCurve } from '../eval/roc-plot.js';
export { evaluateLfw, subsetLfwPairs } from '../eval/lfw-evaluate.js';
export type { LfwEvaluationOptions, LfwEvaluation } from '../eval/lfw-evaluate.js';
export { preprocessingKey } from '../face/embedding.js';
export { readModelPreprocessing, writeModelPreprocessing, PREPROCESSING_FILE, readModelCalibration, writeModelCalibration, CALIBRATION_FILE } from '../recognition/load.js';
export { DEFAULT_MODEL_DIR, defaultModelDir, resolveModelDir } from '../recognition/default-model.js';
export { GALLERY_METRICS, SEED_THRESHOLD_MEAN_SQUARED, SEED_THRESHOLD_SQUARED_EUCLIDEAN, thresholdFromSquaredEuclidean, distanceFromDot } from '../gallery/metric.js';
export { EmbeddingMatrix } from '../gallery/matrix.js';
export type { EmbeddingMatrixOptions, ScanBackend, ScanVisitor } from '../gallery/matrix.js';
export { checkGalleryCompatible, GALLERY_MAGIC, GALLERY_FORMAT_VERSION } from '../gallery/format.js';
export type { GalleryHeader, GalleryExpectation } from '../gallery/format.js';
export { saveGallery, loadGallery, updateGallery } from '../gallery/file.js';
export type { LoadGalleryOptions, UpdateGalleryOptions } from '../gallery/file.js';
export type { FileLockOptions } from '../util/file-lock.js';
export { FileGalleryStore } from '../gallery/file-store.js';
export { openGalleryStore, galleryStoreKind } from '../gallery/open-store.js';
export type { GalleryStoreKind } from '../gallery/open-store.js';
export { pgPoolClient, redactConnectionString } from '../gallery/sql-pg.js';
export type { PgPool, PgQueryable, PgCopyFrom, PgCopyStream } from '../gallery/sql-pg.js';
export { galleryPairs } from '../recognition/threshold.js';
export { FacePool } from '../recognition/face-pool.js';
export type { FacePoolOptions, PoolImage, PoolDetection, PoolWorkerStats } from '../recognition/face-pool.js';
export { listEnrollmentSources, enrollImages, embedEnrollment, addEnrolled, isEnrolled, enrollmentSourceKey } from '../recognition/enroll.js';
export type { EnrollSource, EnrollReport, EnrollFailure, EnrolledEmbedding, MainFaceEmbedding } from '../recognition/enroll.js';
export { HnswGalleryIndex, loadHnswlib } from '../gallery/hnsw.js';
export type { HnswOptions } from '../gallery/hnsw.js';
export * from '../train/index.js';
export { writeFileAtomic } from '../util/atomic.js';
export { readTorchFile } from '../io/torch-file.js';
export { convertPretrainedModel, CONVERSION_FILE } from '../recognition/convert.js';
export type { ConvertOptions, ConversionRecord } from '../recognition/convert.js';
export { embedAlignedFace } from '../recognition/aligned.js';
export { loadAlignedFaces, resizeFaces } from '../recognition/embedder.js';
export { buildDlibResnet, DLIB_RESNET_BLOCKS, DLIB_RESNET_INPUT_SIZE, DLIB_RESNET_DIMENSION, DLIB_MEAN_RGB } from '../teachers/dlib-resnet.js';
export type { DlibResidualBlock } from '../teachers/dlib-resnet.js';
export { dlibResnetFromFaceApi, faceApiWeightName } from '../teachers/dlib-weights.js';
export type { DlibResnetWeights, WeightQuantization } from '../teachers/dlib-weights.js';
export { DLIB_PREPROCESSING } from '../teachers/dlib-model.js';
export { DLIB_MEAN_FACE_5, FACE_CHIP_DEFAULTS, faceChipPoints } from '../face/align.js';
export { quantizeArtifacts, float16Bits } from '../facenet/quantize.js';
export type { WeightStorage } from '../facenet/quantize.js';
