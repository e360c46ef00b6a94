/**
 * Loading a FaceNet embedder over HTTP (browser, or Node with `fetch`): a model directory
 * served as static files — `model.json`, its weights, and `preprocessing.json`.
 */
import { DownloadError, ModelNotFoundError, WeightsFormatError } from '../errors.js';
import { loadModel, MODEL_JSON } from '../facenet/model-io.js';
import { FacenetEmbedder, type FaceDetector, type FacenetEmbedderOptions } from './embedder.js';
import { CALIBRATION_FILE, PREPROCESSING_FILE } from './load.js';
import type { ModelCalibration, Preprocessing } from '../face/embedding.js';

/** Options of {@link loadFacenetEmbedderFromUrl}. */
export interface LoadEmbedderFromUrlOptions {
  /** URL of the model directory (`…/recognition/`) or of its `model.json`; relative URLs resolve against the page. */
  modelUrl: string;
  /** Face detector, e.g. from `loadMtcnnFromUrl`. */
  detector: FaceDetector;
  /** Preprocessing overrides; fields not given come from the served `preprocessing.json`, then the defaults. */
  preprocessing?: Partial<Preprocessing>;
  batchSize?: FacenetEmbedderOptions['batchSize'];
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** The absolute URL of a model's `model.json`. */
function modelJsonUrl(modelUrl: string): URL {
  const base = typeof location !== 'undefined' ? location.href : undefined;
  const url = new URL(modelUrl, base);
  if (!url.pathname.endsWith(`/${MODEL_JSON}`)) {
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    url.pathname += MODEL_JSON;
  }
  return url;
}

/**
 * Load a served model directory as an embedder.
 * @throws {ModelNotFoundError} when there is no `model.json` at the URL,
 *   {WeightsFormatError} for an unreadable model or preprocessing record,
 *   {DownloadError} when the server cannot be reached.
 */
export async function loadFacenetEmbedderFromUrl(opts: LoadEmbedderFromUrlOptions): Promise<FacenetEmbedder> {
  const fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const jsonUrl = modelJsonUrl(opts.modelUrl);
  const preprocessingUrl = new URL(PREPROCESSING_FILE, jsonUrl).href;
  let probe: Response;
  try {
    probe = await fetchFn(jsonUrl.href, { method: 'HEAD' });
  } catch (e) {
    throw new DownloadError(jsonUrl.href, (e as Error).message, undefined, { cause: e });
  }
  if (probe.status === 404) throw new ModelNotFoundError(jsonUrl.href);
  let model;
  try {
    model = await loadModel(jsonUrl.href);
  } catch (e) {
    throw new WeightsFormatError(jsonUrl.href, (e as Error).message, { cause: e });
  }
  let recorded: Partial<Preprocessing> | undefined;
  const res = await fetchFn(preprocessingUrl);
  if (res.ok) {
    try {
      recorded = (await res.json()) as Partial<Preprocessing>;
    } catch (e) {
      model.dispose();
      throw new WeightsFormatError(preprocessingUrl, `unreadable preprocessing record: ${(e as Error).message}`, { cause: e });
    }
  }
  let calibration: ModelCalibration | undefined;
  const calibrationUrl = new URL(CALIBRATION_FILE, jsonUrl).href;
  const cal = await fetchFn(calibrationUrl);
  if (cal.ok) {
    try {
      calibration = (await cal.json()) as ModelCalibration;
    } catch (e) {
      model.dispose();
      throw new WeightsFormatError(calibrationUrl, `unreadable calibration record: ${(e as Error).message}`, { cause: e });
    }
  }
  try {
    return await FacenetEmbedder.create({
      model,
      detector: opts.detector,
      calibration,
      preprocessing: { ...recorded, ...opts.preprocessing },
      batchSize: opts.batchSize,
      owned: [model],
    });
  } catch (e) {
    model.dispose();
    throw e;
  }
}
