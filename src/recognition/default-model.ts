/**
 * Where the package's default recognition model lives, in one place. Every tool that takes
 * a `--model DIR` falls back to it.
 *
 * The default model is the most accurate one the package ships — today dlib's
 * face-recognition ResNet — saved with `saveModel` plus its `preprocessing.json` and
 * `calibration.json`, in {@link DEFAULT_MODEL_DIR} under the package root. Node only.
 */
import { ModelNotFoundError } from '../errors.js';
import { nodeBuiltins } from '../runtime/node-platform.js';
import { packageRootSync } from '../runtime/package-root.js';

/** The default model's directory, relative to the package root. */
export const DEFAULT_MODEL_DIR = 'models/dlib';

/**
 * The package root: the nearest folder above this module whose `package.json` is named
 * `tfjs-facenet` (the same from `src/` and from the bundled `dist/`).
 */
export async function packageRoot(): Promise<string> {
  return packageRootSync();
}

/** Absolute path of the default model directory (not checked for existence). */
export async function defaultModelDir(): Promise<string> {
  const { join } = nodeBuiltins('finding the default model folder').path;
  return join(await packageRoot(), DEFAULT_MODEL_DIR);
}

/**
 * The model directory to use: `dir` when given, else the default. Checks that it holds a
 * `model.json`.
 * @returns the absolute directory path.
 * @throws {ModelNotFoundError} naming the directory when it has no model.
 */
export async function resolveModelDir(dir?: string): Promise<string> {
  const { existsSync } = nodeBuiltins('finding the default model folder').fs;
  const { join, resolve } = nodeBuiltins('finding the default model folder').path;
  const location = dir !== undefined ? resolve(dir) : await defaultModelDir();
  if (!existsSync(join(location, 'model.json'))) {
    const hint =
      dir !== undefined
        ? 'pass the directory of a model saved with saveModel (model.json + weights)'
        : `the package's own ${DEFAULT_MODEL_DIR}/ folder is missing: reinstall tfjs-facenet, or pass a model folder`;
    throw new ModelNotFoundError(location, hint);
  }
  return location;
}
