/**
 * Which recognition model an example uses: `--model DIR` when given, else the package's
 * default model — or, when that is not installed and the caller allows it, the untrained
 * placeholder (see placeholder-model.ts), with a warning.
 */
import { resolve } from 'node:path';
import { ModelNotFoundError, resolveModelDir } from 'tfjs-facenet/node';
import { writePlaceholderModel } from './placeholder-model.js';

/** Where the placeholder model is written when needed (inside the git-ignored `out/`). */
export const PLACEHOLDER_MODEL_DIR = 'out/placeholder-model';

export interface ExampleModelOptions {
  /** A model directory; when given it must exist. Default: the package's default model. */
  model?: string;
  /** Use the placeholder when the default model is not installed. Default false. */
  placeholderIfMissing?: boolean;
  /** Where to write the placeholder. Default {@link PLACEHOLDER_MODEL_DIR}. */
  placeholderDir?: string;
  /** Where warnings go. Default: stderr. */
  warn?: (message: string) => void;
}

export interface ExampleModel {
  /** Absolute model directory. */
  dir: string;
  /** True when this is the untrained placeholder. */
  placeholder: boolean;
}

/**
 * Resolve the model directory.
 * @throws {ModelNotFoundError} when `model` has no model, or the default is missing and
 *   the placeholder is not allowed.
 */
export async function exampleModel(opts: ExampleModelOptions = {}): Promise<ExampleModel> {
  if (opts.model !== undefined) return { dir: await resolveModelDir(opts.model), placeholder: false };
  try {
    return { dir: await resolveModelDir(), placeholder: false };
  } catch (e) {
    if (!(e instanceof ModelNotFoundError) || !opts.placeholderIfMissing) throw e;
    const warn = opts.warn ?? ((m: string) => process.stderr.write(`${m}\n`));
    const dir = resolve(opts.placeholderDir ?? PLACEHOLDER_MODEL_DIR);
    warn(`warning: ${e.message}\nwarning: using an UNTRAINED placeholder model in ${dir}: it only names faces whose exact picture was enrolled`);
    return { dir: await writePlaceholderModel(dir), placeholder: true };
  }
}
