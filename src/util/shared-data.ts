/**
 * Where the real weights and face data live: the directory named by the environment
 * variable `TFJS_FACENET_SHARED`, else `../shared` relative to the working directory.
 * Node only.
 */
import { FileNotFoundError } from '../errors.js';
import { nodeBuiltins } from '../runtime/node-platform.js';

/** The shared data directory (not checked for existence). */
export function sharedDir(): string {
  return nodeBuiltins('finding the shared data folder').path.resolve(process.env.TFJS_FACENET_SHARED ?? '../shared');
}

/** A path inside the shared directory; throws {@link FileNotFoundError} when it is missing. */
export function sharedPath(...parts: string[]): string {
  const { fs, path } = nodeBuiltins('finding the shared data folder');
  const p = path.join(sharedDir(), ...parts);
  if (!fs.existsSync(p)) {
    throw new FileNotFoundError(p, 'shared data (set TFJS_FACENET_SHARED or put it at ../shared)');
  }
  return p;
}
