/**
 * Recognition models by name, and the one loader of any model: a shipped one by name, a
 * model folder (Node), or a served model URL (browser, or Node with `fetch`). A "model"
 * here is a loadable recognizer: `model.json` + weights + `preprocessing.json`.
 *
 * The registry is where a shipped model says what it is; a model added to the package gets
 * an entry here (and its folder under the package root).
 */
import { ConfigError } from '../errors.js';
import { nodeBuiltins } from '../runtime/node-platform.js';
import { packageRoot, resolveModelDir } from './default-model.js';
import { RECOGNITION_MODELS } from './model-registry.js';
import type { FacenetEmbedder } from './embedder.js';
import { loadFacenetEmbedder, type LoadEmbedderOptions } from './load.js';
import { loadFacenetEmbedderFromUrl } from './load-url.js';

export { RECOGNITION_MODELS, type ShippedModel } from './model-registry.js';

/**
 * The folder of a model on disk (Node): a shipped model's name ({@link RECOGNITION_MODELS},
 * found inside the package from any working directory; default `'default'`) or a folder path.
 * @returns the absolute folder, which holds a `model.json`.
 * @throws {ModelNotFoundError} when it holds no model.
 */
export async function modelFolder(source = 'default'): Promise<string> {
  const shipped = Object.hasOwn(RECOGNITION_MODELS, source) ? RECOGNITION_MODELS[source] : undefined;
  if (!shipped) return resolveModelDir(source);
  return resolveModelDir(nodeBuiltins(`loading the shipped model "${source}"`).path.join(await packageRoot(), shipped.dir));
}

/** Options of {@link loadEmbedder}: those of the folder loader, plus the `fetch` used for URLs. */
export interface LoadEmbedderByNameOptions extends Omit<LoadEmbedderOptions, 'modelDir'> {
  /** For a URL source. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

const isUrl = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

/**
 * Load a recognition model as an embedder. `source` is the name of a shipped model
 * ({@link RECOGNITION_MODELS}; default `'default'`), a model folder (Node), or the URL of a
 * served model folder (then `detector` is required, e.g. from `loadMtcnnFromUrl`).
 * `embedder.dispose()` releases what was loaded here.
 *
 * @throws {ModelNotFoundError} for a folder or URL without a model; {ConfigError} for a URL
 *   without a detector; {NodeOnlyError} for a name or folder outside Node.
 */
export async function loadEmbedder(source = 'default', opts: LoadEmbedderByNameOptions = {}): Promise<FacenetEmbedder> {
  const { fetch: fetchFn, ...folderOptions } = opts;
  if (isUrl(source)) {
    if (!opts.detector) {
      throw new ConfigError('detector', `loading a model from a URL (${source}) needs a face detector, e.g. await loadMtcnnFromUrl(…)`);
    }
    return loadFacenetEmbedderFromUrl({ ...folderOptions, detector: opts.detector, modelUrl: source, fetch: fetchFn });
  }
  const modelDir = await modelFolder(source);
  return loadFacenetEmbedder({ ...folderOptions, modelDir });
}
