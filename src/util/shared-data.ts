/**
 * Where the real weights and face data live: the directory named by the environment
 * variable `TFJS_FACENET_SHARED`, else `../shared` relative to the working directory.
 * Node only.
 */
// Namespace imports (not named ones) of Node built-ins: browser bundlers then only warn
// about this Node-only module instead of failing the build.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { FileNotFoundError } from '../errors.js';

/** The shared data directory (not checked for existence). */
export function sharedDir(): string {
  return nodePath.resolve(process.env.TFJS_FACENET_SHARED ?? '../shared');
}

/** A path inside the shared directory; throws {@link FileNotFoundError} when it is missing. */
export function sharedPath(...parts: string[]): string {
  const p = nodePath.join(sharedDir(), ...parts);
  if (!fs.existsSync(p)) {
    throw new FileNotFoundError(p, 'shared data (set TFJS_FACENET_SHARED or put it at ../shared)');
  }
  return p;
}
