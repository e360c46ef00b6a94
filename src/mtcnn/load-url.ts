/**
 * Loading the MTCNN detector over HTTP (browser, or Node ≥ 18 with `fetch`): face-api.js's
 * weights manifest and shards, served as static files.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { DownloadError, WeightsFormatError } from '../errors.js';
import { Mtcnn, type LoadMtcnnOptions } from './detector.js';
import { decodeFaceApiWeights, disposeParams, paramsFromFaceApi } from './weights.js';

/** Options of {@link loadMtcnnFromUrl}: detector settings, plus the `fetch` to use. */
export interface LoadMtcnnFromUrlOptions extends Omit<LoadMtcnnOptions, 'weights' | 'weightsDir'> {
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

async function fetchBytes(fetchFn: typeof fetch, url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetchFn(url);
  } catch (e) {
    throw new DownloadError(url, (e as Error).message, undefined, { cause: e });
  }
  if (!res.ok) throw new DownloadError(url, `HTTP ${res.status}`, res.status);
  return res;
}

/**
 * Load the detector from face-api.js's MTCNN weights at a URL: the manifest
 * (`…/mtcnn_model-weights_manifest.json`), whose shard paths are resolved relative to it.
 *
 * ```ts
 * const mtcnn = await loadMtcnnFromUrl('/models/mtcnn/mtcnn_model-weights_manifest.json');
 * ```
 * @throws {DownloadError} when a file cannot be fetched, {WeightsFormatError} when the
 *   manifest or shards are not MTCNN weights.
 */
export async function loadMtcnnFromUrl(manifestUrl: string, opts: LoadMtcnnFromUrlOptions = {}): Promise<Mtcnn> {
  const { fetch: fetchFn = globalThis.fetch.bind(globalThis), ...detectorOptions } = opts;
  const base = typeof location !== 'undefined' ? new URL(manifestUrl, location.href) : new URL(manifestUrl);
  let manifest: tf.io.WeightsManifestConfig;
  try {
    manifest = (await (await fetchBytes(fetchFn, base.href)).json()) as tf.io.WeightsManifestConfig;
  } catch (e) {
    if (e instanceof DownloadError) throw e;
    throw new WeightsFormatError(base.href, `not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(manifest)) throw new WeightsFormatError(base.href, 'expected an array of weight groups');
  const shards = await Promise.all(
    manifest
      .flatMap((g) => g.paths)
      .map(async (p) => new Uint8Array(await (await fetchBytes(fetchFn, new URL(p, base).href)).arrayBuffer())),
  );
  const params = paramsFromFaceApi(decodeFaceApiWeights(manifest, shards, base.href), base.href);
  try {
    return new Mtcnn(params, detectorOptions);
  } catch (e) {
    disposeParams(params);
    throw e;
  }
}
