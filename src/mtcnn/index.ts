/**
 * tfjs-facenet/mtcnn: the MTCNN detector's parts (davidsandberg/facenet `detect_face`,
 * exactly; or the seed's detector) — options, weights and their formats, the three networks,
 * the box math (NMS, regression, squaring, padding), the image pyramid and the OpenCV-exact
 * resampling. The detector itself (`Mtcnn`, `loadMtcnn`) is in the main entry too.
 * @packageDocumentation
 * @module tfjs-facenet/mtcnn
 */
export { Mtcnn, loadMtcnn } from './detector.js';
export { loadMtcnnFromUrl } from './load-url.js';
export type { LoadMtcnnFromUrlOptions } from './load-url.js';
export type { LoadMtcnnOptions } from './detector.js';
export { DEFAULT_OPTIONS as MTCNN_DEFAULT_OPTIONS, resolveOptions as resolveMtcnnOptions } from './pipeline-types.js';
export type { MtcnnOptions, NmsThresholds, MtcnnTimings, ResolvedOptions as ResolvedMtcnnOptions } from './pipeline-types.js';
export {
  loadMtcnnParams,
  readMtcnnParams,
  paramsFromCaffe,
  paramsFromFaceApi,
  paramsFromSeed,
  decodeFaceApiWeights,
  disposeParams as disposeMtcnnParams,
} from './weights.js';
export type { MtcnnParams, MtcnnVariant, MtcnnWeightsSource, PNetParams, PNetRunWeights, RNetParams, ONetParams, ConvPreluTrunk, ConvParams, FcParams } from './weights.js';
export { pnetForward, rnetForward, onetForward } from './networks.js';
export type { PNetOutput, RefineOutput } from './networks.js';
export { nms, bbreg, bbregPnet, rerec, fixBox, pad, generateBoundingBox } from './box.js';
export type { ScoredBox, Candidate, Regression, NmsMethod, PadResult, HeatMap } from './box.js';
export { pyramidLevels, seedPyramidLevels, powInt } from './pyramid.js';
export type { PyramidLevel } from './pyramid.js';
export { resizeArea } from '../image/resize-area.js';
export { resizeLinear } from '../image/resize-linear.js';
export type { PixelBuffer } from '../image/pixels.js';
export { argsortNumpy } from './argsort.js';
export type { Box, Point, FaceDetection } from '../face/types.js';
